using Microsoft.Extensions.Logging;

namespace Lanes.Http.Routing;

/// <summary>Log events of client-side HTTP lane routing (fallbacks and local 503s are <c>LaneTelemetry</c>'s).</summary>
internal static partial class LaneHttpLog
{
    [LoggerMessage(EventId = 201, EventName = "InstanceEjected", Level = LogLevel.Warning,
        Message = "Took instance '{Instance}' (lane {Lane}) of '{Service}' out for {Period} after a connection failure.")]
    public static partial void InstanceEjected(ILogger logger, string service, string instance, string lane, TimeSpan period);

    [LoggerMessage(EventId = 202, EventName = "InstanceReadmitted", Level = LogLevel.Information,
        Message = "Instance '{Instance}' of '{Service}' is back in routing: its passive health period ended.")]
    public static partial void InstanceReadmitted(ILogger logger, string service, string instance);
}
