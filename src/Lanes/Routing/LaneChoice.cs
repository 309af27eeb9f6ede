namespace Lanes.Routing;

/// <summary>
/// The engine's answer for one lane, computed when the instance set changes and shared by every request of that
/// lane: the subset to balance over (empty means 503), the outcome, the fallback reason and bounded names for
/// debug headers and metrics.
/// </summary>
public sealed class LaneChoice<T>
    where T : class
{
    /// <summary>The name in <c>x-lane-served</c> when the unlabelled instances served.</summary>
    public const string UnlabelledSubset = "(unlabelled)";

    /// <summary>The name in <c>x-lane-served</c> when every healthy instance was eligible.</summary>
    public const string AllSubset = "(all)";

    internal LaneChoice(T[] instances, LaneRoutingOutcome outcome, LaneFallbackReason reason, string? served, string? laneTag, LanePolicy policy, string? emptyBaseline = null)
    {
        EmptyBaseline = emptyBaseline;
        Policy = policy;
        Instances = instances;
        Outcome = outcome;
        Reason = reason;
        Served = served;
        LaneTag = laneTag;
    }

    /// <summary>The instances to balance over; empty when the outcome is <see cref="LaneRoutingOutcome.NoUpstream"/>. Shared: do not modify.</summary>
#pragma warning disable CA1819 // The engine hands out its precomputed array so a pick allocates nothing.
    public T[] Instances { get; }
#pragma warning restore CA1819

    /// <summary>Served by the lane, a fallback, or nothing (503).</summary>
    public LaneRoutingOutcome Outcome { get; }

    /// <summary>Why the outcome is not the lane's own subset.</summary>
    public LaneFallbackReason Reason { get; }

    /// <summary>The service's policy that produced this choice.</summary>
    public LanePolicy Policy { get; }

    /// <summary>The next instance, round robin over <see cref="Instances"/> with the caller's <paramref name="counter"/>; null when empty (503).</summary>
    public T? Next(ref int counter)
    {
        var instances = Instances;
        if (instances.Length == 0)
        {
            return null;
        }

        return instances[(uint)Interlocked.Increment(ref counter) % (uint)instances.Length];
    }

    /// <summary>The subset that serves: a lane, <see cref="UnlabelledSubset"/> or <see cref="AllSubset"/>; <see langword="null"/> for 503.</summary>
    public string? Served { get; }

    /// <summary>For a 503 that came from falling back: the baseline that had no healthy instance (a lane, <see cref="UnlabelledSubset"/> or <see cref="AllSubset"/>).</summary>
    public string? EmptyBaseline { get; }

    /// <summary>The bounded <c>lane</c> metric tag: the lane when the service declares it or has instances of it, else <c>other</c>; <see langword="null"/> without a lane.</summary>
    public string? LaneTag { get; }
}
