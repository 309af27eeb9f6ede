using Lanes.Configuration;

namespace Lanes.Http;

/// <summary>
/// Adds the current lane (<see cref="LaneContext.Current"/>) to every outgoing request as the canonical header,
/// unless the request already carries that header (application code set it: it is kept). With no lane, or no
/// HttpContext at all, it sends nothing and never throws.
/// </summary>
internal sealed class LanePropagationHandler : DelegatingHandler
{
    private readonly string _header;

    public LanePropagationHandler(LaneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _header = settings.Header;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Apply(request, _header);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Apply(request, _header);
        return base.Send(request, cancellationToken);
    }

    /// <summary>Adds the current lane under <paramref name="header"/> unless the request has that header already.</summary>
    internal static void Apply(HttpRequestMessage request, string header)
    {
        var lane = LaneContext.Current;
        if (lane is null || request is null || request.Headers.Contains(header))
        {
            return;
        }

        request.Headers.TryAddWithoutValidation(header, lane);
    }
}
