using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Admin;

/// <summary>Marks the endpoints <c>MapLanesAdmin</c> maps, so start-up can check they carry an authorization decision.</summary>
internal sealed record LanesAdminEndpointMetadata(string Pattern);

/// <summary>The explicit anonymous opt-in: the admin endpoints answer loopback callers only (others get 404).</summary>
internal sealed class LanesAdminLoopbackOnlyMetadata
{
    public static readonly LanesAdminLoopbackOnlyMetadata Instance = new();
}

/// <summary>
/// Refuses to start a gateway whose lanes admin endpoints were mapped with no authorization decision: they show the
/// topology, destination addresses and the exact values that colour a request into a lane, on the proxy's own
/// listener. The check runs once the application's pipeline (and so its endpoints) is built, before the server listens.
/// </summary>
internal sealed class LanesAdminDecisionStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
        => app =>
        {
            next(app);
            if (app.ApplicationServices.GetService<EndpointDataSource>() is not { } endpoints)
            {
                return;
            }

            foreach (var endpoint in endpoints.Endpoints)
            {
                if (endpoint.Metadata.GetMetadata<LanesAdminEndpointMetadata>() is { } admin
                    && endpoint.Metadata.GetMetadata<IAuthorizeData>() is null
                    && endpoint.Metadata.GetMetadata<LanesAdminLoopbackOnlyMetadata>() is null)
                {
                    throw new InvalidOperationException(
                        $"The lanes admin endpoints at '{admin.Pattern}' were mapped with no authorization decision. Add " +
                        $".RequireAuthorization(\"<policy>\") to MapLanesAdmin(), or .AllowAnonymousOnLoopback() to serve them without " +
                        "authorization to loopback callers only (any other caller gets 404). RequireHost(...) is no protection: the client sets the Host header.");
                }
            }
        };
}
