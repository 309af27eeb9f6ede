using Lanes;
using Lanes.Configuration;
using Lanes.ReverseProxy;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Forwarding;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds traffic lanes to a YARP gateway.</summary>
public static class LanesReverseProxyBuilderExtensions
{
    /// <summary>
    /// Makes this YARP gateway lane-aware (DESIGN 7): trust, alias normalisation and colouring at the entry, before
    /// route matching; the canonical header and the baggage member on every proxied request; lane metadata
    /// validated on every configuration load. Also calls <c>services.AddLanes()</c>, so header names and the default
    /// lane come from the <c>Lanes</c> section. Subset-aware destinations need one more line, in the proxy pipeline:
    /// <c>app.MapReverseProxy(proxy =&gt; { proxy.UseLanes(); proxy.UseSessionAffinity(); proxy.UseLoadBalancing(); proxy.UsePassiveHealthChecks(); })</c>.
    /// Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="builder">The reverse proxy builder.</param>
    /// <param name="configure">Applied after the <c>Lanes</c> section is bound, on start-up and on every reload.</param>
    public static IReverseProxyBuilder AddLanes(this IReverseProxyBuilder builder, Action<LaneGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (configure is not null)
        {
            services.AddSingleton(new LaneGatewayConfigure(configure));
        }

        if (services.Any(static d => d.ServiceType == typeof(LaneGatewayConfigSource)))
        {
            return builder;
        }

        services.AddLanes();
        services.TryAddSingleton(static sp => new LaneGatewayConfigSource(
            sp.GetService<IConfiguration>(),
            sp.GetServices<LaneGatewayConfigure>(),
            sp.GetRequiredService<LaneSettings>(),
            sp.GetRequiredService<ILogger<LaneGatewayConfigSource>>()));
        services.TryAddSingleton(static sp => new LaneClusterRouting(sp.GetRequiredService<LaneSettings>()));
        services.AddSingleton<IClusterChangeListener>(static sp => sp.GetRequiredService<LaneClusterRouting>());
        services.TryAddSingleton(static sp => new LaneGatewayOutbound(sp.GetRequiredService<LanePropagator>()));
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, LaneGatewayStartupFilter>());
        builder.AddConfigFilter<LaneProxyConfigFilter>();
        builder.AddTransforms<LaneTransformProvider>();

        // Wrap YARP's default client factory so the baggage member survives its propagator. A factory the app
        // registered itself is left alone (the lane header is still set by the transform).
        var factory = services.LastOrDefault(static d => d.ServiceType == typeof(IForwarderHttpClientFactory));
        if (factory is null || factory.ImplementationType == typeof(ForwarderHttpClientFactory))
        {
            services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, LaneForwarderHttpClientFactory>());
        }

        return builder;
    }
}
