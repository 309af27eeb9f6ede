namespace Lanes.ReverseProxy;

/// <summary>
/// One shadow rule of the gateway (<c>Lanes:Shadow:&lt;name&gt;</c>, docs/behaviour.md, "Shadow lanes"): a share of a
/// cluster's requests that the baseline serves (or <see cref="FromLane"/> serves) is copied to <see cref="Lane"/>'s
/// instances after the primary has answered, and the two answers are compared. The primary is never delayed or
/// changed; a copy that cannot be sent at once (over <see cref="MaxConcurrent"/>, a body over
/// <see cref="MaxBodyBytes"/>, no instance of the lane) is dropped and counted, never queued and never sent to another lane.
/// </summary>
public sealed class LaneShadowRule
{
    /// <summary>The YARP cluster whose requests are mirrored. Required.</summary>
    public string? Cluster { get; set; }

    /// <summary>The lane the copies go to. Required; only that lane's own instances receive them (no fallback).</summary>
    public string? Lane { get; set; }

    /// <summary>
    /// Mirror the requests this lane serves instead of the baseline's (<see langword="null"/>: the requests the
    /// cluster's baseline serves).
    /// </summary>
    public string? FromLane { get; set; }

    /// <summary>The share of matching requests to mirror, 0 to 100. Required.</summary>
    public double? Percent { get; set; }

    /// <summary>The methods mirrored. Default <c>GET</c> and <c>HEAD</c> (safe methods: a copy must not repeat a side effect).</summary>
    public IList<string> Methods { get; } = [];

    /// <summary>
    /// The largest request body copied and the most of each answer's body compared, in bytes. A request with a larger
    /// (or unknown-length) body is not mirrored; an answer over it is compared by length only. Default 65,536.
    /// </summary>
    public int MaxBodyBytes { get; set; } = 65_536;

    /// <summary>Copies in flight at most for this rule; one more is dropped and counted. Default 32.</summary>
    public int MaxConcurrent { get; set; } = 32;

    /// <summary>
    /// Also send each mirrored request to a second baseline instance (another than the one that served the primary):
    /// answer fields that differ between the two baseline answers are noise (timestamps, ids) and are not reported
    /// (Diffy's method). Needs two baseline instances; the second copy repeats the request on the baseline, so it is off by default.
    /// </summary>
    public bool Secondary { get; set; }

    /// <summary>The response headers compared besides status and body. Default <c>content-type</c>.</summary>
    public IList<string> Headers { get; } = [];

    /// <summary>How long a copy may take before it is abandoned (counted as dropped, reason <c>timeout</c>). Default 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
