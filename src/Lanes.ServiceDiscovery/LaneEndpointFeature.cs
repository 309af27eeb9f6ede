namespace Lanes.ServiceDiscovery;

/// <summary>The <see cref="ILaneEndpointFeature"/> that <see cref="Microsoft.Extensions.DependencyInjection.LanesServiceDiscoveryExtensions.WithLane"/> sets.</summary>
internal sealed class LaneEndpointFeature(string? lane, string? instanceId, string? origin) : ILaneEndpointFeature
{
    public string? Lane { get; } = lane;

    public string? InstanceId { get; } = instanceId;

    public string? Origin { get; } = origin;
}
