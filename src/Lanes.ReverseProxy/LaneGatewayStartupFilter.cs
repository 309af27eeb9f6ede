using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace Lanes.ReverseProxy;

/// <summary>
/// Puts <see cref="LaneGatewayMiddleware"/> first in the application pipeline, ahead of the routing middleware that
/// <c>WebApplication</c> adds, because YARP matches routes before any of its transforms run (src/Lanes.ReverseProxy/README.md, "Per request, in this order", step 2). Once the
/// application's pipeline is built (and with it <c>MapReverseProxy</c>'s), refuses to start a gateway whose
/// configuration has lane-aware clusters but whose proxy pipeline has no <c>UseLaneSubsets()</c>.
/// </summary>
internal sealed class LaneGatewayStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return app =>
        {
            app.UseMiddleware<LaneGatewayMiddleware>();
            next(app);
            RequireSubsetStep(app.ApplicationServices);
        };
    }

    internal static void RequireSubsetStep(IServiceProvider services)
    {
        var routing = services.GetRequiredService<LaneClusterRouting>();
        if (routing.SubsetStepInstalled || services.GetService<IProxyStateLookup>() is not { } proxy)
        {
            return;
        }

        foreach (var cluster in proxy.GetClusters())
        {
            if (routing.GetSubsets(cluster) is not null)
            {
                throw new InvalidOperationException(
                    $"Cluster '{cluster.ClusterId}' uses lanes ({LaneRoutingMetadata.Lane}, {LaneRoutingMetadata.Policy} or {LaneRoutingMetadata.Lanes} metadata) but the proxy pipeline has no lane subset step: "
                    + "map the proxy with app.MapReverseProxy(proxy => { proxy.UseLaneSubsets(); proxy.UseSessionAffinity(); proxy.UseLoadBalancing(); proxy.UsePassiveHealthChecks(); }).");
            }
        }
    }
}
