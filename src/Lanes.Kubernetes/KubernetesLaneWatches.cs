using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lanes.Kubernetes;

/// <summary>
/// The namespace's lists, shared by every service the provider is asked about (as client-go's informers are): one
/// list+watch each for Services and Pods (mode Pods) and EndpointSlices, started on the first resolution and kept for
/// the host's lifetime, however many services are routed. Only what routing needs is kept of each object.
/// </summary>
/// <remarks>
/// An event only notes which services it touches, on the watch's thread: a Service event its service, a slice event
/// the service of its <c>kubernetes.io/service-name</c> label (before and after), a pod event the services whose slices
/// name that pod (an index kept from the slices). The services noted are rebuilt by one <see cref="RebuildQueue"/>:
/// each at most once per <see cref="KubernetesLaneOptions.RebuildDelay"/>, however many events touched it, off the
/// watch threads and off the request path, and a rebuild reads only that service's slices and their pods.
/// </remarks>
internal sealed class KubernetesLaneWatches : IAsyncDisposable
{
    private readonly KubernetesLaneOptions _options;
    private readonly LanePropagator _propagator;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KubernetesWatchTelemetry _telemetry;
    private readonly ConcurrentDictionary<string, KubernetesServiceView> _views = new(StringComparer.Ordinal);
    private readonly Reflector<V1Service, V1ServiceList, ServiceInfo>? _services;
    private readonly Reflector<V1EndpointSlice, V1EndpointSliceList, SliceInfo> _slices;
    private readonly Reflector<V1Pod, V1PodList, PodInfo>? _pods;
    private readonly TaskCompletionSource _servicesListed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _slicesListed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _podsListed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RebuildQueue _queue;
    private readonly Lock _start = new();
    private readonly Lock _holding = new();

    // The slice index (under _index): what each slice contributed when it was last indexed, the slices of each service,
    // and for each pod the services whose slices name it.
    private readonly Lock _index = new();
    private readonly Dictionary<string, SliceInfo> _indexed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, SliceInfo>> _byService = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PodRefs> _podRefs = new(StringComparer.Ordinal);
    private bool _started;

