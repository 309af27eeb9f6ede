using System.Diagnostics;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Lanes.EndToEnd.Tests.Polyglot;

/// <summary>
/// <c>WithLanes()</c> composed over other propagators that write the same carriers (docs/polyglot.md): OpenTelemetry's
/// trace context (<c>tracestate</c>) and a Jaeger-style baggage propagator of this test's own (it writes
/// <c>uberctx-&lt;key&gt;</c> for every baggage entry, as OpenTelemetry's Jaeger propagator does, which this registry
/// does not serve). Each carrier still has one writer and one value for the lane key, on a carrier whose setter
/// appends (a second writer would show) and on an HttpRequestMessage.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class ComposedPropagatorTests
{
    [Fact]
    public async Task EveryCarrier_HasOneWriterAndOneValue_WithJaegerAndTraceContextComposedIn()
    {
        var before = Propagators.DefaultTextMapPropagator;
        Sdk.SetDefaultTextMapPropagator(new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator(), new JaegerStyleBaggage()]));
        try
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Services.AddLanes(static o =>
            {
                o.UsePreset("mspider");
                o.Propagators = "header, baggage, tracecontext, jaeger, ottrace";
            });
            builder.Services.AddOpenTelemetry().WithLanes().WithTracing(static t => t.AddSource("none"));
            using var host = builder.Build();
            await host.StartAsync();
            var propagator = Propagators.DefaultTextMapPropagator;
            var activityContext = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, "congo=t61rcWkgMzE");

            // The context an instrumented consumer extracted: the lane is in its baggage, beside another entry.
            var context = new PropagationContext(activityContext, Baggage.Create(new Dictionary<string, string> { ["x-mspider-lane"] = "yellow", ["user"] = "alice" }));
            var appended = new List<KeyValuePair<string, string>>();
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");
            using (LaneContext.Begin("yellow"))
            {
                propagator.Inject(context, appended, static (c, k, v) => c.Add(new(k, v)));
                propagator.Inject(context, request, static (r, k, v) => r.Headers.TryAddWithoutValidation(k, v));
            }

            await host.StopAsync();

            var fromRequest = request.Headers.SelectMany(static h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v))).ToList();
            foreach (var written in new[] { appended, fromRequest })
            {
                Assert.Equal(["yellow"], Values(written, "x-mspider-lane"));
                Assert.Equal(["yellow"], Values(written, "uberctx-x-mspider-lane"));
                Assert.Equal(["yellow"], Values(written, "ot-baggage-x-mspider-lane"));
                Assert.Equal(["alice"], Values(written, "uberctx-user"));          // the composed propagator's other entries stay
                Assert.Equal(["x-mspider-lane=yellow,congo=t61rcWkgMzE"], Values(written, "tracestate"));
                Assert.Single(Values(written, "baggage"));
                Assert.StartsWith("x-mspider-lane=yellow,", Values(written, "baggage")[0], StringComparison.Ordinal);
                Assert.Single(Values(written, "traceparent"));
            }
        }
        finally
        {
            Sdk.SetDefaultTextMapPropagator(before);
        }
    }

    private static string[] Values(List<KeyValuePair<string, string>> written, string key)
        => [.. written.Where(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Select(static p => p.Value)];

    /// <summary>Writes <c>uberctx-&lt;key&gt;</c> for every baggage entry, percent-encoded, as OpenTelemetry's Jaeger propagator does.</summary>
    private sealed class JaegerStyleBaggage : TextMapPropagator
    {
        public override ISet<string> Fields => new HashSet<string>();

        public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
        {
            foreach (var (key, value) in context.Baggage)
            {
                setter(carrier, "uberctx-" + key, Uri.EscapeDataString(value ?? string.Empty));
            }
        }

        public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter) => context;
    }
}
