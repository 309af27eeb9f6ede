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
/// Every service the provider watches, started on first resolution and kept for the host's lifetime; in mode Pods,
/// one pod watch for the namespace shared by all of them (only each pod's lane label is kept).
/// </summary>
internal sealed class KubernetesLaneWatches : IAsyncDisposable
{
    private readonly KubernetesTarget _target;
    private readonly KubernetesLaneOptions _options;
    private readonly LanePropagator _propagator;
    private readonly TimeProvider _time;
    private readonly KubernetesWatchTelemetry _telemetry;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<string, Lazy<KubernetesServiceView>> _views = new(StringComparer.Ordinal);
    private readonly Lazy<Reflector<V1Pod, V1PodList, PodInfo>> _pods;

    public KubernetesLaneWatches(
        KubernetesTarget target,
        IOptions<KubernetesLaneOptions> options,
        LanePropagator propagator,
        TimeProvider time,
        KubernetesWatchTelemetry telemetry,
        ILoggerFactory loggers)
    {
        _target = target;
        _options = options.Value;
        _propagator = propagator;
        _time = time;
        _telemetry = telemetry;
        _loggers = loggers;
        var label = _options.LaneLabel;
        var timeout = (int)Math.Clamp(_options.IdleTimeout.TotalSeconds, 1, 3600);
        _pods = new Lazy<Reflector<V1Pod, V1PodList, PodInfo>>(() => new Reflector<V1Pod, V1PodList, PodInfo>(
            $"pods {target.Namespace}",
            (watch, version, ct) => target.Client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
                target.Namespace, allowWatchBookmarks: watch ? true : null, resourceVersion: version,
                timeoutSeconds: watch ? timeout : null, watch: watch ? true : null, cancellationToken: ct),
            pod => new PodInfo(pod.Metadata?.Labels is { } labels && labels.TryGetValue(label, out var lane) ? lane : null),
            _options,
            telemetry,
            loggers.CreateLogger("Lanes.Kubernetes")));
    }

    public KubernetesLaneOptions Options => _options;

    public KubernetesServiceView Get(string service)
        => _views.GetOrAdd(service, name => new Lazy<KubernetesServiceView>(() =>
        {
            var view = new KubernetesServiceView(
                name,
                _target.Namespace,
                _target.Client,
                _options.Mode == KubernetesLaneMode.Pods ? _pods.Value : null,
                _options,
                _propagator,
                _time,
                _telemetry,
                _loggers.CreateLogger("Lanes.Kubernetes"));
            view.Start();
            return view;
        })).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var view in _views.Values)
        {
            if (view.IsValueCreated)
            {
                await view.Value.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_pods.IsValueCreated)
        {
            await _pods.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The <c>Microsoft.Extensions.ServiceDiscovery</c> provider: a name that is a valid Service name (or listed in
/// <see cref="KubernetesLaneOptions.Services"/>) resolves to the Service's ready endpoints, each with its lane, and the
/// service's settings from its annotations; while the Service does not exist, to nothing (other providers answer).
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
            await view.WaitSyncedAsync(cancellationToken).ConfigureAwait(false);

            // The token before the state, so a change between the two reads is not missed.
            endpoints.AddChangeToken(view.ChangeToken);
            var state = view.State;
            if (!state.Exists)
            {
                return;                                             // no such Service (yet): the next providers answer
            }

            endpoints.Features.Set<ILaneServiceFeature>(new LaneServiceFeature(state.Settings));
            foreach (var instance in state.Instances)
            {
                var endpoint = ServiceEndpoint.Create(instance.EndPoint);
                endpoint.Features.Set<ILaneEndpointFeature>(new LaneEndpointFeature(instance.Lane, instance.Id));
                endpoints.Endpoints.Add(endpoint);
            }
        }

        public ValueTask DisposeAsync() => default;

        public override string ToString() => "Kubernetes";
    }
}
