using Grpc.Net.Client.Balancer;
using Grpc.Net.ClientFactory;
using Lanes;
using Lanes.Grpc;
using Lanes.Grpc.Routing;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lane routing for gRPC clients made with <c>AddGrpcClient&lt;T&gt;()</c>, without a mesh.</summary>
public static class LanesGrpcRoutingExtensions
{
    /// <summary>
    /// Routes this gRPC client's calls by lane without a mesh (docs/behaviour.md, "Client-side HTTP routing"): give it the address
    /// <c>lanes:///&lt;service&gt;</c> of a service listed under <c>Lanes:Services</c>, and each call goes to an instance
    /// of the call's lane under the service's policy. The instances come from service discovery, like HTTP lane routing's
    /// (<c>Lanes:Services</c> and any other provider), and a change there reaches the balancer without a restart. Works
    /// beside <c>AddServiceDiscovery()</c> on every client (Aspire's ServiceDefaults): its resolving handler is taken off this
    /// client and its mark that switches gRPC balancing off is removed. Also adds <see cref="LanesGrpcClientBuilderExtensions.AddGrpcLanePropagation"/>.
    /// Instances on <c>http</c> are reached over HTTP/2 without TLS.
    /// </summary>
    /// <example><code>
    /// services.AddLanes();   // Lanes:Services:reviews lists the instances and their lanes
    /// services.AddGrpcClient&lt;Reviews.ReviewsClient&gt;(o => o.Address = new("lanes:///reviews")).AddGrpcLaneRouting();
    /// </code></example>
    public static IHttpClientBuilder AddGrpcLaneRouting(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddLaneServiceEndpoints();
        AddLaneRoutingServices(builder.Services);
        builder.AddGrpcLanePropagation();
        builder.Services.Configure<LaneGrpcConnectFailureHandler.Clients>(c => c.Names.Add(builder.Name));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Http.IHttpMessageHandlerBuilderFilter, LaneGrpcConnectFailureHandler.Filter>());
        builder.Services.AddOptions<GrpcClientFactoryOptions>(builder.Name).PostConfigure<IServiceProvider>((options, sp) =>
        {
            var address = options.Address;
            options.ChannelOptionsActions.Add(channel =>
            {
                channel.ServiceProvider ??= sp;
                channel.Credentials ??= LaneGrpcChannel.CredentialsFor(RequirePropagator(sp).Settings, address);
                channel.ServiceConfig ??= LaneGrpcFailover.ServiceConfig(sp);
                AllowClientSideBalancing(channel.HttpHandler);
            });
        });
        return builder;
    }

    /// <summary>
    /// Service discovery's <c>AddServiceDiscovery()</c> (on this client, or on every client through
    /// <c>ConfigureHttpClientDefaults</c>) marks the client's <see cref="SocketsHttpHandler"/> so that gRPC switches client-side
    /// balancing off, because its own handler resolves the address. A <c>lanes:///</c> client resolves through Lanes (which
    /// reads the same discovery) and needs the balancer: the mark is taken off when the channel is built.
    /// </summary>
    internal static void AllowClientSideBalancing(HttpMessageHandler? handler)
    {
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler;
        }

        if (handler is SocketsHttpHandler sockets)
        {
            sockets.Properties.Remove(GrpcLoadBalancingDisabledProperty);
        }
    }

    internal const string GrpcLoadBalancingDisabledProperty = "__GrpcLoadBalancingDisabled";

    internal static void AddLaneRoutingServices(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, LaneGrpcResolverFactory>(
            static sp => new LaneGrpcResolverFactory(
                sp.GetRequiredService<LaneServiceEndpoints>(),
                sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, LaneGrpcLoadBalancerFactory>(
            static sp => new LaneGrpcLoadBalancerFactory(RequirePropagator(sp), sp.GetRequiredService<Lanes.Routing.LaneTelemetry>())));
    }

    internal static LanePropagator RequirePropagator(IServiceProvider services)
        => services.GetService<LanePropagator>()
            ?? throw new InvalidOperationException("Lanes is not registered: call services.AddLanes() before using Lanes with gRPC.");
}
