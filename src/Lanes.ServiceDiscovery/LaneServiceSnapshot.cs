using Lanes.Routing;
using Microsoft.Extensions.Primitives;

namespace Lanes.ServiceDiscovery;

/// <summary>
/// What service discovery resolved for one service at one moment: its routing settings and its instances with their
/// lanes, as the core <see cref="LaneServiceDefinition"/>. Immutable; keyed by (<see cref="Scheme"/>, <see cref="Service"/>)
/// with a <see cref="Version"/>; a change of instances or settings in discovery produces a new snapshot (a reading that
/// changed nothing produces none) and fires this one's <see cref="ChangeToken"/>: the one signal followers follow.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Design", "CA1001", Justification = "A CancellationTokenSource without a timer holds nothing to release; a snapshot is dropped, not disposed.")]
public sealed class LaneServiceSnapshot
{
    private readonly CancellationTokenSource _superseded = new();

    internal LaneServiceSnapshot(string scheme, LaneServiceDefinition definition, bool isLaneAware, bool hasServiceSettings, long version)
    {
        Scheme = scheme;
        Version = version;
        Key = scheme + "://" + definition.Name.ToLowerInvariant();
        Definition = definition;
        IsLaneAware = isLaneAware;
        HasServiceSettings = hasServiceSettings;
        ChangeToken = new CancellationChangeToken(_superseded.Token);
    }

    /// <summary>The scheme the service was asked for with (<c>http</c>, <c>https+http</c>): with <see cref="Service"/>, the snapshot's key.</summary>
    public string Scheme { get; }

    /// <summary>The service name (the host of <c>http://details</c>): with <see cref="Scheme"/>, the snapshot's key.</summary>
    public string Service => Definition.Name;

    /// <summary>
    /// The snapshot's version: a newer snapshot of the same key always has a greater one (also after the service was
    /// forgotten and read afresh), so a follower that holds a newer snapshot ignores an older one (a retry that still holds it).
    /// </summary>
    public long Version { get; }

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

    /// <summary><c>scheme://service</c>, the service lower-cased: the key followers keep their state under.</summary>
    internal string Key { get; }

    internal void Supersede() => _superseded.Cancel();

    /// <summary>True when <paramref name="other"/> has the same instances (id, address, lane, in order) and settings: nothing to publish.</summary>
    internal bool SameAs(LaneServiceSnapshot other)
    {
        if (IsLaneAware != other.IsLaneAware || HasServiceSettings != other.HasServiceSettings || !SameSettings(Definition.Settings, other.Definition.Settings))
        {
            return false;
        }

        var a = Definition.Instances;
        var b = other.Definition.Instances;
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Id != b[i].Id || a[i].Address != b[i].Address || a[i].Lane != b[i].Lane || a[i].Origin != b[i].Origin)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameSettings(LaneSubsetSettings a, LaneSubsetSettings b)
        => ReferenceEquals(a, b)
            || (a.Policy == b.Policy && a.BaselineLane == b.BaselineLane && a.PanicToAny == b.PanicToAny
                && (a.DeclaredLanes is null ? b.DeclaredLanes is null : b.DeclaredLanes is not null && a.DeclaredLanes.Order(StringComparer.Ordinal).SequenceEqual(b.DeclaredLanes.Order(StringComparer.Ordinal), StringComparer.Ordinal)));
}
