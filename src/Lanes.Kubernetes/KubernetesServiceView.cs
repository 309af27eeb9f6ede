using System.Globalization;
using System.Net;
using k8s.Models;
using Lanes.Configuration;
using Lanes.Parsing;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.Kubernetes;

/// <summary>What is kept of a Service: the annotations this provider reads and its ports.</summary>
internal sealed record ServiceInfo(string? Lanes, string? Policy, string? Baseline, PortInfo[] Ports);

/// <summary>A named port.</summary>
internal readonly record struct PortInfo(string? Name, int Port);

/// <summary>What is kept of an EndpointSlice: the logical service it belongs to, its lane label (mode ServicePerLane), ports and endpoints.</summary>
internal sealed record SliceInfo(string? Service, string? Lane, PortInfo[] Ports, EndpointInfo[] Endpoints);

/// <summary>One endpoint of a slice: its first address, whether it takes traffic, and its pod.</summary>
internal readonly record struct EndpointInfo(string Address, bool Healthy, string? Pod);

/// <summary>What is kept of a Pod: its lane label.</summary>
internal readonly record struct PodInfo(string? Lane);

/// <summary>One instance as the provider hands it to service discovery.</summary>
internal readonly record struct KubernetesInstance(string Id, EndPoint EndPoint, string? Lane);

/// <summary>A service's current instances and settings; <see cref="Exists"/> is false while the Service is absent.</summary>
// Synced: every list this view reads has been read once; until then the service is not ready.
internal sealed record KubernetesServiceState(bool Exists, LaneSubsetSettings Settings, KubernetesInstance[] Instances, bool Synced = true)
{
    public bool SameAs(KubernetesServiceState other)
        => Exists == other.Exists
           && Synced == other.Synced
           && Settings.Policy == other.Settings.Policy
           && Settings.BaselineLane == other.Settings.BaselineLane
           && Settings.PanicToAny == other.Settings.PanicToAny
           && (Settings.DeclaredLanes ?? []).SequenceEqual(other.Settings.DeclaredLanes ?? [])
           && Instances.AsSpan().SequenceEqual(other.Instances);
}

/// <summary>
/// One logical service, live: its Service (annotations, ports) and EndpointSlices, joined with the namespace's pods
/// (mode Pods), or its lane Services' slices (mode ServicePerLane), read from the namespace's shared lists. Rebuilt by
/// the watches' rebuild queue when one of them changed, off the request path; a change of the result fires
/// <see cref="ChangeToken"/>, which service discovery follows.
/// </summary>
internal sealed class KubernetesServiceView : IDisposable
{
    /// <summary>The label Kubernetes puts on a Service's EndpointSlices, naming the Service.</summary>
    internal const string ServiceNameLabel = "kubernetes.io/service-name";

    private readonly string _service;
    private readonly KubernetesLaneWatches _owner;
    private readonly KubernetesLaneOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private KubernetesServiceState _state;
    private CancellationTokenSource _changed = new();
    private ITimer? _wake;
    private bool _computedSynced;
    private int _rebuilds;

    public KubernetesServiceView(string service, KubernetesLaneWatches owner)
    {
        _service = service;
        _owner = owner;
        _options = owner.Options;
        _logger = owner.Logger;
        _state = new KubernetesServiceState(false, LaneSubsetSettings.Default, [], Synced: false);
    }

    /// <summary>How many times the state was computed (for tests).</summary>
    internal int Rebuilds => Volatile.Read(ref _rebuilds);

    /// <summary>The service this view is of.</summary>
    public string Service => _service;

    /// <summary>How many providers hold this view (under the owner's lock).</summary>
    internal int Holders;

    /// <summary>Dropped when its last provider let go: stops its timer and fires its token, so a remaining follower asks again.</summary>
    public void Evict()
    {
        Dispose();
        Volatile.Read(ref _changed).Cancel();
    }

    /// <summary>Fires when <see cref="State"/> is replaced.</summary>
    public IChangeToken ChangeToken => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public KubernetesServiceState State => Volatile.Read(ref _state);

    public void Dispose()
    {
        lock (_lock)
        {
            _wake?.Dispose();
            _wake = null;
        }
    }

