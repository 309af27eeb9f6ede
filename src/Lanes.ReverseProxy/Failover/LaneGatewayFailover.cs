using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Lanes.ReverseProxy.Configuration;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Failover;

/// <summary>
/// The gateway's failover state (docs/behaviour.md, "Failover"): per cluster, the retry budget and what failover did
/// (for <c>lanes.retries</c> and the admin page); per destination, failures in a row; ejection through YARP's passive
/// health (<see cref="IDestinationHealthUpdater"/>), so an ejected destination leaves YARP's available destinations, the
/// lane subsets are rebuilt from them, and YARP brings it back after the reactivation period.
/// </summary>
internal sealed class LaneGatewayFailover
{
    /// <summary>The passive health policy Lanes sets on lane-aware clusters that configure none (<see cref="LaneFailoverHealthPolicy"/>).</summary>
    public const string PassivePolicyName = "LaneFailover";

    /// <summary>The reason of an ejection after <see cref="LaneFailoverSettings.ConsecutiveFailures"/> failures in a row.</summary>
    public const string ConsecutiveFailuresReason = "consecutive-failures";

    private readonly LaneGatewayConfigSource _config;
    private readonly IDestinationHealthUpdater _health;
    private readonly LaneTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _ejections;
    private readonly ConcurrentDictionary<string, ClusterFailover> _clusters = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failuresInARow = [];

