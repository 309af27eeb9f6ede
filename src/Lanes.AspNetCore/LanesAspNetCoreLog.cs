using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore;

/// <summary>Log events of the ASP.NET Core middleware, ids 600 and up.</summary>
internal static partial class LanesAspNetCoreLog
{
    /// <remarks>Every value is configuration: header names and a validated default lane.</remarks>
    [LoggerMessage(EventId = 601, EventName = "LaneSettingsInForce", Level = LogLevel.Information,
        Message = "Lanes: this service reads the lane from '{Header}' (aliases: {Aliases}; baggage key: {BaggageKey}), default lane {DefaultLane}. Set Lanes:Preset (mspider, nsf), Lanes:Header or Lanes:DefaultLane to change them; the gateway and every service must agree.")]
    public static partial void SettingsInForce(ILogger logger, string header, string aliases, string baggageKey, string defaultLane);
}
