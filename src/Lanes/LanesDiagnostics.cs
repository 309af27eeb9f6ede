namespace Lanes;

/// <summary>
/// Names Lanes reports under (docs/behaviour.md, "Metrics"): the <c>Lanes</c> Meter, its instruments and their attributes. Attribute names
/// follow OpenTelemetry's naming rules: lower case, dot-separated namespaces under <c>lane.</c>, no name that is both
/// an attribute and a namespace, snake_case values. For OpenTelemetry: <c>metrics.AddMeter(LanesDiagnostics.MeterName)</c>.
/// </summary>
/// <remarks>
/// The server Activity of a request keeps the tags of `docs/behaviour.md`, "Metrics": <see cref="LaneContext.ActivityLaneTag"/> and
/// <see cref="LaneContext.ActivityLaneSourceTag"/>. Before 0.1.0 the metric attributes were <c>lane</c>, <c>cluster</c>,
/// <c>outcome</c> and <c>reason</c> (with kebab-case fallback reasons); see the README's metrics table for the rename.
/// </remarks>
public static class LanesDiagnostics
{
    /// <summary>The Meter name: <c>Lanes</c>.</summary>
    public const string MeterName = "Lanes";

    /// <summary>Counter of inbound requests and messages, attributes <see cref="LaneAttribute"/> (when there is a lane) and <see cref="LaneSourceAttribute"/>.</summary>
    public const string InboundInstrument = "lanes.inbound";

    /// <summary>Counter of invalid lane values, attributes <see cref="LaneSourceAttribute"/> (where the value was) and <see cref="InvalidReasonAttribute"/>.</summary>
    public const string InvalidInstrument = "lanes.invalid";

    /// <summary>
    /// Counter of client lanes refused by a policy, attribute <see cref="RejectionReasonAttribute"/>: requests answered 400
    /// (<c>invalid-value</c>, <c>unknown-lane</c>, <c>missing</c>), and lanes a gateway dropped without refusing the request
    /// (<c>undeclared</c>, under <c>Lanes:Trust</c> <c>AcceptDeclared</c>).
    /// </summary>
    public const string RejectedInstrument = "lanes.rejected";

    /// <summary>
    /// Counter: inbound requests and messages where a configured carrier held another lane than the one that won
    /// (docs/polyglot.md), by <see cref="LaneSourceAttribute"/> (the winner) and <see cref="LaneCarrierAttribute"/> (the one that disagreed).
    /// </summary>
    public const string CarrierConflictsInstrument = "lanes.carrier.conflicts";

    /// <summary>Tag: a carrier, as <c>Lanes:Propagators</c> names it (<c>baggage</c>, <c>tracecontext</c>, <c>jaeger</c>, <c>ottrace</c>).</summary>
    public const string LaneCarrierAttribute = "lane.carrier";

    /// <summary>
    /// Counter of routing decisions (gateway and client-side routing), attributes <see cref="RoutingServiceAttribute"/>,
    /// <see cref="LaneAttribute"/> (when there is a lane; lanes the service neither declares nor has instances of are
    /// <see cref="OtherLane"/>), <see cref="RoutingOutcomeAttribute"/> (<c>matched</c>, <c>fallback</c>, <c>no-upstream</c>)
    /// and, for the last two, <see cref="RoutingReasonAttribute"/> (<c>no-lane</c>, <c>lane-unavailable</c>, <c>lane-undeclared</c>).
    /// </summary>
    public const string RoutedInstrument = "lanes.routed";

    /// <summary>
    /// Counter of failed attempts that failover looked at (docs/behaviour.md, "Failover"), attributes
    /// <see cref="RoutingServiceAttribute"/>, <see cref="LaneAttribute"/> (bounded), <see cref="RetryReasonAttribute"/> and
    /// <see cref="RetryOutcomeAttribute"/>: <c>retried</c>, or why not (<c>not-idempotent</c>, <c>body-not-buffered</c>,
    /// <c>retries-exhausted</c>, <c>lane-exhausted</c>, <c>budget-exhausted</c>).
    /// </summary>
    public const string RetriesInstrument = "lanes.retries";

    /// <summary>
    /// Counter of requests a colouring rule of the gateway's entry gave a lane (docs/behaviour.md, "Gateway"), attributes
    /// <see cref="ColouringRuleAttribute"/> (the rule's index in <c>Lanes:Colouring</c>) and <see cref="LaneAttribute"/> (the rule's lane).
    /// </summary>
    public const string ColouredInstrument = "lanes.coloured";

    /// <summary>The index of the colouring rule in <c>Lanes:Colouring</c>.</summary>
    public const string ColouringRuleAttribute = "lane.rule";

