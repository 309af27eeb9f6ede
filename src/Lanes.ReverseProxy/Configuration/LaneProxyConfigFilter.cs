using Lanes.Routing;
using Yarp.ReverseProxy.Configuration;

namespace Lanes.ReverseProxy.Configuration;

/// <summary>
/// Validates lane metadata as YARP loads configuration: cluster keys <c>lanes</c>, <c>lanePolicy</c>,
/// <c>laneBaseline</c>, <c>lanePanicToAny</c> and destination key <c>lane</c>. An invalid value fails the whole
/// load: at start-up the host does not start; on reload YARP logs the error and keeps the last good configuration.
/// </summary>
internal sealed class LaneProxyConfigFilter : IProxyConfigFilter
{
    private readonly LanePropagator _propagator;

    public LaneProxyConfigFilter(LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        _propagator = propagator;
    }

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var settings = _propagator.Settings;
        if (!LaneRoutingMetadata.TryReadService(cluster.Metadata, settings.DefaultLane, settings.MaxLength, out _, out var error))
        {
            throw new InvalidOperationException($"Cluster '{cluster.ClusterId}' has invalid lane metadata: {error}");
        }

        if (cluster.Destinations is not null)
        {
            foreach (var (id, destination) in cluster.Destinations)
            {
                if (!LaneRoutingMetadata.TryReadInstanceLane(destination.Metadata, settings.MaxLength, out _, out error))
                {
                    throw new InvalidOperationException($"Cluster '{cluster.ClusterId}', destination '{id}' has invalid lane metadata: {error}");
                }
            }
        }

        return new ValueTask<ClusterConfig>(cluster);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        => new(route);
}
