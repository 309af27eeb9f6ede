using Lanes.Routing;

namespace Lanes.ServiceDiscovery;

/// <summary>The <see cref="ILaneServiceFeature"/> that <see cref="LaneServiceEndpointBuilderExtensions.WithLaneSettings"/> sets.</summary>
internal sealed class LaneServiceFeature(LaneSubsetSettings settings) : ILaneServiceFeature
{
    public LaneSubsetSettings Settings { get; } = settings;
}