    public LaneGatewayFailover(
        LaneGatewayConfigSource config,
        IDestinationHealthUpdater health,
        LaneTelemetry telemetry,
        TimeProvider time,
        ILogger<LaneGatewayFailover> logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(health);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _config = config;
        _health = health;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _retries = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.RetriesInstrument, "{attempt}", "Failed attempts failover looked at, by service, lane, reason and what it did (retried, or why not).");
        _ejections = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.EjectionsInstrument, "{instance}", "Instances taken out of their lane subset, by service, lane and reason.");
    }

    public LaneFailoverSettings Settings => _config.Current.Failover;

    /// <summary>Retries for <paramref name="model"/>: its <c>laneRetries</c> metadata, else <c>Lanes:Failover:Retries</c>; 0 when failover is off.</summary>
    public static int Retries(ClusterModel model, LaneFailoverSettings settings)
    {
        if (!settings.Enabled)
        {
            return 0;
        }

        return LaneFailoverSettings.TryReadMetadata(model.Config.Metadata, out var retries, out _, out _) && retries is { } value ? value : settings.Retries;
    }

    /// <summary>What a forwarder error says about the attempt; <see cref="LaneAttemptFailure.None"/> for a failure a retry cannot help (the client went away, a response came back).</summary>
    public static LaneAttemptFailure Classify(IForwarderErrorFeature error) => error.Error switch
    {
        ForwarderError.Request => LaneFailoverSettings.Classify(error.Exception),
        ForwarderError.RequestTimedOut => LaneAttemptFailure.Timeout,
        ForwarderError.RequestBodyDestination => LaneAttemptFailure.Reset,
        _ => LaneAttemptFailure.None,
    };

    /// <summary>True when the destination, not the client, failed the attempt (counts towards its failures in a row).</summary>
    public static bool IsDestinationFault(ForwarderError error) => error
        is ForwarderError.Request
        or ForwarderError.RequestTimedOut
        or ForwarderError.RequestBodyDestination
        or ForwarderError.ResponseHeaders
        or ForwarderError.ResponseBodyDestination
        or ForwarderError.UpgradeResponseDestination;

    public ClusterFailover Cluster(string clusterId)
    {
        if (!_clusters.TryGetValue(clusterId, out var cluster))
        {
            cluster = _clusters.GetOrAdd(clusterId, static (_, time) => new ClusterFailover(new LaneRetryBudget(time)), _time);
        }

        return cluster;
    }

    /// <summary>The clusters failover has seen, for the admin page.</summary>
    public IEnumerable<KeyValuePair<string, ClusterFailover>> Clusters => _clusters;

    /// <summary>Counts what failover did with one failed attempt.</summary>
    public void Record(ClusterFailover cluster, string clusterId, string? lane, LaneAttemptFailure failure, string outcome)
    {
        var reason = LaneFailoverNames.Get(failure);
        cluster.Count(reason, outcome);
        if (_retries.Enabled)
        {
            var tags = new TagList
            {
                { LanesDiagnostics.RoutingServiceAttribute, clusterId },
                { LanesDiagnostics.RetryReasonAttribute, reason },
                { LanesDiagnostics.RetryOutcomeAttribute, outcome },
            };
            if (lane is not null)
            {
                tags.Add(LanesDiagnostics.LaneAttribute, _telemetry.MetricLane(lane));
            }

            _retries.Add(1, tags);
        }
    }

    /// <summary>A successful answer from <paramref name="destination"/>: its failures in a row start again.</summary>
    public void Succeeded(DestinationState destination)
    {
        if (_failuresInARow.TryGetValue(destination, out var box) && Volatile.Read(ref box.Value) != 0)
        {
            Volatile.Write(ref box.Value, 0);
        }
    }

    /// <summary>
    /// A failed attempt at <paramref name="destination"/>: a refused connection ejects it at once, anything else when it
    /// makes <see cref="LaneFailoverSettings.ConsecutiveFailures"/> in a row.
    /// </summary>
    public void Failed(ClusterState cluster, DestinationState destination, LaneAttemptFailure failure)
    {
        var settings = Settings;
        if (failure == LaneAttemptFailure.ConnectFailure)
        {
            Eject(cluster, destination, LaneFailoverNames.Get(failure), settings);
            return;
        }

        var box = _failuresInARow.GetValue(destination, static _ => new StrongBox<int>());
        if (Interlocked.Increment(ref box.Value) >= settings.ConsecutiveFailures)
        {
            Volatile.Write(ref box.Value, 0);
            Eject(cluster, destination, ConsecutiveFailuresReason, settings);
        }
    }

    private void Eject(ClusterState cluster, DestinationState destination, string reason, LaneFailoverSettings settings)
    {
        var health = destination.Health;
        if (health.Passive == DestinationHealth.Unhealthy)
        {
            return;                                          // already out; YARP's reactivation brings it back
        }

        var period = cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? settings.EjectionPeriod;
        _health.SetPassive(cluster, destination, DestinationHealth.Unhealthy, period);
        var lane = LaneRoutingMetadata.TryReadInstanceLane(destination.Model?.Config.Metadata, int.MaxValue, out var label, out _) ? label : null;
        LaneFailoverLog.Ejected(_logger, destination.DestinationId, cluster.ClusterId, lane ?? "(unlabelled)", reason, period);
        Cluster(cluster.ClusterId).Ejected();
        if (_ejections.Enabled)
        {
            var tags = new TagList
            {
                { LanesDiagnostics.RoutingServiceAttribute, cluster.ClusterId },
                { LanesDiagnostics.RetryReasonAttribute, reason },
            };
            if (lane is not null)
            {
                tags.Add(LanesDiagnostics.LaneAttribute, _telemetry.MetricLane(lane));
            }

            _ejections.Add(1, tags);
        }
    }
}

/// <summary>One cluster's retry budget and counts of what failover did, for the admin page.</summary>
internal sealed class ClusterFailover(LaneRetryBudget budget)
{
    private readonly ConcurrentDictionary<(string Reason, string Outcome), StrongBox<long>> _counts = new();
    private long _ejections;

    public LaneRetryBudget Budget { get; } = budget;

    public long Ejections => Interlocked.Read(ref _ejections);

    public void Ejected() => Interlocked.Increment(ref _ejections);

    public void Count(string reason, string outcome)
    {
        var box = _counts.GetOrAdd((reason, outcome), static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
    }

    public IEnumerable<(string Reason, string Outcome, long Count)> Counts()
    {
        foreach (var ((reason, outcome), box) in _counts)
        {
            yield return (reason, outcome, Interlocked.Read(ref box.Value));
        }
    }
}
