using Lanes.Routing;

namespace Lanes.ServiceDiscovery;

/// <summary>An <see cref="ILaneServiceFeature"/>: <c>endpoints.Features.Set&lt;ILaneServiceFeature&gt;(new LaneServiceFeature(settings))</c>.</summary>
/// <param name="settings">The service's routing settings.</param>
public sealed class LaneServiceFeature(LaneSubsetSettings settings) : ILaneServiceFeature
{
    /// <inheritdoc/>
    public LaneSubsetSettings Settings { get; } = settings ?? throw new ArgumentNullException(nameof(settings));
}
