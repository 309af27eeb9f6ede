using System.Collections.Concurrent;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Routing;

namespace Lanes.Http.Routing;

/// <summary>
/// Client-side lane routing for HTTP (DESIGN 8): per service of <c>Lanes:Services</c>, the core subset engine over
/// its instances, where an instance is healthy unless passive health took it out. A connection failure ejects
/// the instance for <see cref="LaneOptions.PassiveHealthPeriod"/>; subsets are rebuilt on ejection and when an
/// ejection expires (checked on the next pick), never per request otherwise.
/// </summary>
internal sealed class LaneHttpRouter
{
    private readonly LaneSettings _settings;
    private readonly LanesMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ServiceState> _states = new(StringComparer.OrdinalIgnoreCase);

    public LaneHttpRouter(LaneSettings settings, LanesMetrics metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        _settings = settings;
        _metrics = metrics;
        _time = time;
    }

    /// <summary>True when <paramref name="host"/> names a routed service.</summary>
    public bool TryGetService(string host, out LaneServiceDefinition service)
        => _settings.Services.TryGetValue(host, out service!);

    /// <summary>The instance for a call in <paramref name="lane"/>, or <see langword="null"/> with the choice that said 503.</summary>
    public LaneServiceInstance? Pick(LaneServiceDefinition service, string? lane, out LaneChoice<LaneServiceInstance> choice)
    {
        var state = _states.GetOrAdd(service.Name, static (_, s) => new ServiceState(s), service);
        var snapshot = state.Current(_time.GetUtcNow());
        choice = snapshot.Subsets.Select(lane);
        _metrics.Routed(service.Name, choice.LaneTag, choice.Outcome, choice.Reason);
        return choice.Next(ref state.RoundRobin);
    }

    /// <summary>Takes <paramref name="instance"/> out for the passive health period.</summary>
    public void Eject(LaneServiceDefinition service, LaneServiceInstance instance)
    {
        var state = _states.GetOrAdd(service.Name, static (_, s) => new ServiceState(s), service);
        var now = _time.GetUtcNow();
        state.Eject(instance, now, now + _settings.PassiveHealthPeriod);
    }

    private sealed class ServiceState(LaneServiceDefinition service)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<LaneServiceInstance, DateTimeOffset> _ejected = [];
        private Snapshot? _snapshot;

        public int RoundRobin = -1;

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
            var instances = new LaneInstance<LaneServiceInstance>[service.Instances.Length];
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
                    }
                }

                instances[i] = new LaneInstance<LaneServiceInstance>(instance, instance.Lane, healthy);
            }

            var snapshot = new Snapshot(LaneSubsets<LaneServiceInstance>.Build(instances, service.Settings), validUntil);
            Volatile.Write(ref _snapshot, snapshot);
            return snapshot;
        }
    }

    private sealed record Snapshot(LaneSubsets<LaneServiceInstance> Subsets, DateTimeOffset ValidUntil);
}
