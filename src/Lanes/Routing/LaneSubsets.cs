using System.Collections.Frozen;

namespace Lanes.Routing;

/// <summary>
/// The subset engine (docs/behaviour.md, "Subset selection"), one per service and instance set. <see cref="LaneSubsetSettings.CreateSubsets{T}"/> runs when instances, health
/// or configuration change and precomputes a <see cref="LaneChoice{T}"/> for every lane the service knows, for a
/// request without a lane and for any other lane; <see cref="Select"/> is then one dictionary lookup, O(1) in the
/// number of instances, and allocates nothing. Used by the gateway and by client-side routing alike.
/// </summary>
/// <remarks>
/// Only healthy instances count. The baseline is the healthy instances of <see cref="LaneSubsetSettings.BaselineLane"/>,
/// or the healthy unlabelled instances when it is <see langword="null"/>. Declared lanes are
/// <see cref="LaneSubsetSettings.DeclaredLanes"/>, or, when not given, every lane an instance carries, healthy or not.
/// </remarks>
public sealed class LaneSubsets<T>
    where T : class
{
    private readonly FrozenDictionary<string, LaneChoice<T>> _byLane;
    private readonly FrozenDictionary<string, LaneChoice<T>> _withoutOwnInstances;
    private readonly LaneChoice<T> _noLane;
    private readonly LaneChoice<T> _otherLane;

    private LaneSubsets(
        LaneSubsetSettings settings,
        FrozenDictionary<string, LaneChoice<T>> byLane,
        FrozenDictionary<string, LaneChoice<T>> withoutOwnInstances,
        LaneChoice<T> noLane,
        LaneChoice<T> otherLane,
        string[] declaredLanes)
    {
        Settings = settings;
        _byLane = byLane;
        _withoutOwnInstances = withoutOwnInstances;
        _noLane = noLane;
        _otherLane = otherLane;
        DeclaredLanes = declaredLanes;
    }

    /// <summary>The service's routing settings these subsets were built with.</summary>
    public LaneSubsetSettings Settings { get; }

    /// <summary>The effective declared lanes, sorted: configured, or derived from the instances' labels.</summary>
    public IReadOnlyList<string> DeclaredLanes { get; }

    /// <summary>Every lane these subsets have a choice of their own for: the declared lanes and the lanes instances carry.</summary>
    public IReadOnlyCollection<string> Lanes => _byLane.Keys;

    /// <summary>The choice for <paramref name="lane"/> (<see langword="null"/>: no lane). Never allocates.</summary>
    public LaneChoice<T> Select(string? lane)
    {
        if (lane is null)
        {
            return _noLane;
        }

        return _byLane.TryGetValue(lane, out var choice) ? choice : _otherLane;
    }

    /// <summary>
    /// The choice for <paramref name="lane"/> once every instance <see cref="Select"/> gave it has failed (failover,
    /// docs/behaviour.md, "Failover"): for a lane served by instances of its own, where the policy sends the lane when
    /// none of them is healthy (the row "L declared, instances all unhealthy", or "L not declared, no instances" for a
    /// lane only instances carry when the declared lanes are configured);
    /// for any other call the same choice as <see cref="Select"/>, whose instances were not the lane's own to begin
    /// with. The caller leaves out the instances it already tried. Never allocates.
    /// </summary>
    public LaneChoice<T> SelectWithoutOwnInstances(string? lane)
    {
        if (lane is null)
        {
            return _noLane;
        }

        return _withoutOwnInstances.TryGetValue(lane, out var choice) ? choice : Select(lane);
    }

    internal static LaneSubsets<T> Create(IReadOnlyList<LaneInstance<T>> instances, LaneSubsetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentNullException.ThrowIfNull(settings);

        var healthyByLane = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        var labelled = new HashSet<string>(StringComparer.Ordinal);
        var unlabelled = new List<T>();
        var healthy = new List<T>();
        for (var i = 0; i < instances.Count; i++)
        {
            var instance = instances[i];
            if (instance.Lane is not null)
            {
                labelled.Add(instance.Lane);
            }

            if (!instance.Healthy)
            {
                continue;
            }

            healthy.Add(instance.Item);
            if (instance.Lane is null)
            {
                unlabelled.Add(instance.Item);
            }
            else
            {
                if (!healthyByLane.TryGetValue(instance.Lane, out var list))
                {
                    list = [];
                    healthyByLane.Add(instance.Lane, list);
                }

                list.Add(instance.Item);
            }
        }

        var declared = settings.DeclaredLanes is null
            ? labelled
            : new HashSet<string>(settings.DeclaredLanes, StringComparer.Ordinal);
        var all = healthy.ToArray();
        var baseline = settings.BaselineLane is null
            ? unlabelled.ToArray()
            : healthyByLane.TryGetValue(settings.BaselineLane, out var baselineList) ? baselineList.ToArray() : [];
        var builder = new ChoiceBuilder(settings, all, baseline);

        var byLane = new Dictionary<string, LaneChoice<T>>(StringComparer.Ordinal);
        var withoutOwn = new Dictionary<string, LaneChoice<T>>(StringComparer.Ordinal);
        var lanes = new HashSet<string>(declared, StringComparer.Ordinal);
        lanes.UnionWith(labelled);
        foreach (var lane in lanes)
        {
            var subset = healthyByLane.TryGetValue(lane, out var list) ? list.ToArray() : null;
            var isDeclared = declared.Contains(lane);
            var choice = builder.ForLane(lane, subset, isDeclared);
            byLane.Add(lane, choice);
            if (choice.Outcome == LaneRoutingOutcome.Matched)
            {
                // Its instances all failed: the row of the lane with no healthy instance, declared or not.
                withoutOwn.Add(lane, builder.ForLane(lane, subset: null, isDeclared));
            }
        }

        var declaredSorted = declared.ToArray();
        Array.Sort(declaredSorted, StringComparer.Ordinal);
        return new LaneSubsets<T>(
            settings,
            byLane.ToFrozenDictionary(StringComparer.Ordinal),
            withoutOwn.ToFrozenDictionary(StringComparer.Ordinal),
            builder.ForNoLane(),
            builder.ForLane(LanesDiagnostics.OtherLane, subset: null, declared: false),
            declaredSorted);
    }

    private readonly struct ChoiceBuilder(LaneSubsetSettings settings, T[] all, T[] baseline)
    {
        private string BaselineName => settings.BaselineLane ?? LaneChoice<T>.UnlabelledSubset;

        public LaneChoice<T> ForNoLane() => settings.Policy == LanePolicy.Any
            ? Fallback(all, LaneChoice<T>.AllSubset, LaneFallbackReason.NoLane, laneTag: null)
            : Fallback(baseline, BaselineName, LaneFallbackReason.NoLane, laneTag: null);

        /// <summary>The row of the subset table (docs/behaviour.md, "Subset selection") for a lane; <paramref name="subset"/> is its healthy instances, <see langword="null"/> when none.</summary>
        public LaneChoice<T> ForLane(string laneTag, T[]? subset, bool declared)
        {
            if (subset is { Length: > 0 })
            {
                return new LaneChoice<T>(subset, LaneRoutingOutcome.Matched, LaneFallbackReason.None, laneTag, laneTag, settings.Policy);
            }

            var reason = declared ? LaneFallbackReason.LaneUnavailable : LaneFallbackReason.LaneUndeclared;
            return settings.Policy switch
            {
                LanePolicy.Strict => NoUpstream(reason, laneTag),
                LanePolicy.Declared when declared => NoUpstream(reason, laneTag),
                LanePolicy.Any => Fallback(all, LaneChoice<T>.AllSubset, reason, laneTag),
                _ => Fallback(baseline, BaselineName, reason, laneTag),
            };
        }

        /// <summary>The chosen set, unless it is empty: then 503, or every healthy instance with <see cref="LaneSubsetSettings.PanicToAny"/>.</summary>
        private LaneChoice<T> Fallback(T[] chosen, string served, LaneFallbackReason reason, string? laneTag)
        {
            if (chosen.Length > 0)
            {
                return new LaneChoice<T>(chosen, LaneRoutingOutcome.Fallback, reason, served, laneTag, settings.Policy);
            }

            if (settings.PanicToAny && all.Length > 0)
            {
                return new LaneChoice<T>(all, LaneRoutingOutcome.Fallback, reason, LaneChoice<T>.AllSubset, laneTag, settings.Policy);
            }

            return NoUpstream(reason, laneTag, served);
        }

        private LaneChoice<T> NoUpstream(LaneFallbackReason reason, string? laneTag, string? emptyBaseline = null)
            => new([], LaneRoutingOutcome.NoUpstream, reason, served: null, laneTag, settings.Policy, emptyBaseline);
    }
}
