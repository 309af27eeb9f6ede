using Lanes.Configuration;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The JSON document of the admin endpoint (and what the page draws): lane settings; per cluster its policy, declared
/// lanes, destinations by lane with health, counters and the cluster x lane matrix decided by the engine; the lanes
/// declared against those observed; traffic over the last five minutes; the entry's rules with their hit counts.
/// </summary>
internal static class LanesAdminReport
{
    private static readonly IReadOnlyDictionary<string, long> s_noSources = new Dictionary<string, long>();

    private const string NoLane = "(no lane)";

    public static AdminReport Build(LaneSettings settings, LaneGatewayConfig config, LaneClusterRouting routing, LaneAdminSources sources)
    {
        var observed = sources.Observed.Snapshot().ToDictionary(static o => o.Lane, StringComparer.Ordinal);
        var ordered = routing.Clusters.OrderBy(static c => c.ClusterId, StringComparer.Ordinal).ToList();

        // The matrix's columns: every lane some cluster declares or labels an instance with, and every observed lane.
        var columns = new SortedSet<string>(observed.Keys, StringComparer.Ordinal);
        foreach (var cluster in ordered)
        {
            if (routing.GetSubsets(cluster) is { } subsets)
            {
                columns.UnionWith(subsets.DeclaredLanes);
                foreach (var destination in cluster.Destinations.Values)
                {
                    if (routing.ReadLane(destination) is { } label)
                    {
                        columns.Add(label);
                    }
                }
            }
        }

        var clusters = new List<AdminCluster>();
        var declaredBy = new SortedDictionary<string, List<AdminDeclaration>>(StringComparer.Ordinal);
        foreach (var cluster in ordered)
        {
            clusters.Add(Cluster(cluster, routing, sources, columns, declaredBy));
        }

        // The same answer as the entry's trust (LaneClusterRouting.IsDeclaredAnywhere): the lane configuration counts too.
        ConfiguredDeclarations(settings, declaredBy);
        var lanes = new List<AdminLane>();
        foreach (var lane in declaredBy.Keys.Union(observed.Keys).Order(StringComparer.Ordinal))
        {
            var seen = observed.TryGetValue(lane, out var o);
            var declarations = declaredBy.TryGetValue(lane, out var list) ? list : [];
            lanes.Add(new AdminLane(lane, declarations, seen ? o.Count : 0, seen ? o.LastSeen : null, seen && declarations.Count == 0, seen ? o.From : s_noSources));
        }

        var trust = config.Trust.ToString();
        return new AdminReport(
            settings.Header,
            settings.Aliases,
            settings.DefaultLane,
            trust,
            config.Rules.Length,
            config.DebugHeaders,
            sources.Time.GetUtcNow(),
            new AdminEntry(
                trust,
                settings.DefaultLane,
                settings.Header,
                settings.Aliases,
                config.Rules.Select(r => new AdminRule(r.Index, r.Lane, r.Describe(), r.Override, sources.Traffic.RuleHits(r.Index, r.Lane))).ToList(),
                settings.PropagatorsText.Split(", ")),
            lanes,
            columns,
            sources.Observed.Overflow,
            new AdminTraffic(
                (int)LaneTrafficWindow.BucketLength.TotalSeconds,
                sources.Traffic.Snapshot()
                    .OrderBy(static t => t.Service, StringComparer.Ordinal).ThenBy(static t => t.Lane, StringComparer.Ordinal).ThenBy(static t => t.Outcome, StringComparer.Ordinal)
                    .Select(static t => new AdminTrafficSeries(t.Service, t.Lane.Length == 0 ? null : t.Lane, t.Outcome, t.LastMinute, t.LastFiveMinutes, t.Series))
                    .ToList()),
            clusters,
            sources.Discovery.GetStatuses()
                .Select(static d => new AdminDiscoveredService(d.Service, d.Scheme, d.IsKnown, d.Instances, d.Refreshed, d.FailingSince, d.Failure))
                .ToList(),
            Shadows(config, sources.Shadow));
    }