    /// <summary>Counter of instances taken out of their subset, attributes <see cref="RoutingServiceAttribute"/>, <see cref="LaneAttribute"/> (the instance's lane, bounded) and <see cref="RetryReasonAttribute"/>.</summary>
    public const string EjectionsInstrument = "lanes.ejections";

    /// <summary>Why an attempt failed: <c>connect-failure</c>, <c>refused-stream</c>, <c>reset</c>, <c>timeout</c>, and for ejections also <c>consecutive-failures</c>.</summary>
    public const string RetryReasonAttribute = "lane.retry.reason";

    /// <summary>Counter of requests a gateway mirrored into a shadow lane and compared, attributes <see cref="RoutingServiceAttribute"/> (the cluster) and <see cref="LaneAttribute"/> (the shadow lane).</summary>
    public const string ShadowMirroredInstrument = "lanes.shadow.mirrored";

    /// <summary>
    /// Counter of shadow copies not sent or not compared, attributes <see cref="RoutingServiceAttribute"/>, <see cref="LaneAttribute"/>
    /// and <see cref="ShadowReasonAttribute"/> (<c>body</c>, <c>concurrency</c>, <c>no-instance</c>, <c>timeout</c>, <c>error</c>, <c>primary-failed</c>).
    /// </summary>
    public const string ShadowDroppedInstrument = "lanes.shadow.dropped";

    /// <summary>
    /// Counter of mirrored requests whose shadow answer differed from the primary's (noise excluded), attributes
    /// <see cref="RoutingServiceAttribute"/>, <see cref="LaneAttribute"/> and <see cref="ShadowReasonAttribute"/> (<c>status</c>, <c>header</c>, <c>body</c>).
    /// </summary>
    public const string ShadowDifferingInstrument = "lanes.shadow.differing";

    /// <summary>Why a shadow copy was dropped, or what differed (see the shadow instruments).</summary>
    public const string ShadowReasonAttribute = "lane.shadow.reason";

    /// <summary>What failover did with a failed attempt: <c>retried</c>, <c>not-idempotent</c>, <c>body-not-buffered</c>, <c>retries-exhausted</c>, <c>lane-exhausted</c>, <c>budget-exhausted</c>.</summary>
    public const string RetryOutcomeAttribute = "lane.retry.outcome";

    /// <summary>The lane (bounded: see <see cref="OtherLane"/>). Also added to ASP.NET Core's <c>http.server.request.duration</c> and HttpClient's <c>http.client.request.duration</c>.</summary>
    public const string LaneAttribute = "lane.name";

    /// <summary>Where the lane came from: <c>header</c>, <c>alias</c>, <c>baggage</c>, <c>trace_cache</c>, <c>default</c>, <c>scope</c>, <c>colouring</c>, <c>none</c>.</summary>
    public const string LaneSourceAttribute = "lane.source";

    /// <summary>Why a lane value was invalid: <c>empty</c>, <c>too-long</c>, <c>invalid-character</c>, <c>ambiguous</c>.</summary>
    public const string InvalidReasonAttribute = "lane.invalid.reason";

    /// <summary>Why a lane was refused: <c>invalid-value</c>, <c>unknown-lane</c>, <c>missing</c> (answered 400), <c>undeclared</c> (dropped at a gateway).</summary>
    public const string RejectionReasonAttribute = "lane.rejection.reason";

    /// <summary>The cluster or client-routed service a routing decision was made for.</summary>
    public const string RoutingServiceAttribute = "lane.routing.service";

    /// <summary>A routing outcome: <c>matched</c>, <c>fallback</c>, <c>no-upstream</c>.</summary>
    public const string RoutingOutcomeAttribute = "lane.routing.outcome";

    /// <summary>Why a decision was not the request's own lane: <c>no-lane</c>, <c>lane-unavailable</c>, <c>lane-undeclared</c>.</summary>
    public const string RoutingReasonAttribute = "lane.routing.reason";

    /// <summary>The subset that served (on the Activity event only): a lane, <c>(unlabelled)</c> or <c>(all)</c>.</summary>
    public const string RoutingServedAttribute = "lane.routing.served";

    /// <summary>The value of <see cref="LaneAttribute"/> for a lane outside the known set.</summary>
    public const string OtherLane = "other";

    /// <summary>The <see cref="LaneSourceAttribute"/> value of <paramref name="source"/> (<c>header</c>, <c>alias</c>, <c>baggage</c>, <c>trace_cache</c>, <c>colouring</c>, <c>default</c>, <c>scope</c>, <c>none</c>), also used by logs and the admin page.</summary>
    public static string GetSourceName(LaneSource source) => Diagnostics.LaneSourceNames.Get(source);
}
