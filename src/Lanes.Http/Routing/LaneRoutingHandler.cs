using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Lanes.Routing;

namespace Lanes.Http.Routing;

/// <summary>
/// Sends a request addressed to a logical service (<c>http://details/...</c>, a name under <c>Lanes:Services</c>) to an
/// instance of the request's lane under the service's policy (DESIGN 6, 8). Requests to other hosts pass through.
/// A connection failure ejects the instance (passive health); a request without content is then retried once
/// on a fresh pick, since nothing reached the instance. An empty subset is answered locally with 503
/// <c>application/problem+json</c> titled <c>no healthy upstream</c>, like the gateway.
/// </summary>
internal sealed class LaneRoutingHandler : DelegatingHandler
{
    private readonly LaneHttpRouter _router;
    private readonly LanePropagator _propagator;

    public LaneRoutingHandler(LaneHttpRouter router, LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(propagator);
        _router = router;
        _propagator = propagator;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var logical = request.RequestUri;
        if (logical is null || !logical.IsAbsoluteUri || !_router.TryGetService(logical.Host, out var service))
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var lane = OutboundLane(request);
        for (var attempt = 0; ; attempt++)
        {
            var instance = _router.Pick(service, lane, out var choice);
            if (instance is null)
            {
                request.RequestUri = logical;
                return NoHealthyUpstream(request, service, lane, choice);
            }

            request.RequestUri = Rebase(logical, instance.Address);
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                _router.Eject(service, instance);
                if (attempt > 0 || request.Content is not null)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>The lane the request will carry, by the one outbound rule: a canonical header the app set, else the ambient lane.</summary>
    private string? OutboundLane(HttpRequestMessage request)
    {
        var carrier = new HttpRequestLaneCarrier(request.Headers);
        return _propagator.TryGetCallLane(carrier.GetValues(_propagator.HeaderName), out var lane) ? lane : null;
    }

    internal static Uri Rebase(Uri logical, Uri instance)
    {
        var builder = new UriBuilder(instance)
        {
            Path = instance.AbsolutePath.TrimEnd('/') + logical.AbsolutePath,
            Query = logical.Query.TrimStart('?'),
        };
        return builder.Uri;
    }

    private static HttpResponseMessage NoHealthyUpstream(HttpRequestMessage request, LaneServiceDefinition service, string? lane, LaneChoice<LaneServiceInstance> choice)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            ["title"] = LaneRoutingNames.NoHealthyUpstream,
            ["status"] = 503,
            ["detail"] = LaneRoutingNames.NoHealthyUpstreamDetail(service.Name, lane, service.Settings.Policy),
            ["lane"] = lane,
            ["cluster"] = service.Name,
            ["reason"] = LaneRoutingNames.Get(choice.Reason),
        });
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/problem+json") { CharSet = "utf-8" };
        return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request, Content = content };
    }
}