    /// <summary>Every configured shadow rule, with what it found (zeros before its first copy).</summary>
    private static List<AdminShadow> Shadows(LaneGatewayConfig config, Shadow.LaneShadowMirror mirror)
    {
        var states = mirror.States.ToDictionary(static s => s.Rule.Name, StringComparer.Ordinal);
        var shadows = new List<AdminShadow>(config.Shadows.Length);
        foreach (var rule in config.Shadows)
        {
            states.TryGetValue(rule.Name, out var state);
            var primary = state?.PrimaryLatency ?? default;
            var shadow = state?.ShadowLatency ?? default;
            shadows.Add(new AdminShadow(
                rule.Name,
                rule.Cluster,
                rule.Lane,
                rule.FromLane,
                rule.Percent,
                rule.Secondary,
                state?.Mirrored ?? 0,
                state?.DroppedTotal ?? 0,
                state?.Dropped ?? s_noSources,
                state?.Differing ?? 0,
                state?.Fields().Select(static f => new AdminShadowField(f.Path, f.Count, f.Example)).ToList() ?? [],
                state?.Noise() ?? [],
                new AdminLatency(primary.P50, primary.P99),
                new AdminLatency(shadow.P50, shadow.P99)));
        }

        return shadows;
    }

    /// <summary>The lanes the process's lane configuration names (<see cref="LaneSettings.ConfiguredLanes"/>), with where each comes from.</summary>
    private static void ConfiguredDeclarations(LaneSettings settings, SortedDictionary<string, List<AdminDeclaration>> declaredBy)
    {
        void Add(string lane, string name, string from)
        {
            if (!declaredBy.TryGetValue(lane, out var list))
            {
                declaredBy[lane] = list = [];
            }

            list.Add(new AdminDeclaration(name, from));
        }

        if (settings.DefaultLane is { } defaultLane)
        {
            Add(defaultLane, "(default lane)", "Lanes:DefaultLane");
        }

        foreach (var lane in settings.KnownLanes?.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
        {
            Add(lane, "(known lanes)", "Lanes:KnownLanes");
        }

        foreach (var service in settings.Services.Values.OrderBy(static s => s.Name, StringComparer.Ordinal))
        {
            var lanes = new SortedSet<string>(service.Settings.DeclaredLanes ?? [], StringComparer.Ordinal);
            foreach (var instance in service.Instances)
            {
                if (instance.Lane is { } lane)
                {
                    lanes.Add(lane);
                }
            }

            foreach (var lane in lanes)
            {
                Add(lane, service.Name, "Lanes:Services");
            }
        }
    }

    private static AdminCluster Cluster(ClusterState cluster, LaneClusterRouting routing, LaneAdminSources sources, SortedSet<string> columns, SortedDictionary<string, List<AdminDeclaration>> declaredBy)
    {
        var subsets = routing.GetSubsets(cluster);
        var available = new HashSet<DestinationState>(cluster.DestinationsState.AvailableDestinations, ReferenceEqualityComparer.Instance);
        var all = cluster.Destinations.Values.OrderBy(static d => d.DestinationId, StringComparer.Ordinal).ToList();
        var destinations = all
            .Select(d => new AdminDestination(
                d.DestinationId,
                d.Model?.Config.Address,
                routing.ReadLane(d),
                Origin(d),
                new AdminHealth(d.Health.Active.ToString(), d.Health.Passive.ToString()),
                available.Contains(d),
                d.ConcurrentRequestCount,
                sources.Failures.Recent(d)))
            .ToList();
        var lanes = destinations
            .GroupBy(static d => d.Lane ?? LaneChoice<DestinationState>.UnlabelledSubset, StringComparer.Ordinal)
            .OrderBy(static g => g.Key, StringComparer.Ordinal)
            .ToDictionary(static g => g.Key, static g => g.Select(static d => d.Id).ToArray(), StringComparer.Ordinal);
        var counters = sources.Traffic.Totals(cluster.ClusterId)
            .OrderBy(static c => c.Lane, StringComparer.Ordinal).ThenBy(static c => c.Outcome, StringComparer.Ordinal).ThenBy(static c => c.Reason, StringComparer.Ordinal)
            .Select(static c => new AdminCounter(c.Lane, c.Outcome, c.Reason, c.Count))
            .ToList();

        string? declarationSource = null;
        List<AdminCell>? matrix = null;
        if (subsets is not null)
        {
            declarationSource = DeclarationSource(cluster, subsets);
            foreach (var lane in subsets.DeclaredLanes)
            {
                if (!declaredBy.TryGetValue(lane, out var list))
                {
                    declaredBy[lane] = list = [];
                }

                list.Add(new AdminDeclaration(cluster.ClusterId, declarationSource));
            }

            matrix = [Cell(null, subsets, all, available, routing)];
            foreach (var lane in columns)
            {
                matrix.Add(Cell(lane, subsets, all, available, routing));
            }
        }

        return new AdminCluster(
            cluster.ClusterId,
            subsets is not null,
            subsets?.Settings.Policy.ToString(),
            subsets is null ? null : subsets.Settings.BaselineLane ?? LaneChoice<DestinationState>.UnlabelledSubset,
            subsets?.Settings.PanicToAny,
            subsets?.DeclaredLanes,
            subsets is null ? null : subsets.Settings.DeclaredLanes is null ? "destinations" : "metadata",
            declarationSource,
            lanes,
            destinations,
            counters,
            matrix,
            subsets is null ? null : Failover(cluster, sources.Failover));
    }

    private static AdminFailover Failover(ClusterState cluster, Failover.LaneGatewayFailover failover)
    {
        var state = failover.Cluster(cluster.ClusterId);
        return new AdminFailover(
            Lanes.ReverseProxy.Failover.LaneGatewayFailover.Retries(cluster.Model, failover.Settings),
            state.Ejections,
            state.Counts()
                .OrderBy(static c => c.Reason, StringComparer.Ordinal).ThenBy(static c => c.Outcome, StringComparer.Ordinal)
                .Select(static c => new AdminRetryCount(c.Reason, c.Outcome, c.Count))
                .ToList(),
            cluster.Destinations.Values
                .Where(static d => d.Health.Passive == DestinationHealth.Unhealthy)
                .Select(static d => d.DestinationId)
                .Order(StringComparer.Ordinal)
                .ToList());
    }

    /// <summary>One cell of the matrix: the engine's own choice for the lane (<see langword="null"/>: no lane), with the lane's healthy and total instances (for no lane, the baseline's).</summary>
    private static AdminCell Cell(string? lane, LaneSubsets<DestinationState> subsets, List<DestinationState> all, HashSet<DestinationState> available, LaneClusterRouting routing)
    {
        var choice = subsets.Select(lane);
        var label = lane ?? subsets.Settings.BaselineLane;
        int total = 0, healthy = 0;
        foreach (var destination in all)
        {
            if (string.Equals(routing.ReadLane(destination), label, StringComparison.Ordinal))
            {
                total++;
                healthy += available.Contains(destination) ? 1 : 0;
            }
        }

        return new AdminCell(
            lane,
            lane ?? NoLane,
            lane is not null && subsets.DeclaredLanes.Contains(lane, StringComparer.Ordinal),
            healthy,
            total,
            LaneRoutingNames.Get(choice.Outcome),
            LaneRoutingNames.Get(choice.Reason),
            choice.Served,
            choice.Instances.Length == 0 ? 503 : null,
            choice.Instances.Select(static d => d.DestinationId).Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>Where a cluster's declared lanes come from: its <c>lanes</c> metadata, service discovery (a Service's annotations, <c>Lanes:Services</c>), or its instances' labels.</summary>
    private static string DeclarationSource(ClusterState cluster, LaneSubsets<DestinationState> subsets)
    {
        if (subsets.Settings.DeclaredLanes is null)
        {
            return "instance labels";
        }

        return cluster.Model?.Config.Metadata?.ContainsKey(LaneRoutingMetadata.Lanes) == true ? "cluster metadata" : "service discovery";
    }

    private static string Origin(DestinationState destination)
        => destination.Model?.Config.Metadata is { } metadata && metadata.TryGetValue(LaneDestinationResolver.OriginKey, out var origin)
            ? origin
            : "configuration";
}
