using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Lanes.Kubernetes;

/// <summary>The API client and the namespace the provider reads.</summary>
internal sealed record KubernetesTarget(IKubernetes Client, string Namespace);

/// <summary>
/// The namespace's lists, shared by every service the provider is asked about (as client-go's informers are): one
/// list+watch each for Services and Pods (mode Pods) and EndpointSlices, started on the first resolution and kept for
/// the host's lifetime, however many services are routed. Only what routing needs is kept of each object. A change to
/// any list recomputes every service's view; a view whose result did not change fires nothing.
/// </summary>
internal sealed class KubernetesLaneWatches : IAsyncDisposable
{
    private readonly KubernetesLaneOptions _options;
    private readonly LanePropagator _propagator;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, KubernetesServiceView> _views = new(StringComparer.Ordinal);
    private readonly Reflector<V1Service, V1ServiceList, ServiceInfo>? _services;
    private readonly Reflector<V1EndpointSlice, V1EndpointSliceList, SliceInfo> _slices;
    private readonly Reflector<V1Pod, V1PodList, PodInfo>? _pods;
    private readonly Lock _start = new();
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
        _logger = loggers.CreateLogger("Lanes.Kubernetes");
        var client = target.Client;
        var ns = target.Namespace;
        var timeout = (int)Math.Clamp(o.IdleTimeout.TotalSeconds, 1, 3600);
        if (o.Mode == KubernetesLaneMode.Pods)
        {
            var label = o.LaneLabel;
            _services = new Reflector<V1Service, V1ServiceList, ServiceInfo>(
                $"services {ns}",
                (watch, version, ct) => client.CoreV1.ListNamespacedServiceWithHttpMessagesAsync(
                    ns, allowWatchBookmarks: watch ? true : null, resourceVersion: version,
                    timeoutSeconds: watch ? timeout : null, watch: watch ? true : null, cancellationToken: ct),
                service => KubernetesServiceView.ProjectService(service, o),
                o,
                telemetry,
                _logger,
                time);
            _pods = new Reflector<V1Pod, V1PodList, PodInfo>(
                $"pods {ns}",
                (watch, version, ct) => client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
                    ns, allowWatchBookmarks: watch ? true : null, resourceVersion: version,
                    timeoutSeconds: watch ? timeout : null, watch: watch ? true : null, cancellationToken: ct),
                pod => new PodInfo(pod.Metadata?.Labels is { } labels && labels.TryGetValue(label, out var lane) ? lane : null),
                o,
                telemetry,
                _logger,
                time);
            _services.Changed += RecomputeAll;
            _pods.Changed += RecomputeAll;
        }

        // Mode Pods: every slice that belongs to a Service; ServicePerLane: every slice carrying the service label.
        var selector = o.Mode == KubernetesLaneMode.Pods ? "kubernetes.io/service-name" : o.ServiceLabel;
        _slices = new Reflector<V1EndpointSlice, V1EndpointSliceList, SliceInfo>(
            $"endpointslices {ns}",
            (watch, version, ct) => client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(
                ns, allowWatchBookmarks: watch ? true : null, labelSelector: selector, resourceVersion: version,
                timeoutSeconds: watch ? timeout : null, watch: watch ? true : null, cancellationToken: ct),
            slice => KubernetesServiceView.ProjectSlice(slice, o),
            o,
            telemetry,
            _logger,
            time);
        _slices.Changed += RecomputeAll;
    }

    public KubernetesLaneOptions Options => _options;

    public KubernetesServiceView Get(string service)
    {
        Start();
        return _views.GetOrAdd(service, name => new KubernetesServiceView(name, _services, _slices, _pods, _options, _propagator, _time, _logger));
    }

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
        if (_services is { Synced.IsCompletedSuccessfully: false })
        {
            missing.Add("services");
        }

        if (_pods is { Synced.IsCompletedSuccessfully: false })
        {
            missing.Add("pods");
        }

        if (!_slices.Synced.IsCompletedSuccessfully)
        {
            missing.Add("endpointslices");
        }

        return missing;
    }

    /// <summary>Waits (up to the sync timeout) until every list has been read once.</summary>
    public async Task<bool> WaitSyncedAsync(string service, CancellationToken cancellationToken)
    {
        var all = new List<Task> { _slices.Synced };
        if (_services is not null)
        {
            all.Add(_services.Synced);
        }

        if (_pods is not null)
        {
            all.Add(_pods.Synced);
        }

        try
        {
            await Task.WhenAll(all).WaitAsync(_options.SyncTimeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            KubernetesLog.NotSynced(_logger, service, _options.SyncTimeout);
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
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

    private void RecomputeAll()
    {
        foreach (var view in _views.Values)
        {
            view.Recompute();
        }
    }
}

/// <summary>
/// The <c>Microsoft.Extensions.ServiceDiscovery</c> provider: a name that is a valid Service name (or listed in
/// <see cref="KubernetesLaneOptions.Services"/>) resolves to the Service's ready endpoints, each with its lane, and the
/// service's settings from its annotations; while the Service does not exist, to nothing (other providers answer);
/// until the lists have been read, to no instance with the service's settings (not ready: no other provider answers).
/// </summary>
internal sealed class KubernetesEndpointProviderFactory(KubernetesLaneWatches watches)
    : IServiceEndpointProviderFactory
{
    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        var name = query.ServiceName;
        var options = watches.Options;
        var accepted = options.Services.Count > 0 ? options.Services.Contains(name) : IsServiceName(name);
        provider = accepted ? new Provider(watches, name) : null;
        return accepted;
    }

    /// <summary>A DNS-1035 label, what Kubernetes accepts as a Service name.</summary>
    internal static bool IsServiceName(string name)
    {
        if (name.Length is 0 or > 63 || !char.IsAsciiLetterLower(name[0]) || name[^1] == '-')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Provider(KubernetesLaneWatches watches, string service) : IServiceEndpointProvider
    {
        public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            var view = watches.Get(service);
            await watches.WaitSyncedAsync(service, cancellationToken).ConfigureAwait(false);
            view.Recompute();

            // The token before the state, so a change between the two reads is not missed.
            endpoints.AddLaneChangeToken(view.ChangeToken);
            var state = view.State;
            if (!state.Synced)
            {
                // Not ready (fail closed): the service's settings with no instance, so calls answer as for a lane with
                // no instances and no later provider's address (pass-through's Service name, a virtual IP that
                // balances every lane over every pod) becomes the baseline. The first list fires the token.
                endpoints.Features.Set<ILaneServiceFeature>(new LaneServiceFeature(state.Settings));
                return;
            }

            if (!state.Exists)
            {
                return;                                             // no such Service (yet): the next providers answer
            }

            endpoints.Features.Set<ILaneServiceFeature>(new LaneServiceFeature(state.Settings));
            foreach (var instance in state.Instances)
            {
                var endpoint = ServiceEndpoint.Create(instance.EndPoint);
                endpoint.Features.Set<ILaneEndpointFeature>(new LaneEndpointFeature(instance.Lane, instance.Id) { Origin = "kubernetes" });
                endpoints.Endpoints.Add(endpoint);
            }
        }

        public ValueTask DisposeAsync() => default;

        public override string ToString() => "Kubernetes";
    }
}
