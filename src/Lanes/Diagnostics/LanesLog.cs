using Lanes.Parsing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.Diagnostics;

/// <summary>
/// Source-generated log messages of the core package. Event ids are stable. Untrusted values are escaped
/// and cut (<see cref="LaneParser.Escape"/>) before they reach a log line, and only when the level is enabled.
/// </summary>
internal static partial class LanesLog
{
    public static void InvalidLaneValue(ILogger logger, string header, LaneParseStatus status, int maxLength, StringValues values)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
#pragma warning disable CA1873 // Guarded by the IsEnabled check above.
            InvalidLaneValueCore(logger, header, LaneParser.Describe(status, maxLength), LaneParser.Escape(values));
#pragma warning restore CA1873
        }
    }

    [LoggerMessage(EventId = 1, EventName = "InvalidLaneValue", Level = LogLevel.Debug, SkipEnabledCheck = true,
        Message = "Ignored an invalid lane in header '{Header}' ({Reason}): \"{EscapedValue}\"")]
    private static partial void InvalidLaneValueCore(ILogger logger, string header, string reason, string escapedValue);

    /// <remarks>The lane was validated by the parser: it holds only <c>A-Z a-z 0-9 . _ -</c>.</remarks>
    [LoggerMessage(EventId = 2, EventName = "UnknownLane", Level = LogLevel.Debug,
        Message = "Lane '{Lane}' is not a known lane: {Action}")]
    public static partial void UnknownLane(ILogger logger, string lane, string action);

    [LoggerMessage(EventId = 3, EventName = "LaneRejected", Level = LogLevel.Debug,
        Message = "Lane input rejected by policy: {Rejection}")]
    public static partial void LaneRejected(ILogger logger, LaneRejection rejection);

    [LoggerMessage(EventId = 4, EventName = "InvalidLaneNotInjected", Level = LogLevel.Debug,
        Message = "An invalid lane was not injected into a carrier: \"{EscapedValue}\"")]
    public static partial void InvalidLaneNotInjected(ILogger logger, string escapedValue);

    /// <remarks>The lane was validated before it was cached.</remarks>
    [LoggerMessage(EventId = 5, EventName = "LaneFromTraceCache", Level = LogLevel.Debug,
        Message = "Restored lane '{Lane}' from the trace cache (the request carried no lane, its trace id was seen with one)")]
    public static partial void LaneFromTraceCache(ILogger logger, string lane);

    /// <remarks>Both names are configuration or built-in header names, never request data.</remarks>
    [LoggerMessage(EventId = 6, EventName = "ForeignPresetHeader", Level = LogLevel.Warning,
        Message = "A request carries '{Header}', the lane header of the '{Preset}' preset, but this service reads the lane from '{Configured}', so that lane is ignored here. Configure the same header at the gateway and in every service: Lanes:Preset '{Preset}' (or Lanes:Header). Logged once per header.")]
    public static partial void ForeignPresetHeader(ILogger logger, string header, string preset, string configured);

    /// <remarks>Both lanes were validated by the parser; the carriers are fixed names.</remarks>
    [LoggerMessage(EventId = 7, EventName = "CarrierConflict", Level = LogLevel.Debug,
        Message = "Lane '{Lane}' from {Source} wins; carrier {Carrier} held lane '{Other}', which is ignored")]
    public static partial void CarrierConflict(ILogger logger, string lane, string source, string carrier, string other);
}
