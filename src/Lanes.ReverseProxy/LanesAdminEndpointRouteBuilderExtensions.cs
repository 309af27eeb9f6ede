using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The opt-in lanes admin endpoint of the gateway.</summary>
public static class LanesAdminEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the lanes admin endpoints under <paramref name="pattern"/> (docs/behaviour.md, "The admin page and tracer"): <c>GET {pattern}</c>, a JSON report
    /// (header names, default lane, trust, entry rules with hit counts, lanes declared against those observed, traffic of
    /// the last five minutes, and per cluster its policy, baseline, declared lanes, destinations with lane, origin and
    /// health, routing counters and the cluster x lane decisions of the engine); <c>GET {pattern}/ui</c>, a page that
    /// draws it, refreshing every 2 s (embedded assets, strict Content-Security-Policy); and <c>POST {pattern}/trace</c>,
    /// which answers where a described request would go and why, with the gateway's own entry, routing and engine,
    /// without sending it. Nothing is mapped unless you call this; it shows the topology, so protect it like any admin
    /// page: the returned builder is the group's, so <c>.RequireAuthorization(...)</c>, <c>.RequireHost(...)</c> and the
    /// like cover the report, the page, its assets and the tracer alike.
    /// </summary>
    public static IEndpointConventionBuilder MapLanesAdmin(this IEndpointRouteBuilder endpoints, string pattern = "/lanes")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (endpoints.ServiceProvider.GetService<LaneClusterRouting>() is null)
        {
            throw new InvalidOperationException("Lanes is not registered for the reverse proxy: call services.AddReverseProxy().AddLanes() before MapLanesAdmin().");
        }

        return LanesAdminEndpoints.Map(endpoints, pattern);
    }
}
