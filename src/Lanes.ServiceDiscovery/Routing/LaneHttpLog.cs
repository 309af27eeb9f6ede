using Microsoft.Extensions.Logging;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>Log events of client-side HTTP lane routing (fallbacks and local 503s are <c>LaneTelemetry</c>'s).</summary>
internal static partial class LaneHttpLog
{
    [LoggerMessage(EventId = 201, EventName = "InstanceEjected", Level = LogLevel.Warning,
        Message = "Took instance '{Instance}' (lane {Lane}) of '{Service}' out for {Period} ({Reason}).")]
    public static partial void InstanceEjected(ILogger logger, string service, string instance, string lane, TimeSpan period, string reason);

    [LoggerMessage(EventId = 204, EventName = "NotRetried", Level = LogLevel.Information,
        Message = "Call {Method} to '{Service}' (lane {Lane}) failed before any response ({Reason}) and was not retried: {Outcome}.")]
    public static partial void NotRetried(ILogger logger, string method, string service, string lane, string reason, string outcome);

    /// <remarks>The service name is the client's configured host name.</remarks>
    [LoggerMessage(EventId = 203, EventName = "ServiceWithoutLanes", Level = LogLevel.Warning,
        Message = "Calls to '{Service}' carry lanes, but none of its instances has one, so every lane is served by all of them. Its endpoints come from service discovery without lanes (such as Services:{Service}:http from an Aspire AppHost): list its instances with their lanes under Lanes:Services:{Service} (an instance address may be a discovery name, such as http://{Service}-yellow), or label them with WithLane in the provider. Logged once per service.")]
    public static partial void ServiceWithoutLanes(ILogger logger, string service);

    [LoggerMessage(EventId = 202, EventName = "InstanceReadmitted", Level = LogLevel.Information,
        Message = "Instance '{Instance}' of '{Service}' is back in routing: its passive health period ended.")]
    public static partial void InstanceReadmitted(ILogger logger, string service, string instance);

    [LoggerMessage(EventId = 205, EventName = "ShadowCopyRefused", Level = LogLevel.Debug,
        Message = "A shadow copy to '{Service}' in lane '{Lane}' was answered 503: the lane has no healthy instance of its own, and a shadow copy is never sent to another lane's instances.")]
    public static partial void ShadowRefused(ILogger logger, string service, string lane);
}
