namespace Lanes.Routing;

/// <summary>One instance of a service as the subset engine sees it: the item to route to, its lane label (or none) and whether it is healthy.</summary>
internal readonly struct LaneInstance<T>(T item, string? lane, bool healthy)
    where T : class
{
    public T Item { get; } = item;

    /// <summary>The lane label, or <see langword="null"/> for an unlabelled instance.</summary>
    public string? Lane { get; } = lane;

    public bool Healthy { get; } = healthy;
}
