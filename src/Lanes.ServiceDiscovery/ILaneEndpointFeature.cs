namespace Lanes.ServiceDiscovery;

/// <summary>
/// The lane of one service endpoint, as a feature of a <c>Microsoft.Extensions.ServiceDiscovery</c>
/// <c>ServiceEndpoint</c>. Any endpoint provider can attach it (the <c>Lanes:Services</c> provider does; a Kubernetes
/// provider sets it from a pod label); an endpoint without it is unlabelled.
/// </summary>
public interface ILaneEndpointFeature
{
    /// <summary>The lane, or <see langword="null"/> for an unlabelled endpoint.</summary>
    string? Lane { get; }
}
