namespace Lanes.ReverseProxy;

/// <summary>
/// The gateway's lane settings, bound from the <c>Lanes</c> configuration section next to the header names and the
/// default lane (<c>Lanes:Trust</c>, <c>Lanes:DebugHeaders</c>, <c>Lanes:Colouring</c>). They reload without a restart;
/// an invalid change is refused with a logged error and the last good settings stay.
/// </summary>
public sealed class LaneGatewayOptions
{
    /// <summary>What to do with a lane the client sent. Default <see cref="LaneTrust.Accept"/>.</summary>
    public LaneTrust Trust { get; set; }

    /// <summary>
    /// Adds <c>x-lane-served</c> (the subset that served) and <c>x-lane-fallback</c> (why it was not the request's
    /// lane) to responses. Off by default: it tells clients about the topology.
    /// </summary>
    public bool DebugHeaders { get; set; }

    /// <summary>
    /// Retries within the lane, ejection and the attempt timeout for lane-aware clusters (<c>Lanes:Failover</c>,
    /// docs/behaviour.md, "Failover"). On by default; a cluster overrides the retries and the attempt timeout with the
    /// metadata keys <c>laneRetries</c> and <c>laneAttemptTimeout</c>.
    /// </summary>
    public LaneFailoverOptions Failover { get; } = new();

    /// <summary>The colouring rules, in order; the first match wins.</summary>
    public IList<LaneColouringRule> Colouring { get; } = [];

    /// <summary>Shadow rules by name (<c>Lanes:Shadow:&lt;name&gt;</c>): mirror a share of a cluster's traffic into a lane and compare the answers.</summary>
    public IDictionary<string, LaneShadowRule> Shadow { get; } = new Dictionary<string, LaneShadowRule>(StringComparer.OrdinalIgnoreCase);
}
