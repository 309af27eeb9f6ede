using Lanes.Routing;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A logical service whose instances run in lanes (docs/aspire.md): not a process of its own, but the name callers use
/// (<c>http://reviews</c>, <c>lanes:///reviews</c>), its routing settings (policy, declared lanes, baseline) and the
/// resources that are its instances, each in a lane or unlabelled (the baseline). Added with
/// <c>builder.AddLaneService("reviews")</c>; instances join with <c>WithLane(service, lane)</c>; callers get every
/// instance's endpoint and lane with <c>WithLaneReference(service)</c>, a YARP gateway with <c>WithLaneCluster(service)</c>.
/// </summary>
public sealed class LaneServiceResource : Resource
{
    private readonly List<LaneInstance> _instances = [];

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

    /// <summary>The instances, in the order they joined.</summary>
    internal IReadOnlyList<LaneInstance> Instances => _instances;

    internal void Add(LaneInstance instance) => _instances.Add(instance);

    /// <summary>One resource serving this service: its endpoint and its lane (null: unlabelled).</summary>
    internal sealed record LaneInstance(IResourceWithEndpoints Resource, string EndpointName, string? Lane)
    {
        public EndpointReference Endpoint => Resource.GetEndpoint(EndpointName);
    }
}
