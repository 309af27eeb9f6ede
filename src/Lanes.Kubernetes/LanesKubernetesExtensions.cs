using k8s;
using Lanes.Kubernetes;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Kubernetes endpoint provider.</summary>
public static partial class LanesKubernetesExtensions
{
    /// <summary>
    /// Adds the Kubernetes endpoint provider to service discovery: lane routing (<c>AddLaneRouting()</c>,
    /// <c>lanes:///</c>) and the gateway's logical destinations then find a service's instances, lanes and settings in
    /// the cluster, live. Settings come from <c>Lanes:Kubernetes</c>, then <paramref name="configure"/>. The API client
    /// is the registered <see cref="IKubernetes"/> if there is one, else one from the default configuration: the file
    /// <c>KUBECONFIG</c> names, else <c>~/.kube/config</c>, else the pod's service account. <c>Lanes:Services</c> is
    /// still read first; service discovery's configuration and pass-through come after.
    /// </summary>
    public static IServiceCollection AddKubernetesServiceEndpoints(this IServiceCollection services, Action<KubernetesLaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddLaneServiceEndpoints();
        var options = services.AddOptions<KubernetesLaneOptions>();
        options.Configure<IConfiguration>(static (o, configuration) => configuration.GetSection("Lanes:Kubernetes").Bind(o));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(static d => d.ServiceType == typeof(KubernetesLaneWatches)))
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IConfiguration>(static _ => new ConfigurationBuilder().Build());
        services.TryAddSingleton(static sp =>
        {
            var o = sp.GetRequiredService<IOptions<KubernetesLaneOptions>>().Value;
            if (sp.GetService<IKubernetes>() is { } client)
            {
                return new KubernetesTarget(client, o.Namespace ?? "default");
            }

            var config = KubernetesClientConfiguration.BuildDefaultConfig();
            return new KubernetesTarget(new k8s.Kubernetes(config), o.Namespace ?? config.Namespace ?? "default");
        });
        services.TryAddSingleton(static sp => new KubernetesWatchTelemetry(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton(static sp => new KubernetesLaneWatches(
            sp.GetRequiredService<KubernetesTarget>(),
            sp.GetRequiredService<IOptions<KubernetesLaneOptions>>(),
            sp.GetRequiredService<Lanes.LanePropagator>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<KubernetesWatchTelemetry>(),
            sp.GetService<ILoggerFactory>() ?? Logging.Abstractions.NullLoggerFactory.Instance));

        // After Lanes:Services (inserted first by AddLaneServiceEndpoints), before service discovery's configuration
        // and pass-through providers, whenever those were or will be added.
        var provider = ServiceDescriptor.Singleton<IServiceEndpointProviderFactory>(static sp => new KubernetesEndpointProviderFactory(sp.GetRequiredService<KubernetesLaneWatches>()));
        // The first provider that is not Lanes' own (service discovery's configuration and pass-through, or any other),
        // told apart by assembly, not by type name.
        var before = services.FirstOrDefault(static d => d.ServiceType == typeof(IServiceEndpointProviderFactory) && !IsLanes(d));
        if (before is not null)
        {
            services.Insert(services.IndexOf(before), provider);
        }
        else
        {
            services.Add(provider);
        }

        return services;
    }

    private static bool IsLanes(ServiceDescriptor descriptor)
    {
        if (descriptor.IsKeyedService)
        {
            return false;
        }

        var type = descriptor.ImplementationType ?? descriptor.ImplementationInstance?.GetType() ?? descriptor.ImplementationFactory?.Method.DeclaringType;
        var assembly = type?.Assembly;
        return assembly == typeof(LaneServiceEndpoints).Assembly || assembly == typeof(KubernetesLaneOptions).Assembly;
    }
}
