namespace Lanes.Routing;

/// <summary>One instance of a service as the subset engine sees it: the item to route to, its lane label (or none) and whether it is healthy.</summary>
public readonly struct LaneInstance<T>(T item, string? lane, bool healthy)
    where T : class
{
    /// <summary>What a pick returns (a YARP destination, a subchannel, an address).</summary>
    public T Item { get; } = item;

    /// <summary>The lane label, or <see langword="null"/> for an unlabelled instance.</summary>
    public string? Lane { get; } = lane;

    /// <summary>Whether the instance may serve (YARP: healthy or unknown; gRPC: connected).</summary>
    public bool Healthy { get; } = healthy;
}
