using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Runs after every other configuration of a lane-routed client's handlers, whatever order the application called
/// them in: lane routing goes last (innermost: inside any retry or resilience handler, so each attempt picks again in
/// the lane's subset) and <see cref="LaneUnavailableHandler"/> first (outermost: the local 503 is answered outside
/// every retry and circuit breaker).
/// </summary>
internal sealed class LaneRoutingOrderFilter(IOptions<LaneRoutingOrderFilter.Clients> clients) : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next)
        => builder =>
        {
            next(builder);
            if (builder.Name is null || !clients.Value.Names.Contains(builder.Name))
            {
                return;
            }

            var handlers = builder.AdditionalHandlers;
            for (var i = 0; i < handlers.Count; i++)
            {
                if (handlers[i] is LaneRoutingHandler routing)
                {
                    handlers.RemoveAt(i);
                    handlers.Add(routing);
                    break;
                }
            }

            handlers.Insert(0, new LaneUnavailableHandler());
        };

    /// <summary>The names of the lane-routed clients.</summary>
    internal sealed class Clients
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
    }
}
