namespace Lanes.ServiceDiscovery;

/// <summary>Settings of <see cref="LaneServiceEndpoints"/> (<c>services.Configure&lt;LaneServiceEndpointsOptions&gt;(...)</c>).</summary>
public sealed class LaneServiceEndpointsOptions
{
    /// <summary>
    /// A service nobody has asked for (no call routed to it, no resolution) for this long is forgotten: its watch is
    /// dropped and its snapshot's change token fires, so whoever still follows it (the gateway's destinations, a gRPC
    /// channel) asks again and gets a fresh resolution, while names asked once (a client that called
    /// <c>http://api.example.com</c> through lane routing) no longer hold memory. Checked every half of it, on the
    /// injected <see cref="TimeProvider"/>. Default 10 minutes; <see cref="Timeout.InfiniteTimeSpan"/>: never.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
