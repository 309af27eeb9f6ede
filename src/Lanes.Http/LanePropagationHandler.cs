using Lanes.Routing;

namespace Lanes.Http;

/// <summary>
/// Writes the current lane onto every outgoing request through the one outbound pipeline
/// (<see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/>): the canonical header unless the request
/// carries it already (application code set it: it is kept and is the lane), and with baggage on exactly one
/// <c>baggage</c> value, the lane member first. The runtime's DiagnosticsHandler runs after this handler and only
/// adds <c>baggage</c> when it is absent, so the Activity baggage it would have sent is merged in here. With no lane,
/// a lane this service would not accept, or no HttpContext at all, it sends nothing and never throws. With HttpClient
/// metrics being collected, the lane is added to <c>http.client.request.duration</c> as <c>lane.name</c> (bounded).
/// </summary>
internal sealed class LanePropagationHandler : DelegatingHandler
{
    private readonly LanePropagator _propagator;
    private readonly LaneTelemetry _telemetry;
    private readonly Action<System.Net.Http.Metrics.HttpMetricsEnrichmentContext> _enrich;
    private int _routingBelow;

    public LanePropagationHandler(LanePropagator propagator, LaneTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(telemetry);
        _propagator = propagator;
        _telemetry = telemetry;
        _enrich = Enrich;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return base.SendAsync(request!, cancellationToken);
        }

        Apply(request);
        return base.SendAsync(RoutingBelow ? request : OutboundAttempt.Next(request), cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return base.Send(request!, cancellationToken);
        }

        Apply(request);
        return base.Send(RoutingBelow ? request : OutboundAttempt.Next(request), cancellationToken);
    }

    /// <summary>
    /// Whether lane routing sits below this handler: then it is the Lanes handler closest to the network and sends each
    /// attempt (<see cref="OutboundAttempt"/>); otherwise this handler does. Found once, from the handler chain.
    /// </summary>
    private bool RoutingBelow
    {
        get
        {
            if (_routingBelow == 0)
            {
                var below = false;
                for (var handler = InnerHandler; handler is DelegatingHandler delegating; handler = delegating.InnerHandler)
                {
                    below |= handler is LaneAttemptHandler;
                }

                _routingBelow = below ? 1 : -1;
            }

            return _routingBelow > 0;
        }
    }

    private void Apply(HttpRequestMessage request)
    {
        var carrier = new HttpRequestLaneCarrier(request.Headers);
        if (_propagator.InjectCall(ref carrier) is not null && HttpClientMetrics.DurationEnabled)
        {
            System.Net.Http.Metrics.HttpMetricsEnrichmentContext.AddCallback(request, _enrich);
        }
    }

    private void Enrich(System.Net.Http.Metrics.HttpMetricsEnrichmentContext context)
    {
        var carrier = new HttpRequestLaneCarrier(context.Request.Headers);
        if (_propagator.TryGetCallLane(carrier.GetValues(_propagator.HeaderName), out var lane))
        {
            context.AddCustomTag(LanesDiagnostics.LaneAttribute, _telemetry.MetricLane(lane));
        }
    }
}
