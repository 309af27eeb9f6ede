using Lanes.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Clients whose calls Lanes routes through service discovery.</summary>
public static partial class LanesServiceDiscoveryExtensions
{
    /// <summary>
    /// This client's services are resolved by Lanes routing (<see cref="LaneServiceEndpoints"/>), not by service
    /// discovery's own handler: the <c>ResolvingHttpDelegatingHandler</c> that <c>AddServiceDiscovery()</c> adds (on this
    /// client or through <c>ConfigureHttpClientDefaults</c>, as Aspire's ServiceDefaults do) is taken out of this
    /// client's pipeline once every other configuration ran, because it would resolve <c>http://details</c> to one
    /// endpoint before lane routing could pick the lane's. <c>AddLaneRouting()</c> and <c>AddGrpcLaneRouting()</c> call it.
    /// </summary>
    public static IHttpClientBuilder AddLaneServiceEndpoints(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLaneServiceEndpoints();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, LaneRoutedClientsFilter>());
        builder.Services.Configure<LaneRoutedClients>(o => o.Names.Add(builder.Name));
        return builder;
    }
}

/// <summary>The names of the clients whose services Lanes routing resolves.</summary>
internal sealed class LaneRoutedClients
{
    public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Runs after every other configuration of a client's handlers: for the lane-routed clients, removes service
/// discovery's resolving handler, the delegating handler that <c>AddServiceDiscovery()</c> adds: any handler defined in
/// the <c>Microsoft.Extensions.ServiceDiscovery</c> assembly (found through its public <see cref="ServiceEndpointResolver"/>,
/// no type name). Should that package ever add a second handler or move this one, the Aspire-shaped routing tests fail.
/// </summary>
internal sealed class LaneRoutedClientsFilter(IOptions<LaneRoutedClients> clients) : IHttpMessageHandlerBuilderFilter
{
    private static readonly System.Reflection.Assembly s_serviceDiscovery = typeof(ServiceEndpointResolver).Assembly;

    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next)
        => builder =>
        {
            next(builder);
            if (builder.Name is not null && clients.Value.Names.Contains(builder.Name))
            {
                var handlers = builder.AdditionalHandlers;
                for (var i = handlers.Count - 1; i >= 0; i--)
                {
                    if (handlers[i].GetType().Assembly == s_serviceDiscovery)
                    {
                        handlers.RemoveAt(i);
                    }
                }
            }
        };
}
