namespace Lanes.Http;

/// <summary>
/// Adds the current lane (<see cref="LaneContext.Current"/>) to every outgoing request as the canonical header,
/// unless the request already carries that header (application code set it: it is kept). With no lane, a lane
/// this service would not accept, or no HttpContext at all, it sends nothing and never throws.
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
        var lane = LaneContext.Current;
        if (request is null || !_propagator.CanInject(lane) || request.Headers.Contains(_propagator.HeaderName))
        {
            return;
        }

        request.Headers.TryAddWithoutValidation(_propagator.HeaderName, lane);
    }
}
