using Lanes;
using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Lanes.ServiceDiscovery.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Client-side routing by lane for one <see cref="IHttpClientBuilder"/> (a named or typed client).</summary>
public static partial class LanesServiceDiscoveryExtensions
{
    /// <summary>
    /// Routes this client's requests by lane without a mesh (docs/behaviour.md, "Client-side HTTP routing", "Service discovery and resilience"): a request to <c>http://&lt;service&gt;/...</c>
    /// goes to an instance of the request's lane under the service's policy. The instances come from
    /// <c>Microsoft.Extensions.ServiceDiscovery</c>: services listed under <c>Lanes:Services</c> (with their lanes, a
    /// provider Lanes adds ahead of the others) and any other provider (configuration, Kubernetes); a host no provider
    /// knows passes through. Works with or without <c>services.AddServiceDiscovery()</c>, and beside service discovery's
    /// and the standard resilience handler on every client (Aspire's ServiceDefaults): service discovery's own
    /// resolving handler is taken out of this client (Lanes resolves through the same resolver), lane routing runs
    /// innermost (every retry picks again in the lane's subset) and the local 503 is answered outermost (never retried).
    /// A connection failure takes the instance out for <c>Lanes:PassiveHealthPeriod</c>. Also adds
    /// <c>AddLanePropagation()</c> (<c>Lanes.Http</c>).
    /// </summary>
    /// <example><code>services.AddHttpClient("details", c => c.BaseAddress = new("http://details")).AddLaneRouting();</code></example>
    public static IHttpClientBuilder AddLaneRouting(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddLaneServiceEndpoints();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(static sp => new LaneHttpRouter(
            Propagator(sp),
            sp.GetRequiredService<LaneServiceEndpoints>(),
            sp.GetRequiredService<LaneTelemetry>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<LaneHttpRouter>>()));
        builder.Services.AddOptions<LaneFailoverOptions>().ValidateOnStart();      // bound from Lanes:Failover by AddLanes()
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IValidateOptions<LaneFailoverOptions>, LaneClientFailover.Validator>());
        builder.Services.TryAddSingleton(static sp => new LaneClientFailover(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<LaneFailoverOptions>>(), sp.GetRequiredService<LaneTelemetry>(), sp.GetRequiredService<TimeProvider>()));
        builder.AddLanePropagation();
        builder.AddHttpMessageHandler(static sp => new LaneRoutingHandler(
            sp.GetRequiredService<LaneHttpRouter>(), sp.GetRequiredService<LaneServiceEndpoints>(), Propagator(sp),
            sp.GetRequiredService<LaneClientFailover>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LaneRoutingHandler>>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, LaneRoutingOrderFilter>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Options.IPostConfigureOptions<Polly.Telemetry.TelemetryOptions>, LaneResilienceTelemetry.Configure>());
        builder.Services.Configure<LaneRoutingOrderFilter.Clients>(o => o.Names.Add(builder.Name));
        return builder;
    }

    private static LanePropagator Propagator(IServiceProvider services)
        => services.GetService<LanePropagator>()
           ?? throw new InvalidOperationException(
               "Lane routing needs the Lanes services. Call 'services.AddLanes()' in the application startup code; 'AddLaneRouting()' alone is not enough.");
}
