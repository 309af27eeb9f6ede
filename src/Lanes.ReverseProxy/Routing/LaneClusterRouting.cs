using System.Collections.Concurrent;
using System.Collections.Frozen;
using Lanes.Configuration;
using Lanes.Routing;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Routing;

/// <summary>
/// The subset engine's view of every YARP cluster. Subsets are rebuilt when YARP reports a cluster change
/// (<see cref="IClusterChangeListener"/>: configuration, destinations, metadata) or when the cluster's available
/// destinations change (health: YARP swaps the list), never per request: a request costs a dictionary lookup and
/// three reference comparisons.
/// </summary>
internal sealed class LaneClusterRouting : IClusterChangeListener
{
    private readonly LanePropagator _propagator;
    private readonly LaneTelemetry _telemetry;
    private readonly ConcurrentDictionary<string, ClusterState> _clusters = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private int _version;
    private DeclaredSet? _declared;

    public LaneClusterRouting(LanePropagator propagator, LaneTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(telemetry);
        _propagator = propagator;
        _telemetry = telemetry;
    }

    /// <summary>The lane settings in force (header, default lane).</summary>
    public LaneSettings Settings => _propagator.Settings;

    /// <summary>Set by <c>proxy.UseLaneSubsets()</c>: the proxy pipeline selects lane subsets.</summary>
    public bool SubsetStepInstalled { get; set; }

    public IEnumerable<ClusterState> Clusters => _clusters.Values;

    public void OnClusterAdded(ClusterState cluster) => Changed(cluster, removed: false);

    public void OnClusterChanged(ClusterState cluster) => Changed(cluster, removed: false);

    public void OnClusterRemoved(ClusterState cluster) => Changed(cluster, removed: true);

    /// <summary>The subsets of <paramref name="cluster"/> for its current destinations and health; <see langword="null"/> when the cluster does not use lanes.</summary>
    public LaneSubsets<DestinationState>? GetSubsets(ClusterState cluster)
    {
        var state = cluster.DestinationsState;
        var model = cluster.Model;
        var lanes = _propagator.Settings;
        if (_entries.TryGetValue(cluster.ClusterId, out var entry)
            && ReferenceEquals(entry.Destinations, state)
            && ReferenceEquals(entry.Model, model)
            && ReferenceEquals(entry.Lanes, lanes))
        {
            return entry.Subsets;
        }

        // A health change (YARP swaps the available list without telling listeners) or a settings reload: this one
        // cluster is rebuilt, once.
        return Rebuild(cluster).Subsets;
    }

    /// <summary>
    /// Whether <paramref name="clusterId"/> routes by lane as last built, and its <c>laneAttemptTimeout</c> metadata
    /// (the attempt timeout handler asks per request: one lookup).
    /// </summary>
    public bool IsLaneAware(string clusterId, out TimeSpan? attemptTimeout)
    {
        if (_entries.TryGetValue(clusterId, out var entry) && entry.Subsets is not null)
        {
            attemptTimeout = entry.AttemptTimeout;
            return true;
        }

        attemptTimeout = null;
        return false;
    }

    /// <summary>
    /// True when <paramref name="lane"/> exists for this gateway (trust <see cref="LaneTrust.AcceptDeclared"/>, the admin
    /// page's declared lanes): some cluster declares it or has an instance labelled with it, or the process's lane
    /// configuration names it (<see cref="LaneSettings.ConfiguredLanes"/>: the default lane, <c>KnownLanes</c>, and the
    /// declared and instance lanes of every service under <c>Lanes:Services</c>).
    /// </summary>
    public bool IsDeclaredAnywhere(string lane) => DeclaredLanes().Contains(lane);

