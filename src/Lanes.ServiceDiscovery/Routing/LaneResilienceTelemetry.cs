using Microsoft.Extensions.Options;
using Polly;
using Polly.Telemetry;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Keeps the local 503 out of the resilience pipeline's own log. The answer "no instance can serve this lane" is thrown
/// by the routing handler inside the standard resilience handler and answered outside it (so it is never retried); on
/// its way out Polly's telemetry would log the attempt at Information with the exception's stack, which reads as an
/// error. The routing handler marks the call's <see cref="ResilienceContext"/> (through the public
/// <c>HttpRequestMessage.GetResilienceContext()</c>); this provider, wrapped around whatever severity provider the
/// application set, reports the marked call's events at <see cref="ResilienceEventSeverity.Debug"/> at most. Lanes logs
/// the decision itself once, as the warning <c>NoHealthyUpstream</c>.
/// </summary>
internal static class LaneResilienceTelemetry
{
    public static readonly ResiliencePropertyKey<bool> LocalUnavailable = new("Lanes.LocalUnavailable");

    /// <summary>Marks the call the request belongs to, when it runs under a resilience pipeline.</summary>
    public static void MarkLocalUnavailable(HttpRequestMessage request)
        => request.GetResilienceContext()?.Properties.Set(LocalUnavailable, true);

    internal sealed class Configure : IPostConfigureOptions<TelemetryOptions>
    {
        public void PostConfigure(string? name, TelemetryOptions options)
        {
            var inner = options.SeverityProvider;
            options.SeverityProvider = args =>
            {
                var severity = inner?.Invoke(args) ?? args.Event.Severity;
                return severity > ResilienceEventSeverity.Debug
                    && args.Context.Properties.TryGetValue(LocalUnavailable, out var marked) && marked
                    ? ResilienceEventSeverity.Debug
                    : severity;
            };
        }
    }
}
