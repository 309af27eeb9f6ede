using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The route endpoints of another data source, with the same pattern, order and metadata but a handler
/// that does nothing: what the tracer matches against, so matching a request can never run an endpoint.
/// </summary>
internal sealed class InertEndpointDataSource(EndpointDataSource inner) : EndpointDataSource
{
    private static readonly RequestDelegate Nothing = static _ => Task.CompletedTask;
    private (IReadOnlyList<Endpoint> Source, IReadOnlyList<Endpoint> Copies)? _cache;

    public override IReadOnlyList<Endpoint> Endpoints
    {
        get
        {
            var source = inner.Endpoints;
            if (_cache is { } cache && ReferenceEquals(cache.Source, source))
            {
                return cache.Copies;
            }

            var copies = new List<Endpoint>(source.Count);
            foreach (var endpoint in source)
            {
                if (endpoint is RouteEndpoint route)
                {
                    copies.Add(new RouteEndpoint(Nothing, route.RoutePattern, route.Order, route.Metadata, route.DisplayName));
                }
            }

            _cache = (source, copies);
            return copies;
        }
    }

    public override IChangeToken GetChangeToken() => inner.GetChangeToken();
}
