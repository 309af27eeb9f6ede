namespace Lanes.ReverseProxy;

/// <summary>How the gateway treats a lane a client sent (src/Lanes.ReverseProxy/README.md, "Per request, in this order", step 1).</summary>
public enum LaneTrust
{
    /// <summary>A valid lane from the client (header, alias, baggage member) is kept. The default.</summary>
    Accept = 0,

    /// <summary>A client's lane is kept only when some cluster declares it (or has an instance of it); otherwise it is dropped and colouring and the default apply.</summary>
    AcceptDeclared = 1,

    /// <summary>Client lane headers, aliases and baggage members are removed; only colouring rules and the default lane assign lanes.</summary>
    Ignore = 2,
}
