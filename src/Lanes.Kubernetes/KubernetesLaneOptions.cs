using Lanes.Routing;

namespace Lanes.Kubernetes;

/// <summary>How instances get their lane from the Kubernetes API.</summary>
public enum KubernetesLaneMode
{
    /// <summary>
    /// One Service per logical service: its EndpointSlices list the instances, each endpoint joined to its Pod (through
    /// <c>targetRef</c>) for the lane label; the Service's annotations give the declared lanes, policy and baseline.
    /// Needs get/list/watch on Services, EndpointSlices and Pods.
    /// </summary>
    Pods,

    /// <summary>
    /// One Service per lane (<c>reviews</c>, <c>reviews-dev1</c>), each labelled with the logical service
    /// (<see cref="KubernetesLaneOptions.ServiceLabel"/>) and its lane (<see cref="KubernetesLaneOptions.LaneLabel"/>);
    /// the EndpointSlice controller copies a Service's labels onto its slices, so the slices alone say everything.
    /// Needs list/watch on EndpointSlices only.
    /// </summary>
    ServicePerLane,
}

/// <summary>
/// Settings of the Kubernetes endpoint provider, bound from <c>Lanes:Kubernetes</c> and then
/// <c>AddKubernetesServiceEndpoints(o =&gt; ...)</c>.
/// </summary>
public sealed class KubernetesLaneOptions
{
    /// <summary>Hango's (NetEase) key, used both as the pod label and the Service annotation.</summary>
    public const string HangoMark = "nsf.skiff.netease.com/mark";

    /// <summary>The namespace of the services; <see langword="null"/>: the kubeconfig context's, in a pod its own, else <c>default</c>.</summary>
    public string? Namespace { get; set; }

    /// <summary>Where lanes come from. Default <see cref="KubernetesLaneMode.Pods"/>.</summary>
    public KubernetesLaneMode Mode { get; set; } = KubernetesLaneMode.Pods;

    /// <summary>The pod label (mode Pods) or Service label (mode ServicePerLane) holding an instance's lane. Default <c>lane</c>; Hango: <see cref="HangoMark"/>.</summary>
    public string LaneLabel { get; set; } = "lane";

    /// <summary>The Service annotation listing the declared lanes, comma separated. Default <c>lanes</c>; Hango: <see cref="HangoMark"/> (<c>dev1,dev2</c>).</summary>
    public string LanesAnnotation { get; set; } = "lanes";

    /// <summary>The Service annotation holding the policy (<c>Permissive</c>, <c>Strict</c>, <c>Declared</c>, <c>Any</c>). Default <c>lane-policy</c>.</summary>
    public string PolicyAnnotation { get; set; } = "lane-policy";

    /// <summary>The Service annotation holding the baseline lane (empty: the unlabelled instances). Default <c>lane-baseline</c>.</summary>
    public string BaselineAnnotation { get; set; } = "lane-baseline";

    /// <summary>The policy of a service whose Service has no policy annotation (and of every service in mode ServicePerLane). Default Permissive.</summary>
    public LanePolicy DefaultPolicy { get; set; } = LanePolicy.Permissive;

    /// <summary>The Service label naming the logical service, in mode ServicePerLane. Default <c>app</c>.</summary>
    public string ServiceLabel { get; set; } = "app";

    /// <summary>The port to use: the Service (and slice) port of this name, else the first port. Default <c>http</c>.</summary>
    public string PortName { get; set; } = "http";

    /// <summary>
    /// Names this provider answers for; empty (the default): every name that is a valid Service name (a DNS-1035
    /// label: lower-case letters, digits and '-', at most 63), so <c>http://details</c> is looked up and
    /// <c>http://api.example.com</c> is not.
    /// </summary>
    public IList<string> Services { get; } = [];

    /// <summary>
    /// How long an endpoint whose Pod has not arrived yet is held out of routing before it is reported (warning 404,
    /// naming the RBAC permission to check). It stays held until its Pod arrives: its lane is unknown, and serving it
    /// as unlabelled would send other lanes' traffic to it. Default 5 s.
    /// </summary>
    public TimeSpan PodWaitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A watch that delivers nothing (no event, no bookmark) for this long is dropped and resumed. Default 5 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The first reconnect delay after a failed list or watch, and the first retry delay of a rebuild that threw; doubled
    /// per failure in a row up to <see cref="MaxReconnectDelay"/>, with equal jitter (between half and all of it). Default 200 ms.
    /// </summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest reconnect delay. Default 30 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many objects one list request asks for (<c>limit</c>; the next page with <c>continue</c>). Default 500, as client-go's pager; at least 1.</summary>
    public int ListPageSize { get; set; } = 500;

    /// <summary>How long the first resolution of a service waits for its first list. Default 10 s.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a service's rebuild waits after the first change that touches it, so that a burst of changes (a
    /// rollout relabelling many pods, a slice rewritten many times) is applied in one rebuild. The wait starts at the
    /// first change and is not extended by later ones, so a change reaches routing within about this long however busy
    /// the namespace is. istiod debounces its pushes the same way (100 ms by default). Zero: rebuild as soon as the
    /// worker gets to it. Default 50 ms.
    /// </summary>
    public TimeSpan RebuildDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// A label selector for the pod watch (mode Pods), so that a large namespace's other pods are neither sent nor held:
    /// for instance <c>app in (reviews,ratings)</c>, or the lane label alone (<c>lane</c>) when every instance, the
    /// baseline's too, carries one. An endpoint whose pod the selector leaves out is never seen, so it is held out of
    /// routing (and reported after <see cref="PodWaitTimeout"/>): a selector that is too narrow removes instances, it
    /// never moves them to another lane. Default: none (every pod of the namespace).
    /// </summary>
    public string? PodLabelSelector { get; set; }

    /// <summary>Hango's keys: the pod label and the Service annotation <see cref="HangoMark"/>.</summary>
    public KubernetesLaneOptions UseHango()
    {
        LaneLabel = HangoMark;
        LanesAnnotation = HangoMark;
        return this;
    }
}
