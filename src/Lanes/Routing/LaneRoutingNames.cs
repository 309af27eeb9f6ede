namespace Lanes.Routing;

/// <summary>The wire names of routing outcomes and fallback reasons, shared by debug headers, metrics and the admin endpoint.</summary>
internal static class LaneRoutingNames
{
    public static string Get(LaneRoutingOutcome outcome) => outcome switch
    {
        LaneRoutingOutcome.Matched => "matched",
        LaneRoutingOutcome.Fallback => "fallback",
        _ => "no_upstream",
    };

    /// <summary>The <c>x-lane-fallback</c> value; <see langword="null"/> for <see cref="LaneFallbackReason.None"/>.</summary>
    public static string? Get(LaneFallbackReason reason) => reason switch
    {
        LaneFallbackReason.NoLane => "no-lane",
        LaneFallbackReason.LaneUnavailable => "lane-unavailable",
        LaneFallbackReason.LaneUndeclared => "lane-undeclared",
        _ => null,
    };
}
