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
            return Unavailable(request, "connection to the picked instance failed");
        }
        catch (HttpRequestException e) when (ClosedWithoutAnswering(e) && !cancellationToken.IsCancellationRequested)
        {
            return Unavailable(request, "the picked instance closed the connection before answering");
        }
    }

    /// <summary>
    /// The instance ended the call's stream before any response header, without an error of its own: its connection
    /// closed with GOAWAY <c>NO_ERROR</c> (a graceful stop that did not take this stream), or it refused the stream
    /// (<c>REFUSED_STREAM</c>, which promises the request was not processed). grpc-dotnet reports the first as
    /// <c>INTERNAL</c>; grpc-java and grpc-core report a connection closed under a call as <c>UNAVAILABLE</c>, which a
    /// retry policy may retry. Any other HTTP/2 error code (the instance failed) keeps grpc-dotnet's status.
    /// </summary>
    private static bool ClosedWithoutAnswering(HttpRequestException e)
        => e.HttpRequestError == HttpRequestError.HttpProtocolError
            && e.InnerException is HttpProtocolException { ErrorCode: NoError or RefusedStream };

    private const long NoError = 0x0;
    private const long RefusedStream = 0x7;

    /// <summary>A trailers-only gRPC response with status <c>UNAVAILABLE</c>: the retry policy picks again in the lane.</summary>
    private static HttpResponseMessage Unavailable(HttpRequestMessage request, string message)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK)
        {
            RequestMessage = request,
            Version = HttpVersion.Version20,
            Content = new ByteArrayContent([]),
        };
        response.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        response.Headers.TryAddWithoutValidation("grpc-status", "14");
        response.Headers.TryAddWithoutValidation("grpc-message", message);
        return response;
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