    /// <summary>What is kept of a Service: the annotations <paramref name="options"/> names, and its ports.</summary>
    internal static ServiceInfo ProjectService(V1Service service, KubernetesLaneOptions options)
    {
        var annotations = service.Metadata?.Annotations;
        string? Read(string key) => annotations is not null && annotations.TryGetValue(key, out var value) ? value : null;
        var ports = service.Spec?.Ports?.Select(static p => new PortInfo(p.Name, p.Port)).ToArray() ?? [];
        return new ServiceInfo(Read(options.LanesAnnotation), Read(options.PolicyAnnotation), Read(options.BaselineAnnotation), ports);
    }

    /// <summary>What is kept of an EndpointSlice: its service (mode Pods: <c>kubernetes.io/service-name</c>; ServicePerLane: the service label), lane label, ports, endpoints.</summary>
    internal static SliceInfo ProjectSlice(V1EndpointSlice slice, KubernetesLaneOptions options)
    {
        string? lane = null;
        string? service = null;
        if (slice.Metadata?.Labels is { } labels)
        {
            labels.TryGetValue(options.Mode == KubernetesLaneMode.Pods ? ServiceNameLabel : options.ServiceLabel, out service);
            if (options.Mode == KubernetesLaneMode.ServicePerLane)
            {
                labels.TryGetValue(options.LaneLabel, out lane);
            }
        }

        var ports = slice.Ports?.Where(static p => p.Port is not null).Select(static p => new PortInfo(p.Name, p.Port!.Value)).ToArray() ?? [];
        var endpoints = new List<EndpointInfo>(slice.Endpoints?.Count ?? 0);
        foreach (var endpoint in slice.Endpoints ?? [])
        {
            if (endpoint.Addresses is not { Count: > 0 } addresses)
            {
                continue;
            }

            // Ready (absent: ready, as the API says), serving not false, not terminating: the endpoint takes traffic.
            var conditions = endpoint.Conditions;
            var healthy = conditions?.Ready != false && conditions?.Serving != false && conditions?.Terminating != true;
            var pod = string.Equals(endpoint.TargetRef?.Kind, "Pod", StringComparison.Ordinal) ? endpoint.TargetRef!.Name : null;
            endpoints.Add(new EndpointInfo(addresses[0], healthy, pod));
        }

        return new SliceInfo(service, lane, ports, [.. endpoints]);
    }

    private PodInfo? Pod(string name) => _owner.TryGetPod(name, out var pod) ? pod : null;

    /// <summary>
    /// Computes the state now if it has not been computed from read lists yet (the first resolution, once the lists
    /// are read); later changes come through the rebuild queue.
    /// </summary>
    public void EnsureComputed()
    {
        if (!Volatile.Read(ref _computedSynced) && _owner.Synced)
        {
            Recompute();
        }
    }

    /// <summary>Recomputes the state from the shared lists (the rebuild queue's worker, or the first resolution).</summary>
    public void Recompute()
    {
        lock (_lock)
        {
            Interlocked.Increment(ref _rebuilds);
            var next = Compute();
            if (next.Synced)
            {
                Volatile.Write(ref _computedSynced, true);
            }

            if (next.SameAs(_state))
            {
                return;
            }

            Volatile.Write(ref _state, next);
            var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
            previous.Cancel();                                   // not disposed: a reader may still take its token
        }
    }

