using Lanes.Routing;

namespace Lanes.ServiceDiscovery;

/// <summary>The <see cref="ILaneServiceFeature"/> that <see cref="Microsoft.Extensions.DependencyInjection.LanesServiceDiscoveryExtensions.WithLaneSettings"/> sets.</summary>
internal sealed class LaneServiceFeature(LaneSubsetSettings settings) : ILaneServiceFeature
{
    public LaneSubsetSettings Settings { get; } = settings;
}
