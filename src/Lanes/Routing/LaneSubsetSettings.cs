namespace Lanes.Routing;

/// <summary>A service's routing settings for the subset engine (docs/behaviour.md, "Subset selection"), already validated.</summary>
public sealed class LaneSubsetSettings
{
    /// <summary>Permissive, declared lanes from the instances, the unlabelled instances as baseline.</summary>
    public static readonly LaneSubsetSettings Default = new(LanePolicy.Permissive, declaredLanes: null, baselineLane: null, panicToAny: false);

    /// <summary>Settings as they are (validate metadata with <see cref="LaneRoutingMetadata.TryReadService"/>).</summary>
    public LaneSubsetSettings(LanePolicy policy, IReadOnlyCollection<string>? declaredLanes, string? baselineLane, bool panicToAny)
    {
        Policy = policy;
        DeclaredLanes = declaredLanes;
        BaselineLane = baselineLane;
        PanicToAny = panicToAny;
    }

    /// <summary>The policy (docs/behaviour.md, "Subset selection").</summary>
    public LanePolicy Policy { get; }

    /// <summary>The lanes the service declares, or <see langword="null"/> to derive them from the lanes its instances carry.</summary>
    public IReadOnlyCollection<string>? DeclaredLanes { get; }

    /// <summary>The baseline lane, or <see langword="null"/> when the baseline is the unlabelled instances (docs/behaviour.md, "Subset selection").</summary>
    public string? BaselineLane { get; }

    /// <summary>When the chosen subset is empty (the baseline too), use every healthy instance instead of answering 503.</summary>
    public bool PanicToAny { get; }

    /// <summary>
    /// Builds the subset engine for <paramref name="instances"/> under these settings: every lane's choice, precomputed.
    /// Run it when the instances, their health or the settings change, never per request; then
    /// <see cref="LaneSubsets{T}.Select"/> is one lookup that allocates nothing.
    /// </summary>
    public LaneSubsets<T> CreateSubsets<T>(IReadOnlyList<LaneInstance<T>> instances)
        where T : class
        => LaneSubsets<T>.Create(instances, this);
}
