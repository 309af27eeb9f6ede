using BenchmarkDotNet.Attributes;
using Lanes.Http;
using Microsoft.AspNetCore.HeaderPropagation;
using Microsoft.Extensions.Primitives;

namespace Lanes.Benchmarks;

/// <summary>Putting the current lane on one outgoing HttpRequestMessage. Baseline: HeaderPropagation's handler.</summary>
[MemoryDiagnoser]
public class OutboundInjectionBenchmarks
{
    private HttpMessageInvoker _headerPropagation = null!;
    private HttpMessageInvoker _lanes = null!;
    private HttpMessageInvoker _lanesNoBaggage = null!;
    private HeaderPropagationValues _values = null!;
    private IDisposable _scope = null!;

    [GlobalSetup]
    public void Setup()
    {
        _values = new HeaderPropagationValues();
        var options = new HeaderPropagationMessageHandlerOptions();
        options.Headers.Add("x-mspider-lane");
        _headerPropagation = new HttpMessageInvoker(new HeaderPropagationMessageHandler(options, _values) { InnerHandler = new BenchmarkHost.Terminal() });
        _lanes = new HttpMessageInvoker(new LanePropagationHandler(BenchmarkHost.CreatePropagator(), BenchmarkHost.Telemetry(BenchmarkHost.CreatePropagator())) { InnerHandler = new BenchmarkHost.Terminal() });
        _lanesNoBaggage = new HttpMessageInvoker(new LanePropagationHandler(BenchmarkHost.CreatePropagator(baggage: false), BenchmarkHost.Telemetry(BenchmarkHost.CreatePropagator())) { InnerHandler = new BenchmarkHost.Terminal() });

        // The ambient state each library reads: HeaderPropagation's captured headers, Lanes' current lane.
        _values.Headers = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase) { ["x-mspider-lane"] = "yellow" };
        _scope = LaneContext.Begin("yellow");
    }

    [GlobalCleanup]
    public void Cleanup() => _scope.Dispose();

    [Benchmark(Baseline = true, Description = "HeaderPropagation handler")]
    public Task<HttpResponseMessage> HeaderPropagation() => Send(_headerPropagation);

    [Benchmark(Description = "Lanes handler (baggage on)")]
    public Task<HttpResponseMessage> Lanes() => Send(_lanes);

    [Benchmark(Description = "Lanes handler (baggage off)")]
    public Task<HttpResponseMessage> LanesNoBaggage() => Send(_lanesNoBaggage);

    private static Task<HttpResponseMessage> Send(HttpMessageInvoker invoker)
        => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://details/details"), CancellationToken.None);
}
