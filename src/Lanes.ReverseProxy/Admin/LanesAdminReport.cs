using Lanes.Configuration;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Admin;

/// <summary>The JSON document of the admin endpoint: lane settings, then per cluster its policy, declared lanes, destinations by lane with health, and routing counters.</summary>
internal static class LanesAdminReport
{
    public static object Build(LaneSettings settings, LaneGatewayConfig config, LaneClusterRouting routing)
    {
        var clusters = new List<object>();
        foreach (var cluster in routing.Clusters.OrderBy(static c => c.ClusterId, StringComparer.Ordinal))
        {
            clusters.Add(Cluster(cluster, routing));
        }

        return new
        {
            header = settings.Header,
            aliases = settings.Aliases,
            defaultLane = settings.DefaultLane,
            trust = config.Trust.ToString(),
            colouringRules = config.Rules.Length,
            debugHeaders = config.DebugHeaders,
            clusters,
        };
    }

    private static object Cluster(ClusterState cluster, LaneClusterRouting routing)
    {
        var subsets = routing.GetSubsets(cluster);
        var available = new HashSet<DestinationState>(cluster.DestinationsState.AvailableDestinations, ReferenceEqualityComparer.Instance);
        var destinations = cluster.Destinations.Values
            .OrderBy(static d => d.DestinationId, StringComparer.Ordinal)
            .Select(d => new
            {
                id = d.DestinationId,
                address = d.Model?.Config.Address,
                lane = routing.ReadLane(d),
                health = new { active = d.Health.Active.ToString(), passive = d.Health.Passive.ToString() },
                available = available.Contains(d),
            })
            .ToList();
        var lanes = destinations
            .GroupBy(static d => d.lane ?? LaneChoice<DestinationState>.UnlabelledSubset, StringComparer.Ordinal)
            .OrderBy(static g => g.Key, StringComparer.Ordinal)
            .ToDictionary(static g => g.Key, static g => g.Select(static d => d.id).ToArray(), StringComparer.Ordinal);
        var counters = routing.Counters(cluster.ClusterId)
            .OrderBy(static c => c.Key.Lane, StringComparer.Ordinal).ThenBy(static c => c.Key.Outcome).ThenBy(static c => c.Key.Reason)
            .Select(static c => new
            {
                lane = c.Key.Lane,
                outcome = LaneRoutingNames.Get(c.Key.Outcome),
                reason = LaneRoutingNames.Get(c.Key.Reason),
                count = c.Value,
            })
            .ToList();

        return new
        {
            id = cluster.ClusterId,
            usesLanes = subsets is not null,
            policy = subsets?.Settings.Policy.ToString(),
            baseline = subsets is null ? null : subsets.Settings.BaselineLane ?? LaneChoice<DestinationState>.UnlabelledSubset,
            panicToAny = subsets?.Settings.PanicToAny,
            declaredLanes = subsets?.DeclaredLanes,
            declaredFrom = subsets is null ? null : subsets.Settings.DeclaredLanes is null ? "destinations" : "metadata",
            lanes,
            destinations,
            counters,
        };
    }
}
