using System.Net;
using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The opt-in lanes admin endpoint of the gateway.</summary>
public static partial class LanesReverseProxyApplicationBuilderExtensions
{
    /// <summary>
    /// Maps the lanes admin endpoints under <paramref name="pattern"/> (docs/behaviour.md, "The admin page and tracer"): <c>GET {pattern}</c>, a JSON report
    /// (header names, default lane, trust, entry rules with hit counts, lanes declared against those observed, traffic of
    /// the last five minutes, and per cluster its policy, baseline, declared lanes, destinations with lane, origin and
    /// health, routing counters and the cluster x lane decisions of the engine); <c>GET {pattern}/ui</c>, a page that
    /// draws it, refreshing every 2 s (embedded assets, strict Content-Security-Policy); and <c>POST {pattern}/trace</c>,
    /// which answers where a described request would go and why, with the gateway's own entry, routing and engine,
    /// without sending it. Nothing is mapped unless you call this. It shows the topology, destination addresses and the
    /// values that colour a request into a lane, so it needs an explicit decision, or the host does not start: chain
    /// <c>.RequireAuthorization("policy")</c> (the returned builder is the group's: it covers the report, the page, its
    /// assets and the tracer alike), or <see cref="AllowAnonymousOnLoopback{TBuilder}"/> for a local page without
    /// authorization. <c>.RequireHost(...)</c> is no protection: the client sets the Host header.
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

    /// <summary>
    /// The explicit anonymous decision for <see cref="MapLanesAdmin"/>: the admin endpoints answer without
    /// authorization, to callers on a loopback address only; any other caller (or one with no address, such as an
    /// in-memory test server or a Unix socket) gets 404, as if nothing were mapped. For a gateway's operators on
    /// the same machine or through <c>kubectl port-forward</c>.
    /// </summary>
    public static TBuilder AllowAnonymousOnLoopback<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(LanesAdminLoopbackOnlyMetadata.Instance);
        builder.AddEndpointFilter(static async (context, next) =>
            context.HttpContext.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote)
                ? await next(context).ConfigureAwait(false)
                : Results.NotFound());
        return builder;
    }
}
