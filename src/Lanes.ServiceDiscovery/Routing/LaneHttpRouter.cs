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
    private readonly LaneServiceEndpoints _endpoints;
    private readonly ConcurrentDictionary<string, ServiceState> _states = new(StringComparer.Ordinal);
    private readonly System.Diagnostics.Metrics.Counter<long> _shadowDropped;

    public LaneHttpRouter(LanePropagator propagator, LaneServiceEndpoints endpoints, LaneTelemetry telemetry, TimeProvider time, ILogger<LaneHttpRouter> logger)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _shadowDropped = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.ShadowDroppedInstrument, "{request}", LaneRoutingNames.ShadowDroppedDescription);
        _propagator = propagator;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _endpoints = endpoints;
    }

    /// <summary>
    /// The instance for a call in <paramref name="lane"/>, or <see langword="null"/> with the choice that said 503. A
    /// <paramref name="shadow"/> call gets null too when the choice is not its lane's own instances (see <see cref="Refused"/>).
    /// </summary>
    public LaneServiceInstance? Pick(LaneServiceSnapshot snapshot, string? lane, bool shadow, out LaneChoice<LaneServiceInstance> choice)
    {
        var state = State(snapshot);
        var service = state.Service;
        var subsets = state.Current(_time.GetUtcNow()).Subsets;
        choice = subsets.Select(lane);
        if (Refused(service.Name, lane, shadow, choice))
        {
            return null;
        }

        _telemetry.Routed(service.Name, lane, choice);
        if (lane is not null && !state.ReportedWithoutLanes && subsets.Lanes.Count == 0 && service.Instances.Count > 0)
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
    public LaneServiceInstance? PickAgain(LaneServiceSnapshot snapshot, string? lane, bool shadow, List<LaneServiceInstance> tried, out LaneChoice<LaneServiceInstance> choice)
    {
        var state = State(snapshot);
        choice = state.Current(_time.GetUtcNow()).Subsets.Select(lane);
        if (Refused(state.Service.Name, lane, shadow, choice))
        {
            return null;
        }

        _telemetry.Routed(state.Service.Name, lane, choice);
        var instances = choice.Instances;
        var untried = new List<LaneServiceInstance>(instances.Length);
        foreach (var instance in instances)
        {
            if (!tried.Exists(t => SameInstance(t, instance)))
            {
                untried.Add(instance);
            }
        }

        var counter = (uint)Interlocked.Increment(ref state.RoundRobin);
        return untried.Count > 0 ? untried[(int)(counter % (uint)untried.Count)]
            : instances.Length > 0 ? instances[counter % (uint)instances.Length]
            : null;
    }

    /// <summary>
    /// A shadow copy is served by its own lane's instances only (docs/behaviour.md, "Shadow lanes"): when the choice
    /// would send it elsewhere it is refused (the caller answers 503) and counted in <c>lanes.shadow.dropped</c>.
    /// </summary>
    private bool Refused(string service, string? lane, bool shadow, LaneChoice<LaneServiceInstance> choice)
    {
        if (!shadow || !LaneRoutingNames.RefusesShadow(lane, choice))
        {
            return false;
        }

        _shadowDropped.Add(
            1,
            new KeyValuePair<string, object?>(LanesDiagnostics.RoutingServiceAttribute, service),
            new KeyValuePair<string, object?>(LanesDiagnostics.LaneAttribute, _telemetry.MetricLane(lane!)),
            new KeyValuePair<string, object?>(LanesDiagnostics.ShadowReasonAttribute, LaneRoutingNames.ShadowNoInstance));
        LaneHttpLog.ShadowRefused(_logger, service, lane!);
        return true;
    }

    /// <summary>Takes <paramref name="instance"/> out for the passive health period.</summary>
    public void Eject(LaneServiceSnapshot snapshot, LaneServiceInstance instance, string reason = "connect-failure")
    {
        var now = _time.GetUtcNow();
        var period = _propagator.Settings.PassiveHealthPeriod;
        State(snapshot).Eject(instance, now, now + period);
        LaneHttpLog.InstanceEjected(_logger, snapshot.Service, instance.Id, instance.Lane ?? "(unlabelled)", period, reason);
    }

    /// <summary>
    /// A failed attempt at <paramref name="instance"/>: a refused connection ejects it at once, anything else (a 5xx, a
    /// timeout, a reset) when it makes <paramref name="inARow"/> failures in a row.
    /// </summary>
    public void Failed(LaneServiceSnapshot snapshot, LaneServiceInstance instance, LaneAttemptFailure failure, int inARow)
    {
        if (failure == LaneAttemptFailure.ConnectFailure)
        {
            Eject(snapshot, instance);
            return;
        }

        if (State(snapshot).FailedInARow(instance) >= inARow)
        {
            Eject(snapshot, instance, "consecutive-failures");
        }
    }

    /// <summary>A successful answer: the instance's failures in a row start again.</summary>
    public void Succeeded(LaneServiceSnapshot snapshot, LaneServiceInstance instance) => State(snapshot).Succeeded(instance);

    /// <summary>
    /// The state of the snapshot's key (scheme and service: <c>http://details</c> and <c>https+http://details</c> are two
    /// keys with their own instances); a new one, with the ejections of the instances it keeps, when the snapshot is newer
    /// than the state's. An older snapshot (a retry that still holds it) gets the newer state: it never puts older
    /// instances back.
    /// </summary>
    private ServiceState State(LaneServiceSnapshot snapshot)
    {
        var state = _states.GetOrAdd(snapshot.Key, static (_, a) => a.Self.NewState(a.Snapshot, previous: null), (Self: this, Snapshot: snapshot));
        while (state.Snapshot.Version < snapshot.Version)
        {
            var fresh = NewState(snapshot, state);
            if (_states.TryUpdate(snapshot.Key, fresh, state))
            {
                return fresh;
            }

            state = _states.GetOrAdd(snapshot.Key, static (_, a) => a.Self.NewState(a.Snapshot, previous: null), (Self: this, Snapshot: snapshot));
        }

        return state;
    }

    /// <summary>
    /// A state for <paramref name="snapshot"/> that follows its one signal, the snapshot's change token: a newer snapshot
    /// gets its subsets built at once, off the request path; a service discovery forgot (idle) is forgotten here too.
    /// </summary>
    private ServiceState NewState(LaneServiceSnapshot snapshot, ServiceState? previous)
    {
        var state = new ServiceState(snapshot, previous, _logger, _telemetry);
        snapshot.ChangeToken.RegisterChangeCallback(static s => { var (router, followed) = ((LaneHttpRouter, ServiceState))s!; router.Follow(followed); }, (this, state));
        return state;
    }

    private void Follow(ServiceState followed)
    {
        var key = followed.Snapshot.Key;
        if (_endpoints.Peek(followed.Snapshot.Scheme, followed.Snapshot.Service) is { } newer && newer.Version > followed.Snapshot.Version)
        {
            State(newer).Current(_time.GetUtcNow());
        }
        else
        {
            _states.TryRemove(new KeyValuePair<string, ServiceState>(key, followed));
        }
    }

    private static bool SameInstance(LaneServiceInstance a, LaneServiceInstance b)
        => ReferenceEquals(a, b) || (a.Id == b.Id && a.Address == b.Address);

    private sealed class ServiceState
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<(string Id, Uri Address), DateTimeOffset> _ejected = [];
        private readonly ConcurrentDictionary<(string Id, Uri Address), StrongBox<int>> _inARow = new();
        private readonly LaneServiceDefinition service;
        private readonly ILogger logger;
        private readonly LaneTelemetry telemetry;
        private Snapshot? _snapshot;

        public ServiceState(LaneServiceSnapshot snapshot, ServiceState? previous, ILogger logger, LaneTelemetry telemetry)
        {
            Snapshot = snapshot;
            service = snapshot.Definition;
            this.logger = logger;
            this.telemetry = telemetry;
            if (previous is not null)
            {
                // A newer snapshot keeps what passive health knows of the instances it still has.
                lock (previous._lock)
                {
                    foreach (var instance in service.Instances)
                    {
                        if (previous._ejected.TryGetValue(KeyOf(instance), out var until))
                        {
                            _ejected[KeyOf(instance)] = until;
                        }
                    }
                }

                ReportedWithoutLanes = previous.ReportedWithoutLanes;
            }
        }

        public LaneServiceSnapshot Snapshot { get; }

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
            var box = _inARow.GetOrAdd(KeyOf(instance), static _ => new StrongBox<int>());
            return Interlocked.Increment(ref box.Value);
        }

        public void Succeeded(LaneServiceInstance instance)
        {
            if (_inARow.TryGetValue(KeyOf(instance), out var box) && Volatile.Read(ref box.Value) != 0)
            {
                Volatile.Write(ref box.Value, 0);
            }
        }

        public void Eject(LaneServiceInstance instance, DateTimeOffset now, DateTimeOffset until)
        {
            if (_inARow.TryGetValue(KeyOf(instance), out var box))
            {
                Volatile.Write(ref box.Value, 0);
            }

            lock (_lock)
            {
                _ejected[KeyOf(instance)] = until;
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
                if (_ejected.TryGetValue(KeyOf(instance), out var until))
                {
                    if (now < until)
                    {
                        healthy = false;
                        validUntil = until < validUntil ? until : validUntil;
                    }
                    else
                    {
                        _ejected.Remove(KeyOf(instance));
                        LaneHttpLog.InstanceReadmitted(logger, service.Name, instance.Id);
                    }
                }

                instances[i] = new LaneInstance<LaneServiceInstance>(instance, instance.Lane, healthy);
            }

            var snapshot = new Snapshot(service.Settings.CreateSubsets(instances), validUntil);
            telemetry.KeepMetricLanes("service:" + service.Name, snapshot.Subsets.Lanes);
            Volatile.Write(ref _snapshot, snapshot);
            return snapshot;
        }

        private static (string Id, Uri Address) KeyOf(LaneServiceInstance instance) => (instance.Id, instance.Address);
    }

    private sealed record Snapshot(LaneSubsets<LaneServiceInstance> Subsets, DateTimeOffset ValidUntil);
}
