using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lanes.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Lanes.Routing;

/// <summary>
/// Reports what the subset engine decided, the same way for the gateway, HTTP client routing and gRPC balancing
/// (docs/behaviour.md, "Metrics"): the <c>lanes.routed</c> counter, an event on the current <see cref="Activity"/> when a tracer records
/// it (sampled, all data requested), and log events for a
/// fallback (Debug) and for no healthy upstream (Warning). Also bounds lane values for metric attributes. Registered
/// by <c>services.AddLanes()</c>.
/// </summary>
public sealed class LaneTelemetry
{
    /// <summary>The name of the Activity event a routing decision adds.</summary>
    public const string RoutedEventName = "lane.routed";

    /// <summary>
    /// One "no healthy upstream" line per service and lane per minute: enough to see the problem and, through the
    /// count of lines held back, its rate, without a line per request when a client sends an unserved lane.
    /// </summary>
    internal static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private readonly LanesMetrics _metrics;
    private readonly ILogger _logger;
    private readonly LogThrottle _noUpstreamWarnings;

    internal LaneTelemetry(LanesMetrics metrics, ILogger logger, TimeProvider time)
    {
        _metrics = metrics;
        _logger = logger;
        _noUpstreamWarnings = new LogThrottle(time, WarningInterval);
    }

    /// <summary>
    /// The <c>Lanes</c> meter this application's instruments are on: created by its <see cref="IMeterFactory"/> when it
    /// has one, else its own. An in-process reader (a <see cref="MeterListener"/>) compares instruments' meter with it
    /// to read this application's measurements only, never another host's in the same process.
    /// </summary>
    public Meter Meter => _metrics.Meter;

    /// <summary>
    /// The value to report <paramref name="lane"/> under in a metric attribute: the lane itself when the configuration names
    /// it (<c>KnownLanes</c>, the default lane, lanes kept by <see cref="KeepMetricLanes"/>) or, without <c>KnownLanes</c>, when it
    /// holds one of 100 shared slots (a slot idle for 10 minutes goes to the next new lane); else
    /// <see cref="LanesDiagnostics.OtherLane"/>, so client input can neither grow the number of series nor take a configured lane's.
    /// </summary>
    public string MetricLane(string lane)
    {
        ArgumentNullException.ThrowIfNull(lane);
        return _metrics.LaneTags.Get(lane);
    }

    /// <summary>
    /// Keeps the lanes <paramref name="owner"/> names (a routed service: the lanes it declares or has instances of; the
    /// gateway: its colouring lanes) in their own metric tag, however many other lanes clients send. Each call replaces
    /// what <paramref name="owner"/> kept before; an empty set releases it. Routing calls this whenever it rebuilds a
    /// service's subsets (<see cref="LaneSubsets{T}.Lanes"/>).
    /// </summary>
    public void KeepMetricLanes(string owner, IEnumerable<string> lanes)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(lanes);
        _metrics.LaneTags.Reserve(owner, lanes);
    }

    /// <summary>Records one routing decision for <paramref name="service"/> (a cluster or a client-routed service) and a call of <paramref name="lane"/>.</summary>
    public void Routed<T>(string service, string? lane, LaneChoice<T> choice)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(choice);
        _metrics.Routed(service, choice.LaneTag, choice.Outcome, choice.Reason);
        var activity = Activity.Current;
        if (activity is { IsAllDataRequested: true, Recorded: true })
        {
            var tags = new ActivityTagsCollection
            {
                { LanesDiagnostics.RoutingServiceAttribute, service },
                { LanesDiagnostics.RoutingOutcomeAttribute, LaneRoutingNames.Get(choice.Outcome) },
            };
            if (lane is not null)
            {
                tags.Add(LanesDiagnostics.LaneAttribute, lane);
            }

            if (LaneRoutingNames.Get(choice.Reason) is { } reason)
            {
                tags.Add(LanesDiagnostics.RoutingReasonAttribute, reason);
            }

            if (choice.Served is not null)
            {
                tags.Add(LanesDiagnostics.RoutingServedAttribute, choice.Served);
            }

            activity.AddEvent(new ActivityEvent(RoutedEventName, tags: tags));
        }

        switch (choice.Outcome)
        {
            case LaneRoutingOutcome.Fallback when _logger.IsEnabled(LogLevel.Debug):
#pragma warning disable CA1873 // Guarded by the IsEnabled check above.
                LaneRoutingLog.FellBack(_logger, service, lane ?? "(none)", choice.Served ?? "-", LaneRoutingNames.Get(choice.Reason) ?? "-");
#pragma warning restore CA1873
                break;
            case LaneRoutingOutcome.NoUpstream when _logger.IsEnabled(LogLevel.Warning):
                if (_noUpstreamWarnings.TryEnter(string.Concat(service, "\n", lane), out var heldBack))
                {
                    LaneRoutingLog.NoHealthyUpstream(_logger, service, lane ?? "(none)", choice.Policy.ToString(), heldBack);
                }

                break;
        }
    }
}

/// <summary>Log events of routing decisions (all packages report through <see cref="LaneTelemetry"/>).</summary>
internal static partial class LaneRoutingLog
{
    /// <remarks>Lanes in these messages were validated (only <c>A-Z a-z 0-9 . _ -</c>).</remarks>
    [LoggerMessage(EventId = 30, EventName = "RoutingFellBack", Level = LogLevel.Debug,
        Message = "Routed a call of lane '{Lane}' for '{Service}' to subset '{Served}': fallback ({Reason}).")]
    public static partial void FellBack(ILogger logger, string service, string lane, string served, string reason);

    [LoggerMessage(EventId = 31, EventName = "NoHealthyUpstream", Level = LogLevel.Warning,
        Message = "No healthy upstream for '{Service}' and lane '{Lane}' (policy {Policy}): answered locally; {HeldBack} more like it since the last such line (one a minute per service and lane).")]
    public static partial void NoHealthyUpstream(ILogger logger, string service, string lane, string policy, int heldBack);
}
