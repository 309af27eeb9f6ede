namespace Lanes;

/// <summary>
/// Names Lanes reports under (DESIGN 5): the <c>Lanes</c> Meter, its instruments and the tag names used on the
/// server Activity, in metrics and in the logging scope. For OpenTelemetry: <c>metrics.AddMeter(LanesDiagnostics.MeterName)</c>.
/// </summary>
public static class LanesDiagnostics
{
    /// <summary>The Meter name: <c>Lanes</c>.</summary>
    public const string MeterName = "Lanes";

    /// <summary>Counter of inbound requests and messages, tagged <c>lane</c> (when there is one) and <c>lane.source</c>.</summary>
    public const string InboundInstrument = "lanes.inbound";

    /// <summary>Counter of invalid lane values, tagged <c>lane.source</c> (where the value was) and <c>reason</c>.</summary>
    public const string InvalidInstrument = "lanes.invalid";

    /// <summary>Counter of requests rejected by a policy, tagged <c>reason</c>.</summary>
    public const string RejectedInstrument = "lanes.rejected";

    /// <summary>
    /// Counter of routing decisions (gateway and client-side routing), tagged <c>cluster</c>, <c>lane</c> (when there
    /// is one; lanes the cluster neither declares nor has instances of are <see cref="OtherLane"/>), <c>outcome</c>
    /// (<c>matched</c>, <c>fallback</c>, <c>no_upstream</c>) and, for the last two, <c>reason</c>
    /// (<c>no-lane</c>, <c>lane-unavailable</c>, <c>lane-undeclared</c>).
    /// </summary>
    public const string RoutedInstrument = "lanes.routed";

    /// <summary>Tag holding the cluster (service) a routing decision was made for.</summary>
    public const string ClusterTag = "cluster";

    /// <summary>Tag holding a routing outcome.</summary>
    public const string OutcomeTag = "outcome";

    /// <summary>Tag holding the lane. In metrics, lanes outside the known set are reported as <see cref="OtherLane"/>.</summary>
    public const string LaneTag = "lane";

    /// <summary>Tag holding where the lane came from: <c>header</c>, <c>alias</c>, <c>baggage</c>, <c>trace_cache</c>, <c>default</c>, <c>scope</c>, <c>colouring</c>, <c>none</c>.</summary>
    public const string LaneSourceTag = "lane.source";

    /// <summary>Tag holding why a value was invalid or a request rejected.</summary>
    public const string ReasonTag = "reason";

    /// <summary>The metric tag value of a lane outside the known set.</summary>
    public const string OtherLane = "other";
}
