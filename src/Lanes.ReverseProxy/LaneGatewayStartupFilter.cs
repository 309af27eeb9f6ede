using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using System.Net;
using Lanes.ReverseProxy.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
            var services = app.ApplicationServices;
            services.GetService<IHostApplicationLifetime>()?.ApplicationStarted.Register(() => WarnIfClientsPickLanesBeyondLoopback(services));
        };
    }

    /// <summary>
    /// Once the server listens: a gateway that accepts client lanes (<see cref="LaneTrust.Accept"/>, the default) on an
    /// address beyond loopback lets anyone on the network pick a lane; say so, naming the safe settings.
    /// </summary>
    internal static void WarnIfClientsPickLanesBeyondLoopback(IServiceProvider services)
    {
        if (services.GetService<LaneGatewayConfigSource>() is { } source && services.GetService<LanePropagator>() is { } propagator)
        {
            var settings = propagator.Settings;
            LaneGatewayLog.SettingsInForce(
                services.GetRequiredService<ILogger<LaneGatewayStartupFilter>>(),
                settings.Header,
                settings.Aliases.IsEmpty ? "none" : string.Join(", ", settings.Aliases),
                settings.DefaultLane is null ? "none" : $"'{settings.DefaultLane}'",
                source.Current.Trust,
                source.Current.Rules.Length);
        }

        if (services.GetService<LaneGatewayConfigSource>()?.Current.Trust != LaneTrust.Accept
            || services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses is not { Count: > 0 } addresses)
        {
            return;
        }

        var beyond = addresses.Where(static a => !IsLoopback(a)).ToArray();
        if (beyond.Length > 0)
        {
            LaneGatewayLog.AcceptOnPublicListener(services.GetRequiredService<ILogger<LaneGatewayStartupFilter>>(), string.Join(", ", beyond));
        }
    }

    /// <summary>Whether a listening address takes only loopback callers (<c>localhost</c>, 127.0.0.0/8, ::1); wildcards (<c>*</c>, <c>+</c>, 0.0.0.0, ::) and host names do not.</summary>
    internal static bool IsLoopback(string address)
    {
        string host;
        try
        {
            host = BindingAddress.Parse(address).Host;
        }
        catch (FormatException)
        {
            return false;
        }

        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
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
