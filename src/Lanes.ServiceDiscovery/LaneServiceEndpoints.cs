using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// The one owner of instance state that client-side routing, gRPC routing and the gateway read: for a service name,
/// the instances the <c>Microsoft.Extensions.ServiceDiscovery</c> providers give (<c>Lanes:Services</c>, Kubernetes,
/// configuration, any other; read directly, in discovery's order, not through discovery's own watcher) with their
/// lanes and the service's settings, as a <see cref="LaneServiceSnapshot"/>. A service is read on first use; after
/// that, the providers' change tokens (or, for providers without one, discovery's refresh period) bring a new snapshot,
/// built off the request path when instances or settings changed, and the previous snapshot's
/// <see cref="LaneServiceSnapshot.ChangeToken"/> fires so a router rebuilds that one service's subsets. A
/// reading that fails, or that has not answered within discovery's refresh period (a hung provider), keeps the last
/// good snapshot, is logged, shows in <see cref="GetStatuses"/> (the admin page) and is tried again a refresh period
/// later. A service nobody asked for within <see cref="LaneOptions.ServiceIdleTimeout"/> (<c>Lanes:ServiceIdleTimeout</c>) is forgotten.
/// </summary>
public sealed class LaneServiceEndpoints : IAsyncDisposable, IDisposable
{
    private readonly ServiceDiscoveryReader _reader;
    private readonly LanePropagator _propagator;
    private readonly TimeProvider _time;
    private readonly TimeSpan _refreshPeriod;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Scheme, string Service), Entry> _entries = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly TimeSpan _idleTimeout;
    private readonly ITimer? _sweep;
    private long _version;

    internal LaneServiceEndpoints(
        ServiceDiscoveryReader reader,
        LanePropagator propagator,
        IOptions<ServiceDiscoveryOptions> options,
        TimeProvider time,
        ILogger<LaneServiceEndpoints> logger)
    {
        _reader = reader;
        _propagator = propagator;
        _time = time;
        _refreshPeriod = options.Value.RefreshPeriod;
        _logger = logger;
        _idleTimeout = propagator.Settings.ServiceIdleTimeout;
        if (_idleTimeout > TimeSpan.Zero && _idleTimeout != Timeout.InfiniteTimeSpan)
        {
            var every = _idleTimeout / 2;
            _sweep = time.CreateTimer(static state => ((LaneServiceEndpoints)state!).Sweep(), this, every, every);
        }
    }

    /// <summary>Versions grow across the whole process, so a service read afresh after it was forgotten is still newer.</summary>
    private long NextVersion() => Interlocked.Increment(ref _version);

    /// <summary>The current snapshot of an entry that exists, without resolving, and without counting as asked; null otherwise.</summary>
    internal LaneServiceSnapshot? Peek(string scheme, string service)
        => _entries.TryGetValue((scheme, service), out var entry) ? entry.Current : null;

    /// <summary>
    /// The current snapshot of <paramref name="service"/> as asked for with <paramref name="scheme"/> (<c>http</c>,
    /// <c>https</c>, <c>https+http</c>); the first call resolves it. <see langword="null"/> when no discovery provider
    /// knows the service: the caller leaves the call alone.
    /// </summary>
    public ValueTask<LaneServiceSnapshot?> GetAsync(string scheme, string service, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(service);
        var entry = _entries.GetOrAdd((scheme, service), static (key, self) => new Entry(self, key.Scheme, key.Service), this);
        entry.Asked();
        return entry.GetAsync(cancellationToken);
    }

    /// <summary>
    /// Every service asked for so far, in name order, with its state: instances, when its snapshot was built, and
    /// whether (since when, why) refreshes are failing or hanging while the last good snapshot serves.
    /// </summary>
    public IReadOnlyList<LaneServiceStatus> GetStatuses()
    {
        var statuses = new List<LaneServiceStatus>(_entries.Count);
        foreach (var entry in _entries.Values)
        {
            statuses.Add(entry.Status());
        }

        statuses.Sort(static (a, b) => string.CompareOrdinal(a.Service, b.Service) is var c && c != 0 ? c : string.CompareOrdinal(a.Scheme, b.Scheme));
        return statuses;
    }

    /// <summary>Stops reading every service and disposes the providers, without waiting for them.</summary>
    public void Dispose() => _ = DisposeAsync().AsTask();

    /// <summary>Forgets services nobody asked for within the idle timeout (<see cref="LaneOptions.ServiceIdleTimeout"/>), checked every half of it on the injected clock.</summary>
    private void Sweep()
    {
        foreach (var (key, entry) in _entries)
        {
            if (_time.GetElapsedTime(entry.LastAsked) < _idleTimeout || !_entries.TryRemove(new(key, entry)))
            {
                continue;
            }

            entry.Evict();
            LaneServiceEndpointsLog.Evicted(_logger, key.Service, _idleTimeout);
        }
    }

    /// <summary>Stops reading every service and disposes the providers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        _sweep?.Dispose();
        foreach (var entry in _entries.Values)
        {
            await entry.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The base address of an endpoint: a URI endpoint as it is, a host or IP endpoint with the query's scheme.</summary>
    internal static Uri AddressOf(EndPoint endPoint, string scheme)
    {
        var first = scheme.Split('+')[0];
        return endPoint switch
        {
            UriEndPoint uri => uri.Uri,
            DnsEndPoint dns => new UriBuilder(first, dns.Host, dns.Port).Uri,
            IPEndPoint ip => new UriBuilder(first, ip.Address.ToString(), ip.Port).Uri,
            _ => new Uri($"{first}://{endPoint}"),
        };
    }

    private LaneServiceSnapshot Build(string scheme, string service, ServiceDiscoveryReading source, long version)
    {
        var instances = new List<LaneServiceInstance>(source.Endpoints.Count);
        var labelled = false;
        var maxLength = _propagator.Settings.MaxLength;
        var declared = source.Features.Get<ILaneServiceFeature>()?.Settings;
        for (var i = 0; i < source.Endpoints.Count; i++)
        {
            var endpoint = source.Endpoints[i];
            var feature = endpoint.Features.Get<ILaneEndpointFeature>();
            if (feature is null && declared is not null)
            {
                continue;                                   // not the lane-aware provider's (pass-through's fallback name)
            }

            var lane = feature?.Lane;
            var id = feature?.InstanceId ?? endpoint.Features.Get<InstanceIdFeature>()?.Id ?? string.Create(CultureInfo.InvariantCulture, $"{service}[{i}]");
            if (lane is not null && !Lanes.Parsing.LaneParser.IsValidLane(lane, maxLength))
            {
                // A provider's label that no request lane can equal: the instance serves nothing rather than serving
                // as unlabelled (the baseline) by mistake.
                LaneServiceEndpointsLog.InvalidEndpointLane(_logger, service, id, Lanes.Parsing.LaneParser.Escape(lane));
                continue;
            }

            labelled |= lane is not null;
            instances.Add(new LaneServiceInstance(id, AddressOf(endpoint.EndPoint, scheme), lane) { Origin = feature?.Origin ?? "service discovery" });
        }

        instances.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        var settings = declared ?? (labelled
            ? new LaneSubsetSettings(LanePolicy.Permissive, declaredLanes: null, baselineLane: _propagator.Settings.DefaultLane, panicToAny: false)
            : LaneSubsetSettings.Default);
        return new LaneServiceSnapshot(scheme, new LaneServiceDefinition(service, settings, instances), declared is not null || labelled, declared is not null, version);
    }

    /// <summary>One service: its providers, its current snapshot and the watch that replaces it.</summary>
    private sealed class Entry(LaneServiceEndpoints owner, string scheme, string service) : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private readonly string _query = scheme + "://" + service;
        private volatile LaneServiceSnapshot? _current;
        private volatile bool _unknown;
        private long _unknownSince;
        private Task<LaneServiceSnapshot?>? _first;
        private IServiceEndpointProvider[]? _providers;
        private Watcher? _watch;
        private int _refreshing;
        private int _pending;
        private Task? _reading;
        private DateTimeOffset? _refreshed;
        private (DateTimeOffset Since, string Reason)? _failing;
        private long _lastAsked = owner._time.GetTimestamp();
        private bool _closed;

        public long LastAsked => Volatile.Read(ref _lastAsked);

        public LaneServiceSnapshot? Current => _current;

        public void Asked() => Volatile.Write(ref _lastAsked, owner._time.GetTimestamp());

        /// <summary>Stops reading and fires the snapshot's token, so whoever follows it asks again (a new entry).</summary>
        public void Evict()
        {
            _ = DisposeAsync().AsTask();
            _current?.Supersede();
        }

        public LaneServiceStatus Status()
        {
            lock (_lock)
            {
                var current = _current;
                return new LaneServiceStatus(scheme, service, !_unknown, current?.Definition.Instances.Count ?? 0, _refreshed, _failing?.Since, _failing?.Reason);
            }
        }

        public ValueTask<LaneServiceSnapshot?> GetAsync(CancellationToken cancellationToken)
        {
            if (_current is { } current)
            {
                return new ValueTask<LaneServiceSnapshot?>(current);
            }

            if (_unknown && owner._time.GetElapsedTime(Volatile.Read(ref _unknownSince)) < owner._refreshPeriod)
            {
                return default;
            }

            Task<LaneServiceSnapshot?> first;
            lock (_lock)
            {
                if (_unknown)
                {
                    // No provider took the name: calls go out as they are, and the name is asked about again once per
                    // refresh period (a reload may add it to Lanes:Services, a provider may learn it).
                    if (owner._time.GetElapsedTime(_unknownSince) < owner._refreshPeriod)
                    {
                        return default;
                    }

                    _unknown = false;
                    _first = null;
                }

                first = _first ??= StartFirst();
            }

            return first.IsCompletedSuccessfully ? new ValueTask<LaneServiceSnapshot?>(first.Result) : new ValueTask<LaneServiceSnapshot?>(first.WaitAsync(cancellationToken));
        }

        /// <summary>Stops following the providers and disposes them.</summary>
        public ValueTask DisposeAsync()
        {
            IServiceEndpointProvider[]? providers;
            lock (_lock)
            {
                _closed = true;
                _watch?.Dispose();
                _watch = null;
                providers = _providers;
                _providers = null;
            }

            return ServiceDiscoveryReader.DisposeAsync(providers);
        }

        private void Refreshed()
        {
            lock (_lock)
            {
                _refreshed = owner._time.GetUtcNow();
                _failing = null;
            }
        }

        private void Failing(string reason)
        {
            lock (_lock)
            {
                _failing = (_failing?.Since ?? owner._time.GetUtcNow(), reason.Length > 200 ? reason[..200] : reason);
            }
        }

        /// <summary>
        /// The first reading, without the caller's ExecutionContext: a provider's reading (and the watch, timers and
        /// later readings it starts) must not run under the request's lane or carry its AsyncLocals, as discovery's own
        /// watcher does it.
        /// </summary>
        private Task<LaneServiceSnapshot?> StartFirst()
        {
            var restore = false;
            try
            {
                if (!ExecutionContext.IsFlowSuppressed())
                {
                    ExecutionContext.SuppressFlow();
                    restore = true;
                }

                return FirstAsync();
            }
            finally
            {
                if (restore)
                {
                    ExecutionContext.RestoreFlow();
                }
            }
        }

        private async Task<LaneServiceSnapshot?> FirstAsync()
        {
            // Off the caller's thread: it holds the entry's lock.
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            if (!TryGetProviders(out var providers))
            {
                // No provider takes this name (no pass-through either): calls to it are left alone for now.
                lock (_lock)
                {
                    _unknownSince = owner._time.GetTimestamp();
                    _unknown = true;
                }

                return null;
            }

            ServiceDiscoveryReading reading;
            try
            {
                reading = await ReadAsync(providers).ConfigureAwait(false);
            }
            catch
            {
                // A failed first reading is not remembered: the next call tries again.
                lock (_lock)
                {
                    _first = null;
                }

                throw;
            }

            var snapshot = owner.Build(scheme, service, reading, owner.NextVersion());
            _current = snapshot;
            Refreshed();
            Watch(reading.ChangeTokens());
            return snapshot;
        }

        /// <summary>The providers for this name, created once (as discovery's watcher does) and kept until eviction.</summary>
        private bool TryGetProviders([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider[]? providers)
        {
            lock (_lock)
            {
                if (_providers is null && !_closed)
                {
                    _providers = owner._reader.CreateProviders(_query);
                }

                providers = _providers;
                return providers is not null;
            }
        }

        /// <summary>
        /// Reads again when a provider's token fires (every token followed directly, whichever way it was added); after
        /// the refresh period when some provider gave no token with callbacks; at once when a token fired while the
        /// providers were being read. Callbacks only queue a refresh, so a token that fires while it is being registered
        /// never runs a reading inside this lock.
        /// </summary>
        private void Watch(IReadOnlyList<IChangeToken> tokens)
        {
            lock (_lock)
            {
                if (_closed || owner._disposed.IsCancellationRequested)
                {
                    return;
                }

                _watch?.Dispose();
                _watch = new Watcher(this, tokens, owner._time, owner._refreshPeriod);
            }
        }

        /// <summary>
        /// Refreshes one at a time: a request while a refresh runs is remembered and served by one more pass, so an
        /// older reading never replaces a newer one and no change is dropped.
        /// </summary>
        private void RequestRefresh()
        {
            Volatile.Write(ref _pending, 1);
            if (Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static entry => _ = entry.RefreshLoopAsync(), this, preferLocal: false);
            }
        }

        private async Task RefreshLoopAsync()
        {
            try
            {
                while (Interlocked.Exchange(ref _pending, 0) == 1 && !owner._disposed.IsCancellationRequested && !Volatile.Read(ref _closed))
                {
                    await RefreshAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }

            // A request that came between the last check and the reset above found the loop still running.
            if (Volatile.Read(ref _pending) == 1)
            {
                RequestRefresh();
            }
        }

        private async Task RefreshAsync()
        {
            var previous = _current;
            try
            {
                if (!TryGetProviders(out var providers))
                {
                    return;                                          // closed meanwhile
                }

                var reading = await ReadAsync(providers).ConfigureAwait(false);
                var snapshot = owner.Build(scheme, service, reading, owner.NextVersion());
                if (previous is not null && previous.SameAs(snapshot))
                {
                    // Nothing changed: nothing is published, and followers keep their state (ejections, round robin).
                    Refreshed();
                    Watch(reading.ChangeTokens());
                    return;
                }

                _current = snapshot;
                Refreshed();
                Watch(reading.ChangeTokens());
                LaneServiceEndpointsLog.Refreshed(owner._logger, service, snapshot.Definition.Instances.Count);

                // The one signal: followers (client routing, gRPC routing, the gateway) read the newer snapshot now.
                previous?.Supersede();
            }
            catch (OperationCanceledException) when (owner._disposed.IsCancellationRequested)
            {
            }
            catch (TimeoutException)
            {
                // A provider that does not answer: keep serving the last good snapshot; try again after the period.
                LaneServiceEndpointsLog.RefreshTimedOut(owner._logger, service, owner._refreshPeriod);
                Failing(string.Create(CultureInfo.InvariantCulture, $"no answer within {owner._refreshPeriod}"));
                Watch([]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Keep serving the last good snapshot; try again after the refresh period.
                LaneServiceEndpointsLog.RefreshFailed(owner._logger, ex, service);
                Failing($"{ex.GetType().Name}: {ex.Message}");
                Watch([]);
            }
        }

        /// <summary>
        /// Reads the providers, waiting at most one refresh period (on the injected clock): a provider that hangs must not
        /// freeze the service's instances silently, and the next reading is due then anyway. A reading that runs out of
        /// time is cancelled, its result is never used, and the providers are not called again until it has ended: never
        /// two readings of one service at once (a later refresh meanwhile counts as no answer, and is tried a period later).
        /// </summary>
        private async Task<ServiceDiscoveryReading> ReadAsync(IServiceEndpointProvider[] providers)
        {
            if (Volatile.Read(ref _reading) is { IsCompleted: false })
            {
                throw new TimeoutException("The previous reading has not ended.");
            }

            var cancel = CancellationTokenSource.CreateLinkedTokenSource(owner._disposed.Token);
            var read = ServiceDiscoveryReader.ReadAsync(providers, cancel.Token);
            Volatile.Write(ref _reading, read);
            _ = read.ContinueWith(static (_, state) => ((CancellationTokenSource)state!).Dispose(), cancel, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            try
            {
                return await read.WaitAsync(owner._refreshPeriod, owner._time, owner._disposed.Token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await cancel.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>
        /// One reading's watch: a callback on each token that has them, and a timer at the refresh period when any token
        /// has none (or there is no token), since such a provider only tells by being read again.
        /// </summary>
        private sealed class Watcher : IDisposable
        {
            private readonly List<IDisposable> _registrations = [];

            public Watcher(Entry entry, IReadOnlyList<IChangeToken> tokens, TimeProvider time, TimeSpan refreshPeriod)
            {
                var poll = tokens.Count == 0;
                foreach (var token in tokens)
                {
                    if (token.HasChanged)
                    {
                        entry.RequestRefresh();                          // changed while it was being read
                        return;
                    }

                    if (token.ActiveChangeCallbacks)
                    {
                        _registrations.Add(token.RegisterChangeCallback(static state => ((Entry)state!).RequestRefresh(), entry));
                    }
                    else
                    {
                        poll = true;
                    }
                }

                if (poll)
                {
                    _registrations.Add(time.CreateTimer(static state => ((Entry)state!).RequestRefresh(), entry, refreshPeriod, Timeout.InfiniteTimeSpan));
                }
            }

            public void Dispose()
            {
                foreach (var registration in _registrations)
                {
                    registration.Dispose();
                }
            }
        }
    }
}

/// <summary>Log events of <see cref="LaneServiceEndpoints"/>.</summary>
internal static partial class LaneServiceEndpointsLog
{
    [LoggerMessage(EventId = 301, EventName = "ServiceEndpointsRefreshed", Level = LogLevel.Information,
        Message = "Service '{Service}' resolved again: {Count} instance(s); its lane subsets are rebuilt.")]
    public static partial void Refreshed(ILogger logger, string service, int count);

    [LoggerMessage(EventId = 302, EventName = "ServiceEndpointsRefreshFailed", Level = LogLevel.Warning,
        Message = "Service '{Service}' could not be resolved again; the last good instances keep serving.")]
    public static partial void RefreshFailed(ILogger logger, Exception exception, string service);

    [LoggerMessage(EventId = 304, EventName = "ServiceEndpointsRefreshTimedOut", Level = LogLevel.Warning,
        Message = "Service '{Service}' did not resolve again within {Timeout}; the last good instances keep serving, and it is tried again after that long.")]
    public static partial void RefreshTimedOut(ILogger logger, string service, TimeSpan timeout);

    [LoggerMessage(EventId = 305, EventName = "ServiceEndpointsEvicted", Level = LogLevel.Debug,
        Message = "Service '{Service}' was not asked for within {Timeout}; it is no longer watched (the next call resolves it again).")]
    public static partial void Evicted(ILogger logger, string service, TimeSpan timeout);

    [LoggerMessage(EventId = 303, EventName = "InvalidEndpointLane", Level = LogLevel.Warning,
        Message = "Instance '{Instance}' of service '{Service}' is labelled with '{Lane}', which is not a valid lane; it is left out of routing.")]
    public static partial void InvalidEndpointLane(ILogger logger, string service, string instance, string lane);
}
