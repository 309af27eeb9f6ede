using Lanes.Configuration;

namespace Lanes.Routing;

/// <summary>The wire names of routing outcomes and fallback reasons, shared by debug headers, metrics and the admin endpoint.</summary>
internal static class LaneRoutingNames
{
    /// <summary>The title of every "nothing can serve this" answer (Envoy's wording): gateway 503, client 503, gRPC <c>Unavailable</c>.</summary>
    public const string NoHealthyUpstream = "no healthy upstream";

    /// <summary>The one detail text of that answer, naming the service (cluster), the lane (a validated value) and the policy.</summary>
    public static string NoHealthyUpstreamDetail(string service, string? lane, LanePolicy policy) => lane is null
        ? $"No healthy instance of '{service}' can serve a request without a lane (policy {policy})."
        : $"No healthy instance of '{service}' can serve lane '{lane}' (policy {policy}).";

    /// <summary>
    /// The detail of a 503 with what is in force, so that a misconfiguration explains itself: for a request without a
    /// lane, the baseline it went to, the lane header and the default lane this service uses, and the settings that change
    /// them; for a lane that fell back, the baseline that was empty too. Every value named is configuration or a validated lane.
    /// </summary>
    public static string NoHealthyUpstreamDetail<T>(string service, string? lane, LaneChoice<T> choice, LaneSettings settings)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(choice);
        ArgumentNullException.ThrowIfNull(settings);
        var detail = NoHealthyUpstreamDetail(service, lane, choice.Policy);
        if (lane is null)
        {
            var defaultLane = settings.DefaultLane is null ? "no default lane" : $"default lane '{settings.DefaultLane}'";
            return detail + $" Requests without a lane go to the baseline ({Describe(choice.EmptyBaseline)}), which has no healthy instance. "
                + $"This service reads the lane from '{settings.Header}' and has {defaultLane}: set Lanes:Preset (mspider, nsf), Lanes:Header or Lanes:DefaultLane "
                + "so requests carry a lane, or the service's laneBaseline to serve them from one lane's instances.";
        }

        return choice.EmptyBaseline is { } baseline
            ? detail + $" It fell back to the baseline ({Describe(baseline)}), which has no healthy instance either."
            : detail;
    }

    private static string Describe(string? baseline) => baseline switch
    {
        null or LaneChoice<object>.UnlabelledSubset => "unlabelled instances: laneBaseline is not set",
        LaneChoice<object>.AllSubset => "every instance",
        _ => $"instances of lane '{baseline}'",
    };

    /// <summary>
    /// The name of an outcome: <c>matched</c>, <c>fallback</c>, <c>no-upstream</c>. Outcomes and reasons are spelt one way
    /// everywhere (kebab-case, as <c>x-lane-fallback</c>): headers, problem details, metrics, logs and the admin report.
    /// </summary>
    public static string Get(LaneRoutingOutcome outcome) => outcome switch
    {
        LaneRoutingOutcome.Matched => "matched",
        LaneRoutingOutcome.Fallback => "fallback",
        _ => "no-upstream",
    };

    /// <summary>The name of a reason, the <c>x-lane-fallback</c> header value and the metric attribute value alike (docs/behaviour.md, "Subset selection": <c>no-lane</c>, <c>lane-unavailable</c>, <c>lane-undeclared</c>); <see langword="null"/> for <see cref="LaneFallbackReason.None"/>.</summary>
    public static string? Get(LaneFallbackReason reason) => reason switch
    {
        LaneFallbackReason.NoLane => "no-lane",
        LaneFallbackReason.LaneUnavailable => "lane-unavailable",
        LaneFallbackReason.LaneUndeclared => "lane-undeclared",
        _ => null,
    };

    /// <summary>The description of <c>lanes.shadow.dropped</c>, one text wherever it is counted (gateway, HttpClient and gRPC routing).</summary>
    public const string ShadowDroppedDescription = "Shadow copies not sent or not served, by service, lane and reason.";

    /// <summary>The reason a shadow copy was not sent because its lane has no healthy instance of its own.</summary>
    public const string ShadowNoInstance = "no-instance";

    /// <summary>True when an outgoing request carries the shadow marker <c>x-lanes-shadow: 1</c> (written by Lanes' propagation in a shadow scope).</summary>
    public static bool IsShadow(System.Net.Http.Headers.HttpRequestHeaders headers)
        => headers.NonValidated.TryGetValues(LaneContext.ShadowHeader, out var values) && values.Count == 1 && values.ToString() == "1";

    /// <summary>
    /// A shadow copy is served by its own lane's instances only (docs/behaviour.md, "Shadow lanes"): true when
    /// <paramref name="choice"/> would send a shadow call in <paramref name="lane"/> anywhere else (a fallback, any
    /// policy). A shadow call without a lane is the baseline's own.
    /// </summary>
    public static bool RefusesShadow<T>(string? lane, LaneChoice<T> choice)
        where T : class
        => lane is not null && choice.Outcome != LaneRoutingOutcome.Matched;

    /// <summary>The detail of the 503 (or gRPC <c>Unavailable</c>) a shadow call gets instead of a fallback.</summary>
    public static string ShadowDetail(string service, string lane)
        => $"No healthy instance of '{service}' in lane '{lane}' can serve this shadow copy ({LaneContext.ShadowHeader}); "
            + "a shadow copy is never sent to another lane's instances, so the baseline does not see it twice.";
}
