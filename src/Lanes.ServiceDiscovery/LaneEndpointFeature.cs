namespace Lanes.ServiceDiscovery;

/// <summary>An <see cref="ILaneEndpointFeature"/>: <c>endpoint.Features.Set&lt;ILaneEndpointFeature&gt;(new LaneEndpointFeature("yellow"))</c>.</summary>
/// <param name="lane">The endpoint's lane; <see langword="null"/> for unlabelled.</param>
/// <param name="instanceId">The instance's name (a pod name); <see langword="null"/>: numbered.</param>
public sealed class LaneEndpointFeature(string? lane, string? instanceId) : ILaneEndpointFeature
{
    /// <summary>An endpoint's lane, with no instance name.</summary>
    /// <param name="lane">The endpoint's lane; <see langword="null"/> for unlabelled.</param>
    public LaneEndpointFeature(string? lane)
        : this(lane, null)
    {
    }

    /// <inheritdoc/>
    public string? Lane { get; } = lane;

    /// <inheritdoc/>
    public string? InstanceId { get; } = instanceId;

    /// <inheritdoc/>
    public string? Origin { get; init; }
}
