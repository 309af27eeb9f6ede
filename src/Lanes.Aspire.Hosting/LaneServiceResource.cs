using Lanes.Routing;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A logical service whose instances run in lanes (docs/aspire.md): not a process of its own, but the name callers use
/// (<c>http://reviews</c>, <c>lanes:///reviews</c>), its routing settings (policy, declared lanes, baseline) and the
/// resources that are its instances, each in a lane or unlabelled (the baseline). Added with
/// <c>builder.AddLaneService("reviews")</c>; instances join with <c>WithLane(service, lane)</c>; callers get every
/// instance's endpoint and lane with <c>WithLaneReference(service)</c>, a YARP gateway with <c>WithLaneCluster(service)</c>.
/// It has no lifetime (<see cref="IResourceWithoutLifetime"/>, like a parameter or a connection string): nothing starts
/// or stops, and the dashboard shows its settings and instances as properties and its instances as relationships.
/// </summary>
public sealed class LaneServiceResource : Resource, IResourceWithoutLifetime
{
    private readonly List<IResourceWithEndpoints> _instances = [];

    /// <summary>Creates the logical service <paramref name="name"/>, routed <see cref="LanePolicy.Permissive"/> until set otherwise.</summary>
    public LaneServiceResource(string name)
        : base(name)
    {
    }

    /// <summary>What a request whose lane has no instance gets (docs/behaviour.md, "Subset selection"); <see cref="LanePolicy.Permissive"/> by default.</summary>
    public LanePolicy Policy { get; internal set; } = LanePolicy.Permissive;

    /// <summary>The lanes declared for <see cref="LanePolicy.Declared"/> (the <c>lanes</c> metadata); empty when none are.</summary>
    public IReadOnlyList<string> DeclaredLanes { get; internal set; } = [];

    /// <summary>
    /// The instances that serve requests without a lane and those that fall back (<c>laneBaseline</c>): a lane's, or
    /// the unlabelled ones for an empty string. Null when not set: then each caller's default lane, or its unlabelled
    /// instances when it has no default lane (docs/behaviour.md, "Subset selection").
    /// </summary>
    public string? Baseline { get; internal set; }

    /// <summary>
    /// The instances, in the order they joined: each resource's <see cref="LaneInstanceAnnotation"/> for this service
    /// says its endpoint and lane (the annotation on the instance is the one record of both).
    /// </summary>
    internal IEnumerable<LaneInstanceAnnotation> Instances
    {
        get
        {
            foreach (var resource in _instances)
            {
                yield return LaneInstanceAnnotation.Of(resource, this)!;
            }
        }
    }

    internal int InstanceCount => _instances.Count;

    internal void Add(IResourceWithEndpoints instance) => _instances.Add(instance);
}

/// <summary>
/// On a resource that is an instance of a <see cref="LaneServiceResource"/>: which service, in which lane (null:
/// unlabelled) and at which of its endpoints. Added by <c>WithLane(service, lane)</c>.
/// </summary>
internal sealed class LaneInstanceAnnotation(LaneServiceResource service, IResourceWithEndpoints resource, string endpointName, string? lane) : IResourceAnnotation
{
    public LaneServiceResource Service { get; } = service;

    public IResourceWithEndpoints Resource { get; } = resource;

    public string EndpointName { get; } = endpointName;

    public string? Lane { get; } = lane;

    public EndpointReference Endpoint => Resource.GetEndpoint(EndpointName);

    /// <summary>The annotation that makes <paramref name="resource"/> an instance of <paramref name="service"/>, or null.</summary>
    public static LaneInstanceAnnotation? Of(IResource resource, LaneServiceResource service)
        => resource.Annotations.OfType<LaneInstanceAnnotation>().FirstOrDefault(a => ReferenceEquals(a.Service, service));
}
