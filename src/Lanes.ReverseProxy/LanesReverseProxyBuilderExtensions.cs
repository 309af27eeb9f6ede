using Lanes;
using Lanes.ReverseProxy;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Forwarding;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.ServiceDiscovery;
using Lanes.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds traffic lanes to a YARP gateway.</summary>
public static class LanesReverseProxyBuilderExtensions
{
    /// <summary>
    /// Makes this YARP gateway lane-aware (docs/behaviour.md, "Gateway"): trust, alias normalisation and colouring at the entry, before
    /// route matching; the canonical header and the baggage member on every proxied request; lane metadata
    /// validated on every configuration load. Also calls <c>services.AddLanes()</c>, so header names and the default
    /// lane come from the <c>Lanes</c> section. Subset-aware destinations need one more line, in the proxy pipeline:
    /// <c>app.MapReverseProxy(proxy =&gt; { proxy.UseLaneSubsets(); proxy.UseSessionAffinity(); proxy.UseLoadBalancing(); proxy.UsePassiveHealthChecks(); })</c>;
    /// a gateway with lane-aware clusters that lacks it does not start. Gateway settings (<see cref="LaneGatewayOptions"/>)
    /// follow the options pattern: the <c>Lanes</c> section, then <paramref name="configure"/>, then any
    /// <c>services.Configure&lt;LaneGatewayOptions&gt;()</c>; they reload without a restart. Destinations resolve through
    /// service discovery (<c>AddLaneServiceEndpoints()</c>): a destination <c>http://details</c> that discovery knows becomes
    /// its instances, each with its lane. Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    /// <param name="builder">The reverse proxy builder.</param>
    /// <param name="configure">Applied after the <c>Lanes</c> section is bound, on start-up and on every reload.</param>
    public static IReverseProxyBuilder AddLanes(this IReverseProxyBuilder builder, Action<LaneGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (configure is not null)
        {
            services.Configure(configure);
        }

        if (services.Any(static d => d.ServiceType == typeof(LaneGatewayConfigSource)))
        {
            return builder;
        }

        services.AddLanes();
        services.AddLaneServiceEndpoints();

        // The "Lanes" section binds first (its reload token drives reloads); code delegates registered later win.
        var options = services.AddOptions<LaneGatewayOptions>();
        options.Configure<IServiceProvider>(static (o, sp) => sp.GetService<IConfiguration>()?.GetSection(LaneOptions.SectionName).Bind(o));
        services.Insert(0, ServiceDescriptor.Singleton<IOptionsChangeTokenSource<LaneGatewayOptions>>(static sp =>
            new ConfigurationChangeTokenSource<LaneGatewayOptions>(
                (IConfiguration?)sp.GetService<IConfiguration>()?.GetSection(LaneOptions.SectionName) ?? new ConfigurationBuilder().Build())));
        services.TryAddSingleton(static sp => new LaneGatewayConfigSource(
            sp.GetRequiredService<IOptionsFactory<LaneGatewayOptions>>(),
            sp.GetServices<IOptionsChangeTokenSource<LaneGatewayOptions>>(),
            sp.GetRequiredService<LanePropagator>(),
            sp.GetRequiredService<ILogger<LaneGatewayConfigSource>>()));
        services.TryAddSingleton(static sp => new LaneClusterRouting(sp.GetRequiredService<LanePropagator>(), sp.GetRequiredService<Lanes.Routing.LaneTelemetry>()));
        services.TryAddSingleton(TimeProvider.System);
        // The gateway's news for whoever listens (the admin page, when mapped, makes its own state then: LaneAdminSources).
        services.TryAddSingleton(static sp => new LaneGatewayEvents(sp.GetRequiredService<Lanes.Routing.LaneTelemetry>()));
        services.AddSingleton<IClusterChangeListener>(static sp => sp.GetRequiredService<LaneClusterRouting>());
        services.TryAddSingleton(static sp => new Lanes.ReverseProxy.Failover.LaneGatewayFailover(
            sp.GetRequiredService<LaneGatewayConfigSource>(), sp.GetRequiredService<Yarp.ReverseProxy.Health.IDestinationHealthUpdater>(),
            sp.GetRequiredService<Lanes.Routing.LaneTelemetry>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Lanes.ReverseProxy.Failover.LaneGatewayFailover>>()));
        services.TryAddSingleton(static sp => new Lanes.ReverseProxy.Shadow.LaneShadowMirror(
            sp.GetRequiredService<LanePropagator>(), sp.GetRequiredService<Lanes.Routing.LaneTelemetry>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<Lanes.ReverseProxy.Shadow.LaneShadowMirror>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, Lanes.ReverseProxy.Failover.LaneFailoverHealthPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, LaneGatewayStartupFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, Lanes.ReverseProxy.Admin.LanesAdminDecisionStartupFilter>());
        builder.AddConfigFilter<LaneProxyConfigFilter>();
        builder.AddTransforms<LaneTransformProvider>();

        // Destinations through service discovery, with their lanes; replaces YARP's default (no-op) resolver and
        // service discovery's own YARP resolver if the app added it.
        services.Replace(ServiceDescriptor.Singleton<IDestinationResolver>(static sp => new LaneDestinationResolver(sp.GetRequiredService<LaneServiceEndpoints>())));

        // Wrap YARP's default client factory so the baggage the lane transform wrote survives YARP's propagator. A
        // factory the app registered itself is left alone (the lane header is still set by the transform).
        var factory = services.LastOrDefault(static d => d.ServiceType == typeof(IForwarderHttpClientFactory));
        if (factory is null || factory.ImplementationType == typeof(ForwarderHttpClientFactory))
        {
            services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, LaneForwarderHttpClientFactory>());
        }

        return builder;
    }
}
