namespace Lanes.ServiceDiscovery;

/// <summary>
/// The lane of one service endpoint, as a feature of a <c>Microsoft.Extensions.ServiceDiscovery</c>
/// <c>ServiceEndpoint</c>. Any endpoint provider can attach it (the <c>Lanes:Services</c> provider does; the
/// Kubernetes provider sets it from a pod label); an endpoint without it is unlabelled, unless the result carries an
/// <see cref="ILaneServiceFeature"/>: then only endpoints with this feature are instances (a provider that gives the
/// service's lane settings speaks for all of its instances, so pass-through's fallback endpoint is not one of them).
/// </summary>
internal interface ILaneEndpointFeature
{
    /// <summary>The lane, or <see langword="null"/> for an unlabelled endpoint.</summary>
    string? Lane { get; }

    /// <summary>The instance's name as the platform knows it (a pod, a registry id), shown in logs and metrics; <see langword="null"/>: numbered.</summary>
    string? InstanceId => null;

    /// <summary>Where the endpoint and its lane came from (<c>configuration</c>, <c>kubernetes</c>, a registry's name), shown on the admin page; <see langword="null"/>: <c>service discovery</c>.</summary>
    string? Origin => null;
}
