using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Lanes.AspNetCore;
using Lanes.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lanes.Benchmarks;

/// <summary>
/// The cost of each extra carrier of <c>Lanes:Propagators</c> (docs/polyglot.md): one hop (inbound middleware, one
/// outgoing HttpClient call) under a current W3C trace with a two-member <c>tracestate</c>, so <c>tracecontext</c> and
/// <c>ottrace</c> have a trace context to write from. Baseline: the default carriers (header, baggage) under the same trace.
/// </summary>
[MemoryDiagnoser]
public class CarrierBenchmarks
{
    private static readonly Activity s_trace = StartTrace();

    private LanesMiddleware _defaults = null!;
    private LanesMiddleware _traceContext = null!;
    private LanesMiddleware _jaeger = null!;
    private LanesMiddleware _otTrace = null!;
    private LanesMiddleware _every = null!;

    [GlobalSetup]
    public void Setup()
    {
        _defaults = Create(null);
        _traceContext = Create("header, baggage, tracecontext");
        _jaeger = Create("header, baggage, jaeger");
        _otTrace = Create("header, baggage, ottrace");
        _every = Create("header, baggage, tracecontext, jaeger, ottrace");
    }

    [Benchmark(Baseline = true, Description = "carriers: header, baggage (default)")]
    public Task Defaults() => Request(_defaults);

    [Benchmark(Description = "carriers: + tracecontext")]
    public Task TraceContext() => Request(_traceContext);

    [Benchmark(Description = "carriers: + jaeger")]
    public Task Jaeger() => Request(_jaeger);

    [Benchmark(Description = "carriers: + ottrace")]
    public Task OtTrace() => Request(_otTrace);

    [Benchmark(Description = "carriers: all five")]
    public Task Every() => Request(_every);

    private static async Task Request(LanesMiddleware middleware)
    {
        Activity.Current = s_trace;
        var context = new DefaultHttpContext();
        context.Request.Headers["x-mspider-lane"] = "yellow";
        await middleware.InvokeAsync(context);
    }

    private static LanesMiddleware Create(string? propagators)
    {
        var propagator = BenchmarkHost.CreatePropagator(propagators: propagators);
        var telemetry = BenchmarkHost.Telemetry(propagator);
        var invoker = new HttpMessageInvoker(new LanePropagationHandler(propagator, telemetry) { InnerHandler = new BenchmarkHost.Terminal() });
        return new LanesMiddleware(ctx => CallAsync(invoker), propagator.Resolver, telemetry, NullLogger<LanesMiddleware>.Instance);
    }

    private static async Task CallAsync(HttpMessageInvoker invoker)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://details/details");
        using var response = await invoker.SendAsync(request, CancellationToken.None);
    }

    private static Activity StartTrace()
    {
        var activity = new Activity("carrier-benchmark");
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
        activity.Start();
        Activity.Current = null;
        return activity;
    }
}