    /// <summary>Every lane <see cref="IsDeclaredAnywhere"/> admits, rebuilt when a cluster or the lane settings change.</summary>
    public FrozenSet<string> DeclaredLanes()
    {
        var version = Volatile.Read(ref _version);
        var settings = _propagator.Settings;
        var declared = _declared;
        if (declared is null || declared.Version != version || !ReferenceEquals(declared.Settings, settings))
        {
            var lanes = new HashSet<string>(settings.ConfiguredLanes, StringComparer.Ordinal);
            foreach (var cluster in _clusters.Values)
            {
                if (GetSubsets(cluster) is { } subsets)
                {
                    lanes.UnionWith(subsets.DeclaredLanes);
                    foreach (var destination in cluster.Destinations.Values)
                    {
                        if (ReadLane(destination) is { } label)
                        {
                            lanes.Add(label);
                        }
                    }
                }
            }

            declared = new DeclaredSet(version, settings, lanes.ToFrozenSet(StringComparer.Ordinal));
            _declared = declared;
        }

        return declared.Lanes;
    }

    // The cluster's declared and labelled lanes keep their own metric tag whatever clients send.
    private static string MetricOwner(string clusterId) => "cluster:" + clusterId;

    internal string? ReadLane(DestinationState destination)
        => LaneRoutingMetadata.TryReadInstanceLane(destination.Model?.Config.Metadata, _propagator.Settings.MaxLength, out var lane, out _) ? lane : null;

    private void Changed(ClusterState cluster, bool removed)
    {
        if (removed)
        {
            _clusters.TryRemove(cluster.ClusterId, out _);
            _entries.TryRemove(cluster.ClusterId, out _);
            _telemetry.KeepMetricLanes(MetricOwner(cluster.ClusterId), []);
        }
        else
        {
            // Built here, when YARP applies the change, not by the next request; only this cluster.
            _clusters[cluster.ClusterId] = cluster;
            Rebuild(cluster);
        }

        Interlocked.Increment(ref _version);                 // the declared-lane set spans every cluster
    }

    private Entry Rebuild(ClusterState cluster)
    {
        var state = cluster.DestinationsState;
        var model = cluster.Model;
        var lanes = _propagator.Settings;
        LaneFailoverSettings.TryReadMetadata(model?.Config.Metadata, out _, out var attemptTimeout, out _);
        var entry = new Entry(state, model, lanes, Build(model, state, lanes), attemptTimeout);
        _entries[cluster.ClusterId] = entry;
        _telemetry.KeepMetricLanes(MetricOwner(cluster.ClusterId), entry.Subsets?.Lanes ?? []);
        return entry;
    }

    private LaneSubsets<DestinationState>? Build(ClusterModel? model, ClusterDestinationsState state, LaneSettings lanes)
    {
        var all = state.AllDestinations;
        var available = new HashSet<DestinationState>(state.AvailableDestinations, ReferenceEqualityComparer.Instance);
        var instances = new LaneInstance<DestinationState>[all.Count];
        var anyLabelled = false;
        for (var i = 0; i < all.Count; i++)
        {
            var lane = ReadLane(all[i]);
            anyLabelled |= lane is not null;
            instances[i] = new LaneInstance<DestinationState>(all[i], lane, available.Contains(all[i]));
        }

        var metadata = Configuration.LaneDestinationResolver.ServiceMetadata(model?.Config.Metadata, all);
        if (!LaneRoutingMetadata.IsLaneAware(metadata, anyLabelled))
        {
            return null;
        }

        // The config filter refused invalid metadata before YARP applied it, so this read succeeds.
        if (!LaneRoutingMetadata.TryReadService(metadata, lanes.DefaultLane, lanes.MaxLength, out var settings, out _))
        {
            settings = new LaneSubsetSettings(LanePolicy.Strict, declaredLanes: null, baselineLane: lanes.DefaultLane, panicToAny: false);
        }

        return settings.CreateSubsets(instances);
    }


    private sealed record Entry(ClusterDestinationsState Destinations, ClusterModel? Model, LaneSettings Lanes, LaneSubsets<DestinationState>? Subsets, TimeSpan? AttemptTimeout);

    private sealed record DeclaredSet(int Version, LaneSettings Settings, FrozenSet<string> Lanes);
}
