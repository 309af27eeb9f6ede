using Lanes;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lanes on <c>Microsoft.Extensions.ServiceDiscovery</c>.</summary>
public static partial class LanesServiceDiscoveryExtensions
{
    /// <summary>
    /// Makes the instances of lane routing come from service discovery: adds service discovery's core (no providers of
    /// its own: call <c>services.AddServiceDiscovery()</c> for configuration and pass-through, as Aspire's
    /// ServiceDefaults do), the <c>Lanes:Services</c> provider ahead of every other provider, and
    /// <see cref="LaneServiceEndpoints"/>, which reads those providers itself. <c>AddLaneRouting()</c>, <c>AddGrpcLaneRouting()</c> and the gateway's
    /// <c>AddLanes()</c> call it; calling it again is harmless.
    /// </summary>
    public static IServiceCollection AddLaneServiceEndpoints(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(static d => d.ServiceType == typeof(LaneServiceEndpoints)))
        {
            return services;
        }

        services.AddLanes();
        services.AddServiceDiscoveryCore();

        // Ahead of the providers already registered (configuration, from AddServiceDiscovery()), so a service listed
        // under Lanes:Services resolves to its lane-labelled instances first; pass-through always runs last.
        var provider = ServiceDescriptor.Singleton<IServiceEndpointProviderFactory, LaneServicesEndpointProviderFactory>(
            static sp => new LaneServicesEndpointProviderFactory(sp.GetRequiredService<LanePropagator>(), sp));
        var first = services.IndexOf(services.FirstOrDefault(static d => d.ServiceType == typeof(IServiceEndpointProviderFactory))!);
        if (first >= 0)
        {
            services.Insert(first, provider);
        }
        else
        {
            services.Add(provider);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new ServiceDiscoveryReader(sp.GetServices<IServiceEndpointProviderFactory>()));
        services.TryAddSingleton(static sp => new LaneServiceEndpoints(
            sp.GetRequiredService<ServiceDiscoveryReader>(),
            sp.GetRequiredService<LanePropagator>(),
            sp.GetRequiredService<IOptions<ServiceDiscoveryOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<LaneServiceEndpoints>>()));
        return services;
    }
}
