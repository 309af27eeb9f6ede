namespace Lanes;

/// <summary>
/// A service that this process calls with client-side lane routing (docs/behaviour.md, "Client-side HTTP routing"), from <c>Lanes:Services:&lt;name&gt;</c>:
/// its instances with lane labels, and the same routing keys as a YARP cluster.
/// </summary>
/// <example><code>
/// "Lanes": { "Services": { "reviews": {
///   "Metadata": { "lanePolicy": "Permissive" },
///   "Instances": {
///     "reviews-green": { "Address": "http://10.0.0.5:9080", "Metadata": { "lane": "green" } },
///     "reviews-yellow": { "Address": "http://10.0.0.6:9080", "Metadata": { "lane": "yellow" } } } } } }
/// </code></example>
public sealed class LaneServiceOptions
{
    /// <summary>Routing keys: <c>lanes</c>, <c>lanePolicy</c>, <c>laneBaseline</c>, <c>lanePanicToAny</c> (as on a YARP cluster).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The instances, by id.</summary>
    public IDictionary<string, LaneInstanceOptions> Instances { get; } = new Dictionary<string, LaneInstanceOptions>(StringComparer.OrdinalIgnoreCase);
}
