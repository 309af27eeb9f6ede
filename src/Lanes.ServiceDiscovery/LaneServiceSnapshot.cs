using Lanes.Routing;
using Microsoft.Extensions.Primitives;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// What service discovery resolved for one service at one moment: its routing settings and its instances with their
/// lanes, as the core <see cref="LaneServiceDefinition"/>. Immutable; a change in discovery produces a new snapshot.
/// </summary>
public sealed class LaneServiceSnapshot
{
    internal LaneServiceSnapshot(LaneServiceDefinition definition, bool isLaneAware, IChangeToken changeToken)
    {
        Definition = definition;
        IsLaneAware = isLaneAware;
        ChangeToken = changeToken;
    }

    /// <summary>The service (the host of <c>http://details</c>), its settings and its instances.</summary>
    public LaneServiceDefinition Definition { get; }

    /// <summary>True when the service has lane settings (<see cref="ILaneServiceFeature"/>) or a labelled instance.</summary>
    public bool IsLaneAware { get; }

    /// <summary>Fires when discovery has newer endpoints for the service than this snapshot.</summary>
    public IChangeToken ChangeToken { get; }
}
