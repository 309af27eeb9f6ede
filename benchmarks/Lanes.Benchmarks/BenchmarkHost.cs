using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Resolution;
using Lanes.Routing;
using Lanes.Tracing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lanes.Benchmarks;

/// <summary>Lanes' services built by hand with the mspider preset, as <c>AddLanes()</c> would build them, minus DI.</summary>
internal static class BenchmarkHost
{
    public static LanePropagator CreatePropagator(bool baggage = true, string? propagators = null)
    {
        var options = new LaneOptions().UsePreset("mspider");
        options.EnableBaggage = baggage;
        options.Propagators = propagators;
        var settings = new LaneSettingsHolder(LaneSettings.Create(options));
        var resolver = new LaneResolver(settings, new LaneTraceCache(settings.Current.TraceCacheSize), new LanesMetrics(settings), NullLogger<LaneResolver>.Instance);
        return new LanePropagator(settings, resolver, NullLogger<LanePropagator>.Instance);
    }

    /// <summary>The routing and metric-attribute reporter over <paramref name="propagator"/>'s metrics.</summary>
    public static LaneTelemetry Telemetry(LanePropagator propagator) => new(propagator.Resolver.Metrics, NullLogger<LaneTelemetry>.Instance, TimeProvider.System);

    /// <summary>The innermost handler of every outbound benchmark: answers at once, sends nothing.</summary>
    public sealed class Terminal : HttpMessageHandler
    {
        private static readonly Task<HttpResponseMessage> s_ok = Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => s_ok;
    }
}
