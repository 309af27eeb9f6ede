using Lanes.Http;
using Lanes.Routing;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Sends a request addressed to a logical service (<c>http://details/...</c>) to an instance of the request's lane
/// under the service's policy (docs/behaviour.md, "Subset selection", "Client-side HTTP routing", "Service discovery and resilience"). The instances come from service discovery
/// (<see cref="LaneServiceEndpoints"/>: <c>Lanes:Services</c>, configuration, any provider); a host no provider knows
/// passes through. It sits inside any resilience handler, so every attempt picks again from the lane's subset, and
/// the request URI is put back after each attempt, so a retry is routed again, never sent to the previous pick. A
/// connection failure ejects the instance (passive health); a request without content is then retried once on a
/// fresh pick, since nothing reached the instance. An empty subset throws <see cref="LaneUnavailableException"/>,
/// which resilience predicates do not retry and the client's outermost handler answers with the local 503.
/// Both <c>SendAsync</c> and <c>Send</c> are routed.
/// </summary>
internal sealed class LaneRoutingHandler : LaneAttemptHandler
{
    private readonly LaneHttpRouter _router;
    private readonly LaneServiceEndpoints _endpoints;
    private readonly LanePropagator _propagator;

    public LaneRoutingHandler(LaneHttpRouter router, LaneServiceEndpoints endpoints, LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(propagator);
        _router = router;
        _endpoints = endpoints;
        _propagator = propagator;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var logical = request.RequestUri;
        if (logical is not { IsAbsoluteUri: true }
            || await _endpoints.GetAsync(logical.Scheme, logical.Host, cancellationToken).ConfigureAwait(false) is not { } snapshot)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var service = snapshot.Definition;
        var lane = OutboundLane(request);
        for (var attempt = 0; ; attempt++)
        {
            var instance = Pick(service, lane, request, logical);
            var sent = NextAttempt(request);
            try
            {
                return await base.SendAsync(sent, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (ShouldRetry(e, service, instance, request, attempt))
            {
            }
            finally
            {
                request.RequestUri = logical;
            }
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var logical = request.RequestUri;
        if (logical is not { IsAbsoluteUri: true } || ResolveNow(logical, cancellationToken) is not { } snapshot)
        {
            return base.Send(request, cancellationToken);
        }

        var service = snapshot.Definition;
        var lane = OutboundLane(request);
        for (var attempt = 0; ; attempt++)
        {
            var instance = Pick(service, lane, request, logical);
            var sent = NextAttempt(request);
            try
            {
                return base.Send(sent, cancellationToken);
            }
            catch (HttpRequestException e) when (ShouldRetry(e, service, instance, request, attempt))
            {
            }
            finally
            {
                request.RequestUri = logical;
            }
        }
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

    /// <summary>
    /// The service for a synchronous call. Resolved services answer at once; the first synchronous call to a service
    /// not resolved yet waits for its resolution, as <c>HttpClient.Send</c> waits for everything else.
    /// </summary>
    private LaneServiceSnapshot? ResolveNow(Uri logical, CancellationToken cancellationToken)
    {
        var pending = _endpoints.GetAsync(logical.Scheme, logical.Host, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Picks an instance and points the request at it; throws <see cref="LaneUnavailableException"/> when there is none.</summary>
    private LaneServiceInstance Pick(LaneServiceDefinition service, string? lane, HttpRequestMessage request, Uri logical)
    {
        var instance = _router.Pick(service, lane, out var choice);
        if (instance is null)
        {
            LaneResilienceTelemetry.MarkLocalUnavailable(request);
            throw new LaneUnavailableException(service.Name, lane, choice, _propagator.Settings);
        }

        request.RequestUri = Rebase(logical, instance.Address);
        return instance;
    }

    /// <summary>Ejects an instance nothing reached; true when the call may be tried once more here (no content, first attempt).</summary>
    private bool ShouldRetry(HttpRequestException e, LaneServiceDefinition service, LaneServiceInstance instance, HttpRequestMessage request, int attempt)
    {
        if (e.HttpRequestError != HttpRequestError.ConnectionError)
        {
            return false;
        }

        _router.Eject(service, instance);
        return attempt == 0 && request.Content is null;
    }

    /// <summary>The lane the request will carry, by the one outbound rule: a canonical header the app set, else the ambient lane.</summary>
    private string? OutboundLane(HttpRequestMessage request)
    {
        var carrier = new HttpRequestLaneCarrier(request.Headers);
        return _propagator.TryGetCallLane(carrier.GetValues(_propagator.HeaderName), out var lane) ? lane : null;
    }
}
