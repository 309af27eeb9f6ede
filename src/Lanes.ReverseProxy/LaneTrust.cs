namespace Lanes.ReverseProxy;

/// <summary>How the gateway treats a lane a client sent (src/Lanes.ReverseProxy/README.md, "Per request, in this order", step 1).</summary>
public enum LaneTrust
{
    /// <summary>A valid lane from the client (header, alias, baggage member) is kept. The default.</summary>
    Accept = 0,

    /// <summary>
    /// A client's lane is kept only when it exists for this gateway: some cluster declares it or has an instance of it,
    /// or the lane configuration names it (<c>LaneSettings.ConfiguredLanes</c>: the default lane, <c>KnownLanes</c>, the
    /// services under <c>Lanes:Services</c>); otherwise it is dropped (logged, counted in <c>lanes.rejected</c>) and
    /// colouring and the default apply.
    /// </summary>
    AcceptDeclared = 1,

    /// <summary>Client lane headers, aliases and baggage members are removed; only colouring rules and the default lane assign lanes.</summary>
    Ignore = 2,
}
