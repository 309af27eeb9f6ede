namespace Lanes;

/// <summary>One instance of a <see cref="LaneServiceOptions"/>.</summary>
public sealed class LaneInstanceOptions
{
    /// <summary>The instance's base address, absolute <c>http</c> or <c>https</c> (for example <c>http://10.0.0.5:9080</c>).</summary>
    public string? Address { get; set; }

    /// <summary>The instance's <c>lane</c> label (absent or empty: unlabelled), as on a YARP destination.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}
