using Lanes.Configuration;
using Lanes.Routing;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Thrown inside an HttpClient pipeline when lane routing has no healthy instance to send a call to (docs/behaviour.md, "Subset selection": the
/// 503 rows). It is not an <see cref="HttpRequestException"/>, so a resilience pipeline's default predicates
/// (the standard handler's retry and circuit breaker) treat it as final: no retry, no breaker failure. Lanes' outermost
/// handler turns it into the local 503 <c>no healthy upstream</c> answer.
/// </summary>
internal sealed class LaneUnavailableException(string service, string? lane, LaneChoice<LaneServiceInstance> choice, string detail)
    : Exception(LaneRoutingNames.NoHealthyUpstream + ": " + detail)
{
    public LaneUnavailableException(string service, string? lane, LaneChoice<LaneServiceInstance> choice, LaneSettings settings)
        : this(service, lane, choice, LaneRoutingNames.NoHealthyUpstreamDetail(service, lane, choice, settings))
    {
    }

    /// <summary>The problem detail: what is in force and how to change it.</summary>
    public string Detail { get; } = detail;

    public string Service { get; } = service;

    public string? Lane { get; } = lane;

    public LaneChoice<LaneServiceInstance> Choice { get; } = choice;
}