    private KubernetesServiceState Compute()
    {
        var lanes = _owner.Propagator.Settings;
        if (!_owner.Synced)
        {
            // Not listed yet: "no such Service" cannot be told from "not read yet", so the service is not ready.
            return new KubernetesServiceState(false, new LaneSubsetSettings(_options.DefaultPolicy, declaredLanes: null, baselineLane: lanes.DefaultLane, panicToAny: false), [], Synced: false);
        }

        ServiceInfo? service = null;
        if (_owner.ReadsServices)
        {
            if (!_owner.TryGetService(_service, out var found))
            {
                _waiting.Clear();
                return new KubernetesServiceState(false, LaneSubsetSettings.Default, []);
            }

            service = found;
        }

        var settings = service is null
            ? new LaneSubsetSettings(_options.DefaultPolicy, declaredLanes: null, baselineLane: lanes.DefaultLane, panicToAny: false)
            : Settings(service, lanes);

        // The port: the Service's port named PortName, else its first; the slice's port of that name carries the
        // number the pods listen on.
        var portName = service is null ? _options.PortName
            : service.Ports.FirstOrDefault(p => p.Name == _options.PortName) is { Name: not null } named ? named.Name
            : service.Ports.Length > 0 ? service.Ports[0].Name : _options.PortName;

        var time = _owner.Time;
        var now = time.GetUtcNow();
        DateTimeOffset? nextDeadline = null;
        var instances = new List<KubernetesInstance>();
        var stillWaiting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slice in _owner.SlicesOf(_service))
        {
            var port = slice.Ports.FirstOrDefault(p => p.Name == portName) is { Port: > 0 } match ? match.Port
                : slice.Ports.Length > 0 ? slice.Ports[0].Port : 0;
            if (port <= 0)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints)
            {
                if (!endpoint.Healthy)
                {
                    continue;
                }

                string? lane;
                if (_options.Mode == KubernetesLaneMode.ServicePerLane || endpoint.Pod is null)
                {
                    lane = slice.Lane;
                }
                else if (Pod(endpoint.Pod) is { } pod)
                {
                    lane = pod.Lane;
                }
                else
                {
                    // The slice arrived before its pod (the pod list lags, or RBAC forbids it): its lane is unknown, so
                    // the endpoint is held out of every subset until the pod arrives, however long that takes. Serving
                    // it as unlabelled would send other lanes' traffic to it. Past PodWaitTimeout it is reported once.
                    stillWaiting.Add(endpoint.Pod);
                    if (!_waiting.TryGetValue(endpoint.Pod, out var since))
                    {
                        _waiting[endpoint.Pod] = since = now;
                    }

                    var deadline = since + _options.PodWaitTimeout;
                    if (deadline > now)
                    {
                        nextDeadline = nextDeadline is null || deadline < nextDeadline ? deadline : nextDeadline;
                    }
                    else if (_reported.Add(endpoint.Pod))
                    {
                        KubernetesLog.PodNotSeen(_logger, _service, endpoint.Address, endpoint.Pod, _options.PodWaitTimeout);
                    }

                    continue;
                }

                // A label that is not a valid lane is handed on as it is: the discovery layer leaves that instance out
                // and logs it (event 303), so it never serves as the baseline by mistake.
                var endPoint = IPAddress.TryParse(endpoint.Address, out var ip) ? (EndPoint)new IPEndPoint(ip, port) : new DnsEndPoint(endpoint.Address, port);
                var id = endpoint.Pod ?? string.Create(CultureInfo.InvariantCulture, $"{endpoint.Address}:{port}");
                instances.Add(new KubernetesInstance(id, endPoint, lane));
            }
        }

        foreach (var pod in _waiting.Keys.Where(p => !stillWaiting.Contains(p)).ToArray())
        {
            _waiting.Remove(pod);
            _reported.Remove(pod);
        }

        _wake?.Dispose();
        _wake = nextDeadline is { } wake
            ? time.CreateTimer(static s => ((KubernetesServiceView)s!).WakeUp(), this, wake - now + TimeSpan.FromTicks(1), Timeout.InfiniteTimeSpan)
            : null;

        instances.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new KubernetesServiceState(true, settings, [.. instances]);
    }

    private void WakeUp() => _owner.Enqueue(_service);

    private LaneSubsetSettings Settings(ServiceInfo service, LaneSettings lanes)
    {
        var policy = _options.DefaultPolicy;
        if (service.Policy is { } policyText && !Enum.TryParse(policyText.Trim(), ignoreCase: true, out policy))
        {
            KubernetesLog.InvalidAnnotation(_logger, _service, _options.PolicyAnnotation, LaneParser.Escape(policyText), $"the default policy {_options.DefaultPolicy} applies");
            policy = _options.DefaultPolicy;
        }

        List<string>? declared = null;
        if (service.Lanes is { } lanesText)
        {
            declared = [];
            foreach (var part in lanesText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (LaneParser.IsValidLane(part, lanes.MaxLength))
                {
                    declared.Add(part);
                }
                else
                {
                    KubernetesLog.InvalidAnnotation(_logger, _service, _options.LanesAnnotation, LaneParser.Escape(part), "that lane is not declared");
                }
            }
        }

        var baseline = lanes.DefaultLane;
        if (service.Baseline is { } baselineText)
        {
            baselineText = baselineText.Trim();
            if (baselineText.Length == 0)
            {
                baseline = null;
            }
            else if (LaneParser.IsValidLane(baselineText, lanes.MaxLength))
            {
                baseline = baselineText;
            }
            else
            {
                KubernetesLog.InvalidAnnotation(_logger, _service, _options.BaselineAnnotation, LaneParser.Escape(baselineText), "the default baseline applies");
            }
        }

        return new LaneSubsetSettings(policy, declared, baseline, panicToAny: false);
    }
}
