using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Lanes.Routing;
using Microsoft.Extensions.Logging;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Client-side lane routing for HTTP (docs/behaviour.md, "Client-side HTTP routing", "Service discovery and resilience"): per service that discovery resolves (<see cref="LaneServiceEndpoints"/>),
/// the core subset engine over its instances, where an instance is healthy unless passive health took it out. A
/// connection failure ejects the instance for <see cref="LaneOptions.PassiveHealthPeriod"/>; subsets are rebuilt when
/// discovery brings new instances (from its change notification), on ejection and when an ejection expires (checked
/// on the next pick), never per request otherwise.
/// </summary>
internal sealed class LaneHttpRouter
{
    private readonly LanePropagator _propagator;
    private readonly LaneTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ServiceState> _states = new(StringComparer.OrdinalIgnoreCase);

    public LaneHttpRouter(LanePropagator propagator, LaneServiceEndpoints endpoints, LaneTelemetry telemetry, TimeProvider time, ILogger<LaneHttpRouter> logger)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _propagator = propagator;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;

        // A service that discovery resolves again gets its subsets rebuilt here, off the request path.
        endpoints.Changed += snapshot => State(snapshot.Definition);
    }

    /// <summary>The instance for a call in <paramref name="lane"/>, or <see langword="null"/> with the choice that said 503.</summary>
    public LaneServiceInstance? Pick(LaneServiceDefinition service, string? lane, out LaneChoice<LaneServiceInstance> choice)
    {
        var state = State(service);
        var snapshot = state.Current(_time.GetUtcNow());
        choice = snapshot.Subsets.Select(lane);
        _telemetry.Routed(service.Name, lane, choice);
        if (lane is not null && !state.ReportedWithoutLanes && snapshot.Subsets.Lanes.Count == 0 && service.Instances.Count > 0)
        {
            // Nothing here knows a lane: every lane is served by every instance. Say so once per service.
            state.ReportedWithoutLanes = true;
            LaneHttpLog.ServiceWithoutLanes(_logger, service.Name);
        }

        return choice.Next(ref state.RoundRobin);
    }

    /// <summary>
    /// The instance for the next attempt of a call whose earlier attempts failed at <paramref name="tried"/> (failover,
    /// docs/behaviour.md, "Failover"): the engine's choice as the subsets are now (an instance that refused a connection
    /// was ejected, so a lane whose instances all refused gets the policy's fallback, Strict none), an instance not tried
    /// yet when there is one, else one tried before (a reset or a timeout may not repeat; the lane is kept). Null with
    /// the choice that said so when nothing is left.
    /// </summary>
    public LaneServiceInstance? PickAgain(LaneServiceDefinition service, string? lane, List<LaneServiceInstance> tried, out LaneChoice<LaneServiceInstance> choice)
    {
        var state = State(service);
        choice = state.Current(_time.GetUtcNow()).Subsets.Select(lane);
        _telemetry.Routed(service.Name, lane, choice);
        var instances = choice.Instances;
        var untried = new List<LaneServiceInstance>(instances.Length);
        foreach (var instance in instances)
        {
            if (!tried.Contains(instance))
            {
                untried.Add(instance);
            }
        }

        var counter = (uint)Interlocked.Increment(ref state.RoundRobin);
        return untried.Count > 0 ? untried[(int)(counter % (uint)untried.Count)]
            : instances.Length > 0 ? instances[counter % (uint)instances.Length]
            : null;
    }

    /// <summary>Takes <paramref name="instance"/> out for the passive health period.</summary>
    public void Eject(LaneServiceDefinition service, LaneServiceInstance instance, string reason = "connect-failure")
    {
        var now = _time.GetUtcNow();
        var period = _propagator.Settings.PassiveHealthPeriod;
        State(service).Eject(instance, now, now + period);
        LaneHttpLog.InstanceEjected(_logger, service.Name, instance.Id, instance.Lane ?? "(unlabelled)", period, reason);
    }

    /// <summary>
    /// A failed attempt at <paramref name="instance"/>: a refused connection ejects it at once, anything else (a 5xx, a
    /// timeout, a reset) when it makes <paramref name="inARow"/> failures in a row.
    /// </summary>
    public void Failed(LaneServiceDefinition service, LaneServiceInstance instance, LaneAttemptFailure failure, int inARow)
    {
        if (failure == LaneAttemptFailure.ConnectFailure)
        {
            Eject(service, instance);
            return;
        }

        if (State(service).FailedInARow(instance) >= inARow)
        {
            Eject(service, instance, "consecutive-failures");
        }
    }

    /// <summary>A successful answer: the instance's failures in a row start again.</summary>
    public void Succeeded(LaneServiceDefinition service, LaneServiceInstance instance) => State(service).Succeeded(instance);

    /// <summary>The state of <paramref name="service"/>; a new one when its definition changed (a reload).</summary>
    private ServiceState State(LaneServiceDefinition service)
    {
        var state = _states.GetOrAdd(service.Name, static (_, a) => new ServiceState(a.Service, a.Logger, a.Telemetry), (Service: service, Logger: _logger, Telemetry: _telemetry));
        if (!ReferenceEquals(state.Service, service))
        {
            var fresh = new ServiceState(service, _logger, _telemetry);
            state = _states.TryUpdate(service.Name, fresh, state) ? fresh : _states[service.Name];
        }

        return state;
    }

    private sealed class ServiceState(LaneServiceDefinition service, ILogger logger, LaneTelemetry telemetry)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<LaneServiceInstance, DateTimeOffset> _ejected = [];
        private readonly ConcurrentDictionary<LaneServiceInstance, StrongBox<int>> _inARow = new();
        private Snapshot? _snapshot;

        public int RoundRobin = -1;

        public bool ReportedWithoutLanes;

        public LaneServiceDefinition Service => service;

        public Snapshot Current(DateTimeOffset now)
        {
            var snapshot = Volatile.Read(ref _snapshot);
            if (snapshot is not null && now < snapshot.ValidUntil)
            {
                return snapshot;
            }

            lock (_lock)
            {
                snapshot = _snapshot;
                return snapshot is not null && now < snapshot.ValidUntil ? snapshot : Rebuild(now);
            }
        }

        public int FailedInARow(LaneServiceInstance instance)
        {
            var box = _inARow.GetOrAdd(instance, static _ => new StrongBox<int>());
            return Interlocked.Increment(ref box.Value);
        }

        public void Succeeded(LaneServiceInstance instance)
        {
            if (_inARow.TryGetValue(instance, out var box) && Volatile.Read(ref box.Value) != 0)
            {
                Volatile.Write(ref box.Value, 0);
            }
        }

        public void Eject(LaneServiceInstance instance, DateTimeOffset now, DateTimeOffset until)
        {
            if (_inARow.TryGetValue(instance, out var box))
            {
                Volatile.Write(ref box.Value, 0);
            }

            lock (_lock)
            {
                _ejected[instance] = until;
                Rebuild(now);
            }
        }

        /// <summary>Subsets with every unexpired ejection as unhealthy; valid until the earliest ejection ends.</summary>
        private Snapshot Rebuild(DateTimeOffset now)
        {
            var validUntil = DateTimeOffset.MaxValue;
            var instances = new LaneInstance<LaneServiceInstance>[service.Instances.Count];
            for (var i = 0; i < instances.Length; i++)
            {
                var instance = service.Instances[i];
                var healthy = true;
                if (_ejected.TryGetValue(instance, out var until))
                {
                    if (now < until)
                    {
                        healthy = false;
                        validUntil = until < validUntil ? until : validUntil;
                    }
                    else
                    {
                        _ejected.Remove(instance);
                        LaneHttpLog.InstanceReadmitted(logger, service.Name, instance.Id);
                    }
                }

                instances[i] = new LaneInstance<LaneServiceInstance>(instance, instance.Lane, healthy);
            }

            var snapshot = new Snapshot(LaneSubsets.Build(instances, service.Settings), validUntil);
            telemetry.KeepMetricLanes("service:" + service.Name, snapshot.Subsets.Lanes);
            Volatile.Write(ref _snapshot, snapshot);
            return snapshot;
        }
    }

    private sealed record Snapshot(LaneSubsets<LaneServiceInstance> Subsets, DateTimeOffset ValidUntil);
}
