using System.Net;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Lanes.Grpc.Routing;

/// <summary>
/// The innermost handler of a lane-routed gRPC client (docs/behaviour.md, "Failover"): a connection to the instance the
/// balancer picked that fails (refused, reset while connecting: nothing reached the instance) answers the call at once as
/// gRPC <c>UNAVAILABLE</c> (a trailers-only response), instead of throwing. The gRPC retry policy then picks again in
/// the lane's subset; an HTTP-level retry (the standard resilience handler of Aspire's ServiceDefaults, outside this
/// handler) would only try the same dead address again, with back-off, until the call's deadline.
/// </summary>
internal sealed class LaneGrpcConnectFailureHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError && !cancellationToken.IsCancellationRequested)
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK)
            {
                RequestMessage = request,
                Version = HttpVersion.Version20,
                Content = new ByteArrayContent([]),
            };
            response.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
            response.Headers.TryAddWithoutValidation("grpc-status", "14");
            response.Headers.TryAddWithoutValidation("grpc-message", "connection to the picked instance failed");
            return response;
        }
    }

    /// <summary>Puts the handler last (innermost) in every lane-routed gRPC client, whatever else configured it.</summary>
    internal sealed class Filter(IOptions<Clients> clients) : IHttpMessageHandlerBuilderFilter
    {
        public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next)
            => builder =>
            {
                next(builder);
                if (builder.Name is not null && clients.Value.Names.Contains(builder.Name))
                {
                    builder.AdditionalHandlers.Add(new LaneGrpcConnectFailureHandler());
                }
            };
    }

    /// <summary>The names of the lane-routed gRPC clients.</summary>
    internal sealed class Clients
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
    }
}
