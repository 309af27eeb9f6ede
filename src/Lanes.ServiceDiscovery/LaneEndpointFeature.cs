namespace Lanes.ServiceDiscovery;

/// <summary>An <see cref="ILaneEndpointFeature"/>: <c>endpoint.Features.Set&lt;ILaneEndpointFeature&gt;(new LaneEndpointFeature("yellow"))</c>.</summary>
/// <param name="lane">The endpoint's lane; <see langword="null"/> for unlabelled.</param>
public sealed class LaneEndpointFeature(string? lane) : ILaneEndpointFeature
{
    /// <inheritdoc/>
    public string? Lane { get; } = lane;
}
