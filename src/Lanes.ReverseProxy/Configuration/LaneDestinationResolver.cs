using System.Collections.ObjectModel;
using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace Lanes.ReverseProxy.Configuration;

/// <summary>
/// YARP destinations through service discovery, with lanes (docs/behaviour.md, "Service discovery and resilience"): a destination whose address names a service
/// (<c>http://details</c>) that discovery knows (<c>Lanes:Services</c>, configuration, Kubernetes) becomes one destination
/// per instance, id <c>&lt;destination&gt;/&lt;instance&gt;</c>, each with its lane as the <c>lane</c> metadata (an
/// unlabelled instance keeps the destination's own <c>lane</c>, if any) and the destination's other settings. A
/// destination no provider knows stays as it is. When discovery changes, YARP resolves again (the change token), and
/// the lane subsets follow. This replaces YARP's default resolver and service discovery's own YARP resolver
/// (<c>AddServiceDiscoveryDestinationResolver()</c>), whose work it includes.
/// </summary>
internal sealed class LaneDestinationResolver(LaneServiceEndpoints endpoints) : IDestinationResolver
{
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(
        IReadOnlyDictionary<string, DestinationConfig> destinations,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var tokens = new List<IChangeToken>();
        foreach (var (id, destination) in destinations)
        {
            if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address)
                || await endpoints.GetAsync(address.Scheme, address.Host, cancellationToken).ConfigureAwait(false) is not { } snapshot)
            {
                resolved[id] = destination;
                continue;
            }

            tokens.Add(snapshot.ChangeToken);
            var instances = snapshot.Definition.Instances;
            foreach (var instance in instances)
            {
                var key = instances.Count == 1 && instance.Address.Authority == address.Authority ? id : $"{id}/{instance.Id}";
                resolved[key] = destination with
                {
                    Address = Rebase(address, instance.Address).ToString(),
                    Metadata = WithLane(destination.Metadata, instance.Lane, instance.Origin, snapshot.HasServiceSettings ? snapshot.Definition.Settings : null),
                };
            }
        }

        return new ResolvedDestinationCollection(resolved, tokens.Count == 0 ? null : new CompositeChangeToken(tokens));
    }

    private static Uri Rebase(Uri logical, Uri instance)
        => new UriBuilder(instance) { Path = instance.AbsolutePath.TrimEnd('/') + logical.AbsolutePath }.Uri;

    /// <summary>Prefix of the service's settings carried on each expanded destination (read by the cluster's routing).</summary>
    internal const string DiscoveredPrefix = "lanes.discovered.";

    /// <summary>The metadata key naming where a discovered destination came from (<see cref="LaneServiceInstance.Origin"/>).</summary>
    internal const string OriginKey = "lanes.origin";

    private static ReadOnlyDictionary<string, string> WithLane(IReadOnlyDictionary<string, string>? metadata, string? lane, string? origin, LaneSubsetSettings? service)
    {
        var copy = metadata is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : metadata.ToDictionary(StringComparer.OrdinalIgnoreCase);
        copy[OriginKey] = origin ?? "service discovery";
        if (lane is not null)
        {
            copy[LaneRoutingMetadata.Lane] = lane;
        }

        if (service is not null)
        {
            // A settings change (an annotation edit) changes the destinations, so YARP applies it like any other.
            copy[DiscoveredPrefix + LaneRoutingMetadata.Policy] = service.Policy.ToString();
            copy[DiscoveredPrefix + LaneRoutingMetadata.Baseline] = service.BaselineLane ?? string.Empty;
            copy[DiscoveredPrefix + LaneRoutingMetadata.PanicToAny] = service.PanicToAny ? "true" : "false";
            if (service.DeclaredLanes is { } declared)
            {
                copy[DiscoveredPrefix + LaneRoutingMetadata.Lanes] = string.Join(',', declared);
            }
        }

        return new ReadOnlyDictionary<string, string>(copy);
    }

    /// <summary>
    /// The service settings discovery gave a cluster's destinations, as cluster metadata, when the cluster sets none of
    /// its own (<c>lanes</c>, <c>lanePolicy</c>, <c>laneBaseline</c>, <c>lanePanicToAny</c>); otherwise the cluster's.
    /// </summary>
    internal static IReadOnlyDictionary<string, string>? ServiceMetadata(IReadOnlyDictionary<string, string>? cluster, IReadOnlyList<Yarp.ReverseProxy.Model.DestinationState> destinations)
    {
        if (cluster is not null
            && (cluster.ContainsKey(LaneRoutingMetadata.Policy) || cluster.ContainsKey(LaneRoutingMetadata.Lanes)
                || cluster.ContainsKey(LaneRoutingMetadata.Baseline) || cluster.ContainsKey(LaneRoutingMetadata.PanicToAny)))
        {
            return cluster;
        }

        for (var i = 0; i < destinations.Count; i++)
        {
            if (destinations[i].Model?.Config.Metadata is { } metadata
                && metadata.ContainsKey(DiscoveredPrefix + LaneRoutingMetadata.Policy))
            {
                var merged = cluster is null
                    ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
                    : cluster.ToDictionary(StringComparer.OrdinalIgnoreCase);
                foreach (var (key, value) in metadata)
                {
                    if (key.StartsWith(DiscoveredPrefix, StringComparison.OrdinalIgnoreCase))
                    {
                        merged[key[DiscoveredPrefix.Length..]] = value;
                    }
                }

                return merged;
            }
        }

        return cluster;
    }
}
