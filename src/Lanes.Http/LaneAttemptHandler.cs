namespace Lanes.Http;

/// <summary>
/// A handler that sends each attempt of a call itself, below lane propagation: the one that picks the instance for
/// the attempt (lane routing in <c>Lanes.ServiceDiscovery</c> derives from it). Lane propagation stays above it whatever
/// order the handlers were registered in, and leaves the attempt to it: the handler passes
/// <see cref="NextAttempt(HttpRequestMessage)"/>'s message on, which is the request itself the first time and a fresh
/// copy (the lane's <c>baggage</c> kept, the runtime's trace fields left for it to write again) when a retry sends the
/// same request again (docs/behaviour.md, "Propagation over HttpClient").
/// </summary>
public abstract class LaneAttemptHandler : DelegatingHandler
{
    /// <summary>Creates the handler; its inner handler is set by <c>IHttpClientFactory</c>.</summary>
    protected LaneAttemptHandler()
    {
    }

    /// <summary>The message to send down for this attempt of <paramref name="request"/>, marked as sent.</summary>
    /// <param name="request">The request this handler was given.</param>
    protected static HttpRequestMessage NextAttempt(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OutboundAttempt.Next(request);
    }
}
