using Lanes.Routing;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// The lane routing settings of a service (policy, declared lanes, baseline, panic-to-any), as a feature of a
/// resolved <c>ServiceEndpointSource</c> (set on <c>IServiceEndpointBuilder.Features</c> by a provider). Without it,
/// a service whose endpoints carry lanes routes Permissive with the default lane as baseline, and a service with no
/// labelled endpoint spreads its calls over every endpoint.
/// </summary>
internal interface ILaneServiceFeature
{
    /// <summary>The service's routing settings.</summary>
    LaneSubsetSettings Settings { get; }
}
