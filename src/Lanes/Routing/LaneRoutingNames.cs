namespace Lanes.Routing;

/// <summary>The wire names of routing outcomes and fallback reasons, shared by debug headers, metrics and the admin endpoint.</summary>
public static class LaneRoutingNames
{
    /// <summary>The title of every "nothing can serve this" answer (Envoy's wording): gateway 503, client 503, gRPC <c>Unavailable</c>.</summary>
    public const string NoHealthyUpstream = "no healthy upstream";

    /// <summary>The one detail text of that answer, naming the service (cluster), the lane (a validated value) and the policy.</summary>
    public static string NoHealthyUpstreamDetail(string service, string? lane, LanePolicy policy) => lane is null
        ? $"No healthy instance of '{service}' can serve a request without a lane (policy {policy})."
        : $"No healthy instance of '{service}' can serve lane '{lane}' (policy {policy}).";

    /// <summary>The name of an outcome: <c>matched</c>, <c>fallback</c>, <c>no_upstream</c>.</summary>
    public static string Get(LaneRoutingOutcome outcome) => outcome switch
    {
        LaneRoutingOutcome.Matched => "matched",
        LaneRoutingOutcome.Fallback => "fallback",
        _ => "no_upstream",
    };

    /// <summary>The metric attribute value of a reason (<c>no_lane</c>, <c>lane_unavailable</c>, <c>lane_undeclared</c>); <see langword="null"/> for <see cref="LaneFallbackReason.None"/>.</summary>
    public static string? GetMetricName(LaneFallbackReason reason) => reason switch
    {
        LaneFallbackReason.NoLane => "no_lane",
        LaneFallbackReason.LaneUnavailable => "lane_unavailable",
        LaneFallbackReason.LaneUndeclared => "lane_undeclared",
        _ => null,
    };

    /// <summary>The <c>x-lane-fallback</c> header value (docs/behaviour.md, "Subset selection": <c>no-lane</c>, <c>lane-unavailable</c>, <c>lane-undeclared</c>); <see langword="null"/> for <see cref="LaneFallbackReason.None"/>.</summary>
    public static string? Get(LaneFallbackReason reason) => reason switch
    {
        LaneFallbackReason.NoLane => "no-lane",
        LaneFallbackReason.LaneUnavailable => "lane-unavailable",
        LaneFallbackReason.LaneUndeclared => "lane-undeclared",
        _ => null,
    };
}
