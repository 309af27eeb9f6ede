using Lanes.Routing;
using Microsoft.Extensions.Primitives;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// What service discovery resolved for one service at one moment: its routing settings and its instances with their
/// lanes, as the core <see cref="LaneServiceDefinition"/>. Immutable; a change in discovery produces a new snapshot.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Design", "CA1001", Justification = "A CancellationTokenSource without a timer holds nothing to release; a snapshot is dropped, not disposed.")]
public sealed class LaneServiceSnapshot
{
    private readonly CancellationTokenSource _superseded = new();

    internal LaneServiceSnapshot(LaneServiceDefinition definition, bool isLaneAware, bool hasServiceSettings)
    {
        Definition = definition;
        IsLaneAware = isLaneAware;
        HasServiceSettings = hasServiceSettings;
        ChangeToken = new CancellationChangeToken(_superseded.Token);
    }

    /// <summary>The service (the host of <c>http://details</c>), its settings and its instances.</summary>
    public LaneServiceDefinition Definition { get; }

    /// <summary>True when the service has lane settings (<see cref="ILaneServiceFeature"/>) or a labelled instance.</summary>
    public bool IsLaneAware { get; }

    /// <summary>
    /// True when a provider gave the service's settings (<see cref="ILaneServiceFeature"/>: <c>Lanes:Services</c>, a
    /// Kubernetes Service's annotations), not only labelled instances; the gateway then uses them for a cluster that
    /// sets no lane metadata of its own.
    /// </summary>
    public bool HasServiceSettings { get; }

    /// <summary>
    /// Fires once a newer snapshot of the service has replaced this one: <see cref="LaneServiceEndpoints.GetAsync"/>
    /// already returns the newer one when the callbacks run (so a consumer that resolves again on this token, as YARP
    /// does, never resolves to this snapshot again).
    /// </summary>
    public IChangeToken ChangeToken { get; }

    internal void Supersede() => _superseded.Cancel();
}
