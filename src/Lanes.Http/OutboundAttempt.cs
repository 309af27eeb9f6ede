using System.Diagnostics;

namespace Lanes.Http;

/// <summary>
/// Keeps every attempt of a call on the one outbound pipeline (docs/behaviour.md, "Propagation over HttpClient"): retry handlers (the
/// standard resilience handler's retries, Lanes' own retry after a connection failure) send the same
/// <see cref="HttpRequestMessage"/> again, and the runtime's diagnostics handler, seeing a message it already injected
/// trace context into, removes every field of its propagator (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>)
/// and writes them again from the Activity: the lane member of <c>baggage</c> would be lost from the second attempt on.
/// So the Lanes handler closest to the network sends a message that was already sent as a fresh copy: same method,
/// URI, version, headers, options and content (shared, as a resend shares it), without the trace-context fields the
/// diagnostics handler wrote, which it writes again for the new attempt; <c>baggage</c>, written by Lanes, is kept.
/// </summary>
internal static class OutboundAttempt
{
    private const string SentKey = "Lanes.Http.Sent";
    private static readonly object s_sent = new();

    /// <summary>
    /// The message to send for this attempt, marked as sent: <paramref name="request"/> itself the first time, a fresh
    /// copy when an earlier attempt already went down the pipeline with it.
    /// </summary>
    /// <remarks>
    /// A message without <c>baggage</c> or <c>tracestate</c> (no lane, baggage off, nothing inbound to forward) loses
    /// nothing to a resend: it goes as it is, unmarked, and costs no allocation (the options dictionary a mark needs is
    /// most of what a propagated call allocates: AllocationBudgetTests).
    /// </remarks>
    public static HttpRequestMessage Next(HttpRequestMessage request)
    {
        var headers = request.Headers.NonValidated;
        if (!headers.Contains("baggage") && !headers.Contains("tracestate"))
        {
            return request;
        }

        IDictionary<string, object?> options = request.Options;
        if (!options.TryGetValue(SentKey, out _))
        {
            options[SentKey] = s_sent;
            return request;
        }

        var copy = Copy(request);
        ((IDictionary<string, object?>)copy.Options)[SentKey] = s_sent;
        return copy;
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri)
        {
            Content = request.Content,
            Version = request.Version,
            VersionPolicy = request.VersionPolicy,
        };

        var traceFields = DistributedContextPropagator.Current.Fields;
        foreach (var header in request.Headers)
        {
            if (!IsTraceField(traceFields, header.Key))
            {
                copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        IDictionary<string, object?> options = copy.Options;
        foreach (var option in request.Options)
        {
            if (option.Key != SentKey)
            {
                options[option.Key] = option.Value;
            }
        }

        return copy;
    }

    private static bool IsTraceField(IReadOnlyCollection<string> fields, string name)
    {
        if (string.Equals(name, "baggage", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var field in fields)
        {
            if (string.Equals(field, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
