using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client;
using Lanes.Configuration;
using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Lanes.Grpc.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc;

/// <summary>Hand-made gRPC channels with lanes, for code that does not use the client factory.</summary>
public static class LaneGrpcChannel
{
    /// <summary>
    /// A channel to <c>lanes:///<paramref name="service"/></c> that routes every call by lane (docs/behaviour.md, "Client-side HTTP routing"), plus a call
    /// invoker that carries the lane. Needs <c>services.AddLaneServiceEndpoints()</c> (the service under
    /// <c>Lanes:Services</c> or any service discovery provider).
    /// </summary>
    /// <example><code>
    /// var (channel, invoker) = LaneGrpcChannel.ForService(app.Services, "reviews");
    /// var client = new Reviews.ReviewsClient(invoker);
    /// </code></example>
    public static (GrpcChannel Channel, CallInvoker CallInvoker) ForService(IServiceProvider services, string service, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(service);
        var propagator = LanesGrpcRoutingExtensions.RequirePropagator(services);
        options ??= new GrpcChannelOptions();
        options.ServiceProvider ??= WithRouting(services);
        var address = new Uri($"{LaneGrpcResolverFactory.Scheme}:///{service}");
        options.Credentials ??= CredentialsFor(propagator.Settings, address);
        options.ServiceConfig ??= Routing.LaneGrpcFailover.ServiceConfig(services);
        var channel = GrpcChannel.ForAddress(address, options);
        return (channel, channel.Intercept(new LaneClientInterceptor(propagator)));
    }

    /// <summary>Insecure for a service whose instances are all <c>http</c>, TLS otherwise; null for an address that is not <c>lanes:</c>.</summary>
    internal static ChannelCredentials? CredentialsFor(LaneSettings settings, Uri? address)
    {
        if (address is null || !string.Equals(address.Scheme, LaneGrpcResolverFactory.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!settings.Services.TryGetValue(LaneGrpcResolverFactory.ServiceName(address), out var definition))
        {
            return ChannelCredentials.Insecure;
        }

        foreach (var instance in definition.Instances)
        {
            if (instance.Address.Scheme == Uri.UriSchemeHttps)
            {
                return ChannelCredentials.SecureSsl;
            }
        }

        return ChannelCredentials.Insecure;
    }

    /// <summary>
    /// The app's services when they hold the lane resolver and balancer; otherwise a view of them that adds the two
    /// (nothing to dispose: no second container is built).
    /// </summary>
    private static IServiceProvider WithRouting(IServiceProvider services)
    {
        if (services.GetService<IEnumerable<ResolverFactory>>()?.Any(static f => f is LaneGrpcResolverFactory) == true)
        {
            return services;
        }

        var propagator = LanesGrpcRoutingExtensions.RequirePropagator(services);
        var endpoints = services.GetService<LaneServiceEndpoints>() ?? throw new InvalidOperationException(
            "Lane routing for gRPC resolves instances through service discovery: call services.AddLaneServiceEndpoints() "
            + "(AddGrpcLaneRouting() and AddLaneRouting() do) before LaneGrpcChannel.ForService.");
        return new RoutingServices(
            services,
            [new LaneGrpcResolverFactory(endpoints, services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>())],
            [new LaneGrpcLoadBalancerFactory(propagator, services.GetRequiredService<LaneTelemetry>())]);
    }

    private sealed class RoutingServices(IServiceProvider inner, ResolverFactory[] resolvers, LoadBalancerFactory[] balancers) : IServiceProvider
    {
        public object? GetService(Type serviceType)
        {
            if (serviceType == typeof(IEnumerable<ResolverFactory>))
            {
                return resolvers;
            }

            if (serviceType == typeof(IEnumerable<LoadBalancerFactory>))
            {
                return balancers;
            }

            return inner.GetService(serviceType);
        }
    }
}
