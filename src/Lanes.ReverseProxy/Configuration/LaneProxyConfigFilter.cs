using Lanes.Routing;
using Lanes.ReverseProxy.Failover;
using Yarp.ReverseProxy.Configuration;

namespace Lanes.ReverseProxy.Configuration;

/// <summary>
/// Validates lane metadata as YARP loads configuration: cluster keys <c>lanes</c>, <c>lanePolicy</c>,
/// <c>laneBaseline</c>, <c>lanePanicToAny</c> and destination key <c>lane</c>. An invalid value fails the whole
/// load: at start-up the host does not start; on reload YARP logs the error and keeps the last good configuration.
/// Also the failover keys <c>laneRetries</c> and <c>laneAttemptTimeout</c>, and, with <c>Lanes:Failover</c> on, the
/// passive health that ejection needs (docs/behaviour.md, "Failover"): a lane-aware cluster whose
/// <c>HealthCheck:Passive</c> sets neither <c>Enabled</c> nor <c>Policy</c> gets <c>Enabled: true</c> and the policy
/// <c>LaneFailover</c>; one that sets either keeps its own choice (<c>Enabled: false</c> turns ejection off for it).
/// </summary>
internal sealed class LaneProxyConfigFilter : IProxyConfigFilter
{
    private readonly LanePropagator _propagator;
    private readonly LaneGatewayConfigSource _gateway;

    public LaneProxyConfigFilter(LanePropagator propagator, LaneGatewayConfigSource gateway)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(gateway);
        _propagator = propagator;
        _gateway = gateway;
    }

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var settings = _propagator.Settings;
        if (!LaneRoutingMetadata.TryReadService(cluster.Metadata, settings.DefaultLane, settings.MaxLength, out _, out var error))
        {
            throw new InvalidOperationException($"Cluster '{cluster.ClusterId}' has invalid lane metadata: {error}");
        }

        if (!LaneFailoverSettings.TryReadMetadata(cluster.Metadata, out _, out _, out error))
        {
            throw new InvalidOperationException($"Cluster '{cluster.ClusterId}' has invalid lane metadata: {error}");
        }

        var anyLabelled = false;
        if (cluster.Destinations is not null)
        {
            foreach (var (id, destination) in cluster.Destinations)
            {
                if (!LaneRoutingMetadata.TryReadInstanceLane(destination.Metadata, settings.MaxLength, out var lane, out error))
                {
                    throw new InvalidOperationException($"Cluster '{cluster.ClusterId}', destination '{id}' has invalid lane metadata: {error}");
                }

                anyLabelled |= lane is not null;
            }
        }

        var passive = cluster.HealthCheck?.Passive;
        if (_gateway.Current.Failover.Enabled
            && passive?.Enabled is null
            && passive?.Policy is null
            && LaneRoutingMetadata.IsLaneAware(cluster.Metadata, anyLabelled))
        {
            cluster = cluster with
            {
                HealthCheck = (cluster.HealthCheck ?? new HealthCheckConfig()) with
                {
                    Passive = (passive ?? new PassiveHealthCheckConfig()) with { Enabled = true, Policy = LaneGatewayFailover.PassivePolicyName },
                },
            };
        }

        return new ValueTask<ClusterConfig>(cluster);
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        => new(route);
}
