using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Lanes.Routing;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// The outermost handler of a lane-routed client: answers a <see cref="LaneUnavailableException"/> from the routing
/// handler with the local 503 <c>application/problem+json</c> titled <c>no healthy upstream</c> (the gateway's shape),
/// after it has passed through any resilience handler untouched.
/// </summary>
internal sealed class LaneUnavailableHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (LaneUnavailableException unavailable)
        {
            return Answer(request, unavailable);
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return base.Send(request, cancellationToken);
        }
        catch (LaneUnavailableException unavailable)
        {
            return Answer(request, unavailable);
        }
    }

    private static HttpResponseMessage Answer(HttpRequestMessage request, LaneUnavailableException unavailable)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            ["title"] = LaneRoutingNames.NoHealthyUpstream,
            ["status"] = 503,
            ["detail"] = unavailable.Detail,
            ["lane"] = unavailable.Lane,
            ["cluster"] = unavailable.Service,
            ["reason"] = LaneRoutingNames.Get(unavailable.Choice.Reason),
        });
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/problem+json") { CharSet = "utf-8" };
        return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request, Content = content };
    }
}
