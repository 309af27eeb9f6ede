using Lanes;
using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The opt-in lanes admin endpoint of the gateway.</summary>
public static class LanesAdminEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps a JSON report at <paramref name="pattern"/> (<c>GET</c>): header names, default lane, trust, and per
    /// cluster its policy, baseline, declared lanes, destinations per lane with health, and routing counters by lane,
    /// outcome and reason. Nothing is mapped unless you call this; it shows the topology, so protect it like any
    /// admin page: the returned builder takes <c>.RequireAuthorization(...)</c>, <c>.RequireHost(...)</c> and the like.
    /// </summary>
    public static IEndpointConventionBuilder MapLanesAdmin(this IEndpointRouteBuilder endpoints, string pattern = "/lanes")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (endpoints.ServiceProvider.GetService<LaneClusterRouting>() is null)
        {
            throw new InvalidOperationException("Lanes is not registered for the reverse proxy: call services.AddReverseProxy().AddLanes() before MapLanesAdmin().");
        }

        return endpoints.MapGet(pattern, static (LanePropagator propagator, LaneGatewayConfigSource config, LaneClusterRouting routing)
            => Results.Json(LanesAdminReport.Build(propagator.Settings, config.Current, routing)));
    }
}
