using Lanes.W3C;
using OpenTelemetry;

namespace Lanes.Http;

/// <summary>
/// Adds the current lane (<see cref="LaneContext.Current"/>) to every outgoing request as the canonical header,
/// unless the request already carries that header (application code set it: it is kept), and, with baggage on,
/// exactly one <c>baggage</c> lane member merged with the other members (request, <c>Baggage.Current</c>, Activity
/// baggage). With no lane, a lane this service would not accept, or no HttpContext at all, it sends nothing and never throws.
/// </summary>
internal sealed class LanePropagationHandler : DelegatingHandler
{
    private readonly LanePropagator _propagator;

    public LanePropagationHandler(LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        _propagator = propagator;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Apply(request);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Apply(request);
        return base.Send(request, cancellationToken);
    }

    private void Apply(HttpRequestMessage request)
    {
        if (request is not null)
        {
            // The runtime's DiagnosticsHandler runs after this handler and only adds 'baggage' when it is absent,
            // so what it would have sent (Activity baggage) is merged in here.
            _propagator.ApplyTo(request, OutboundBaggage.RuntimePropagator(), Baggage.Current);
        }
    }
}
