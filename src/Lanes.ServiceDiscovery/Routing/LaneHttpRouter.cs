using System.Collections.Concurrent;
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

    /// <summary>Takes <paramref name="instance"/> out for the passive health period.</summary>
    public void Eject(LaneServiceDefinition service, LaneServiceInstance instance)
    {
        var now = _time.GetUtcNow();
        var period = _propagator.Settings.PassiveHealthPeriod;
        State(service).Eject(instance, now, now + period);
        LaneHttpLog.InstanceEjected(_logger, service.Name, instance.Id, instance.Lane ?? "(unlabelled)", period);
    }

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

        public void Eject(LaneServiceInstance instance, DateTimeOffset now, DateTimeOffset until)
        {
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
