using BenchmarkDotNet.Attributes;
using Lanes.AspNetCore;
using Lanes.Http;
using Microsoft.AspNetCore.HeaderPropagation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lanes.Benchmarks;

/// <summary>
/// One hop: the inbound middleware reads the lane, then the request makes one outgoing HttpClient call that
/// carries it. Baseline: Microsoft.AspNetCore.HeaderPropagation doing the same single-header job.
/// </summary>
[MemoryDiagnoser]
public class PerHopBenchmarks
{
    private HeaderPropagationMiddleware _headerPropagation = null!;
    private LanesMiddleware _lanes = null!;
    private LanesMiddleware _lanesNoBaggage = null!;
    private HeaderPropagationMiddleware _headerPropagationInboundOnly = null!;
    private LanesMiddleware _lanesInboundOnly = null!;
    private HeaderPropagationMiddleware _headerPropagationPlainCall = null!;
    private LanesMiddleware _lanesPlainCall = null!;

    [GlobalSetup]
    public void Setup()
    {
        // HeaderPropagation: capture x-mspider-lane inbound, send it outbound.
        var values = new HeaderPropagationValues();
        var options = new HeaderPropagationOptions();
        options.Headers.Add("x-mspider-lane");
        var handlerOptions = new HeaderPropagationMessageHandlerOptions();
        handlerOptions.Headers.Add("x-mspider-lane");
        var propagationInvoker = new HttpMessageInvoker(new HeaderPropagationMessageHandler(handlerOptions, values) { InnerHandler = new BenchmarkHost.Terminal() });
        _headerPropagation = new HeaderPropagationMiddleware(ctx => CallAsync(propagationInvoker), Options.Create(options), values);

        _headerPropagationInboundOnly = new HeaderPropagationMiddleware(static _ => Task.CompletedTask, Options.Create(options), new HeaderPropagationValues());
        var inboundPropagator = BenchmarkHost.CreatePropagator();
        _lanesInboundOnly = new LanesMiddleware(static _ => Task.CompletedTask, inboundPropagator.Resolver, BenchmarkHost.Telemetry(inboundPropagator), NullLogger<LanesMiddleware>.Instance);
        var plain = new HttpMessageInvoker(new BenchmarkHost.Terminal());
        _headerPropagationPlainCall = new HeaderPropagationMiddleware(ctx => CallAsync(plain), Options.Create(options), new HeaderPropagationValues());
        _lanesPlainCall = new LanesMiddleware(ctx => CallAsync(plain), inboundPropagator.Resolver, BenchmarkHost.Telemetry(inboundPropagator), NullLogger<LanesMiddleware>.Instance);
        _lanes = CreateLanes(baggage: true);
        _lanesNoBaggage = CreateLanes(baggage: false);
    }

    // Each invocation runs in its own async method, as a server runs each request: ambient state a middleware
    // sets (HeaderPropagation's AsyncLocal headers, Lanes' frame) does not survive into the next iteration.
    [Benchmark(Baseline = true, Description = "HeaderPropagation")]
    public Task HeaderPropagation() => Request(_headerPropagation);

    [Benchmark(Description = "Lanes (baggage on, default)")]
    public Task Lanes() => Request(_lanes);

    [Benchmark(Description = "Lanes (baggage off)")]
    public Task LanesNoBaggage() => Request(_lanesNoBaggage);

    [Benchmark(Description = "inbound only: HeaderPropagation middleware")]
    public Task HeaderPropagationInboundOnly() => Request(_headerPropagationInboundOnly);

    [Benchmark(Description = "inbound only: Lanes middleware")]
    public Task LanesInboundOnly() => Request(_lanesInboundOnly);

    [Benchmark(Description = "inbound + unpropagated call: HeaderPropagation middleware")]
    public Task HeaderPropagationPlainCall() => Request(_headerPropagationPlainCall);

    [Benchmark(Description = "inbound + unpropagated call: Lanes middleware")]
    public Task LanesPlainCall() => Request(_lanesPlainCall);

    [Benchmark(Description = "no middleware: a new request context")]
    public DefaultHttpContext ContextOnly() => NewContext();

    private static async Task Request(HeaderPropagationMiddleware middleware) => await middleware.Invoke(NewContext());

    private static async Task Request(LanesMiddleware middleware) => await middleware.InvokeAsync(NewContext());

    private static LanesMiddleware CreateLanes(bool baggage)
    {
        var propagator = BenchmarkHost.CreatePropagator(baggage);
        var telemetry = BenchmarkHost.Telemetry(propagator);
        var invoker = new HttpMessageInvoker(new LanePropagationHandler(propagator, telemetry) { InnerHandler = new BenchmarkHost.Terminal() });
        return new LanesMiddleware(ctx => CallAsync(invoker), propagator.Resolver, telemetry, NullLogger<LanesMiddleware>.Instance);
    }

    private static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-mspider-lane"] = "yellow";
        return context;
    }

    private static async Task CallAsync(HttpMessageInvoker invoker)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://details/details");
        using var response = await invoker.SendAsync(request, CancellationToken.None);
    }
}