    public KubernetesLaneWatches(
        KubernetesTarget target,
        IOptions<KubernetesLaneOptions> options,
        LanePropagator propagator,
        TimeProvider time,
        KubernetesWatchTelemetry telemetry,
        ILoggerFactory loggers)
    {
        var o = _options = options.Value;
        _propagator = propagator;
        _time = time;
        _telemetry = telemetry;
        _logger = loggers.CreateLogger("Lanes.Kubernetes");
        // A rebuild that throws keeps the service's last state (error 408) and is tried again after a doubling delay
        // (ReconnectDelay up to MaxReconnectDelay), or sooner when the service changes again.
        _queue = new RebuildQueue(o.RebuildDelay, time, Rebuild, (service, ex) => KubernetesLog.RebuildFailed(_logger, ex, service), o.ReconnectDelay, o.MaxReconnectDelay);
        var client = target.Client;
        var ns = target.Namespace;
        var timeout = (int)Math.Clamp(o.IdleTimeout.TotalSeconds, 1, 3600);
        if (o.Mode == KubernetesLaneMode.Pods)
        {
            var label = o.LaneLabel;
            var podSelector = string.IsNullOrWhiteSpace(o.PodLabelSelector) ? null : o.PodLabelSelector;
            _services = new Reflector<V1Service, V1ServiceList, ServiceInfo>(
                $"services {ns}",
                (page, ct) => client.CoreV1.ListNamespacedServiceWithHttpMessagesAsync(ns, continueParameter: page, limit: Math.Max(1, o.ListPageSize), cancellationToken: ct),
                (version, onError, ct) => client.CoreV1.WatchListNamespacedServiceAsync(
                    ns, allowWatchBookmarks: true, resourceVersion: version, timeoutSeconds: timeout, onError: onError, cancellationToken: ct),
                service => KubernetesServiceView.ProjectService(service, o),
                o,
                telemetry,
                _logger,
                time);
            _pods = new Reflector<V1Pod, V1PodList, PodInfo>(
                $"pods {ns}",
                (page, ct) => client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(ns, continueParameter: page, labelSelector: podSelector, limit: Math.Max(1, o.ListPageSize), cancellationToken: ct),
                (version, onError, ct) => client.CoreV1.WatchListNamespacedPodAsync(
                    ns, allowWatchBookmarks: true, labelSelector: podSelector, resourceVersion: version, timeoutSeconds: timeout,
                    onError: onError, cancellationToken: ct),
                pod => new PodInfo(pod.Metadata?.Labels is { } labels && labels.TryGetValue(label, out var lane) ? lane : null),
                o,
                telemetry,
                _logger,
                time);
            _services.ItemChanged += _queue.Add;
            _services.Listed += () => Listed(_servicesListed);
            _pods.ItemChanged += PodChanged;
            _pods.Listed += () => Listed(_podsListed);
        }
        else
        {
            _servicesListed.SetResult();
            _podsListed.SetResult();
        }

        // Mode Pods: every slice that belongs to a Service; ServicePerLane: every slice carrying the service label.
        var selector = o.Mode == KubernetesLaneMode.Pods ? KubernetesServiceView.ServiceNameLabel : o.ServiceLabel;
        _slices = new Reflector<V1EndpointSlice, V1EndpointSliceList, SliceInfo>(
            $"endpointslices {ns}",
            (page, ct) => client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(ns, continueParameter: page, labelSelector: selector, limit: Math.Max(1, o.ListPageSize), cancellationToken: ct),
            (version, onError, ct) => client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
                ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: version, timeoutSeconds: timeout,
                onError: onError, cancellationToken: ct),
            slice => KubernetesServiceView.ProjectSlice(slice, o),
            o,
            telemetry,
            _logger,
            time);
        _slices.ItemChanged += SliceChanged;
        _slices.Listed += SlicesListed;
    }

    public KubernetesLaneOptions Options => _options;

    internal LanePropagator Propagator => _propagator;

    internal TimeProvider Time => _time;

    internal ILogger Logger => _logger;

    /// <summary>Whether Services, Pods and EndpointSlices have each been listed once (and the slice index built).</summary>
    public bool Synced => _slicesListed.Task.IsCompleted && _servicesListed.Task.IsCompleted && _podsListed.Task.IsCompleted;

    /// <summary>The view of <paramref name="service"/> (for tests and the readiness check): it lives while a provider holds it.</summary>
    public KubernetesServiceView Get(string service)
    {
        Start();
        return _views.GetOrAdd(service, static (name, self) => new KubernetesServiceView(name, self), this);
    }

    /// <summary>
    /// The view of <paramref name="service"/> for a provider, which holds it until it is disposed (<see cref="Release"/>):
    /// a view lives while some provider (service discovery's reader of that service) holds it, whether or not its
    /// Service changes, and no clock of its own decides that it is unused.
    /// </summary>
    public KubernetesServiceView Acquire(string service)
    {
        Start();
        lock (_holding)
        {
            var view = _views.GetOrAdd(service, static (name, self) => new KubernetesServiceView(name, self), this);
            view.Holders++;
            return view;
        }
    }

    /// <summary>A provider let go of <paramref name="view"/>; the last one drops it (its token fires, its timer stops).</summary>
    public void Release(KubernetesServiceView view)
    {
        lock (_holding)
        {
            if (--view.Holders > 0 || !_views.TryRemove(new(view.Service, view)))
            {
                return;
            }
        }

        view.Evict();
    }

    /// <summary>How many services have a view (for tests).</summary>
    internal int ViewCount => _views.Count;

    /// <summary>Whether every rebuild asked for so far is done (for tests).</summary>
    internal bool RebuildsDone => _queue.Idle;

    /// <summary>The last resource version the pod watch applied (for tests: an event has been read).</summary>
    internal string? PodsVersion => _pods?.ResourceVersion;

    /// <summary>Starts the lists and watches (once; the first resolution or the readiness check does).</summary>
    public void Start()
    {
        lock (_start)
        {
            if (!_started)
            {
                _started = true;
                _services?.Start();
                _pods?.Start();
                _slices.Start();
            }
        }
    }

    /// <summary>The lists not read yet (for readiness): empty once every one has been read.</summary>
    public IReadOnlyList<string> NotSynced()
    {
        var missing = new List<string>(3);
        if (!_servicesListed.Task.IsCompleted)
        {
            missing.Add("services");
        }

        if (!_podsListed.Task.IsCompleted)
        {
            missing.Add("pods");
        }

        if (!_slicesListed.Task.IsCompleted)
        {
            missing.Add("endpointslices");
        }

        return missing;
    }

    /// <summary>Waits (up to the sync timeout) until every list has been read once.</summary>
    public async Task<bool> WaitSyncedAsync(string service, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_slicesListed.Task, _servicesListed.Task, _podsListed.Task)
                .WaitAsync(_options.SyncTimeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            KubernetesLog.NotSynced(_logger, service, _options.SyncTimeout);
            return false;
        }
    }

    /// <summary>The service's Service (mode Pods), if it exists.</summary>
    internal bool TryGetService(string service, out ServiceInfo info)
    {
        if (_services is null)
        {
            info = null!;
            return false;
        }

        return _services.TryGet(service, out info);
    }

    internal bool ReadsServices => _services is not null;

    /// <summary>A pod's projection, if the pod has been seen.</summary>
    internal bool TryGetPod(string pod, out PodInfo info)
    {
        if (_pods is null)
        {
            info = default;
            return false;
        }

        return _pods.TryGet(pod, out info);
    }

    /// <summary>The slices of one service, from the index (a copy).</summary>
    internal SliceInfo[] SlicesOf(string service)
    {
        lock (_index)
        {
            return _byService.TryGetValue(service, out var slices) ? [.. slices.Values] : [];
        }
    }

    /// <summary>Asks for <paramref name="service"/> to be rebuilt by the queue (a timer's wake-up, a pod wait that ran out).</summary>
    internal void Enqueue(string service) => _queue.Add(service);

    public async ValueTask DisposeAsync()
    {
        await _queue.DisposeAsync().ConfigureAwait(false);
        foreach (var view in _views.Values)
        {
            view.Dispose();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync().ConfigureAwait(false);
        }

        if (_pods is not null)
        {
            await _pods.DisposeAsync().ConfigureAwait(false);
        }

        await _slices.DisposeAsync().ConfigureAwait(false);
    }

    private void Listed(TaskCompletionSource listed)
    {
        listed.TrySetResult();
        _queue.AddRange(_views.Keys);
    }

    private void Rebuild(string service)
    {
        if (!_views.TryGetValue(service, out var view))
        {
            return;                                              // nobody asked for it: nothing to keep current
        }

        view.Recompute();
        _telemetry.Rebuilt();
    }

    private void PodChanged(string pod)
    {
        lock (_index)
        {
            for (var refs = _podRefs.GetValueOrDefault(pod); refs is not null; refs = refs.Next)
            {
                _queue.Add(refs.Service);
            }
        }
    }

    private void SliceChanged(string name)
    {
        var current = _slices.TryGet(name, out var slice) ? slice : null;
        lock (_index)
        {
            if (_indexed.Remove(name, out var old))
            {
                Unindex(name, old);
                if (old.Service is { } before)
                {
                    _queue.Add(before);
                }
            }

            if (current is not null)
            {
                Index(name, current);
                if (current.Service is { } after)
                {
                    _queue.Add(after);
                }
            }
        }
    }

    private void SlicesListed()
    {
        var all = _slices.Items();
        lock (_index)
        {
            _indexed.Clear();
            _byService.Clear();
            _podRefs.Clear();
            foreach (var (name, slice) in all)
            {
                Index(name, slice);
            }
        }

        Listed(_slicesListed);
    }

    private void Index(string name, SliceInfo slice)
    {
        _indexed[name] = slice;
        if (slice.Service is not { } service)
        {
            return;
        }

        if (!_byService.TryGetValue(service, out var slices))
        {
            _byService[service] = slices = new Dictionary<string, SliceInfo>(StringComparer.Ordinal);
        }

        slices[name] = slice;
        foreach (var endpoint in slice.Endpoints)
        {
            if (endpoint.Pod is not { } pod)
            {
                continue;
            }

            var head = _podRefs.GetValueOrDefault(pod);
            var refs = head;
            while (refs is not null && !string.Equals(refs.Service, service, StringComparison.Ordinal))
            {
                refs = refs.Next;
            }

            if (refs is null)
            {
                _podRefs[pod] = new PodRefs(service, head);
            }
            else
            {
                refs.Count++;
            }
        }
    }

    private void Unindex(string name, SliceInfo slice)
    {
        if (slice.Service is not { } service)
        {
            return;
        }

        if (_byService.TryGetValue(service, out var slices) && slices.Remove(name) && slices.Count == 0)
        {
            _byService.Remove(service);
        }

        foreach (var endpoint in slice.Endpoints)
        {
            if (endpoint.Pod is not { } pod || !_podRefs.TryGetValue(pod, out var head))
            {
                continue;
            }

            PodRefs? previous = null;
            for (var refs = head; refs is not null; previous = refs, refs = refs.Next)
            {
                if (!string.Equals(refs.Service, service, StringComparison.Ordinal) || --refs.Count > 0)
                {
                    continue;
                }

                if (previous is not null)
                {
                    previous.Next = refs.Next;
                }
                else if (refs.Next is { } next)
                {
                    _podRefs[pod] = next;
                }
                else
                {
                    _podRefs.Remove(pod);
                }

                break;
            }
        }
    }

    /// <summary>A service whose slices name a pod, with how many endpoints do; almost always the only one.</summary>
    private sealed class PodRefs(string service, PodRefs? next)
    {
        public string Service { get; } = service;

        public int Count { get; set; } = 1;

        public PodRefs? Next { get; set; } = next;
    }
}
