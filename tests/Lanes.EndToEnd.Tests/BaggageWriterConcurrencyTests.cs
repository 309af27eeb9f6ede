using System.Diagnostics;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// <c>WithLanes()</c>'s propagator remembers the wrapper it made for the last setter it saw; threads that inject with
/// different setters at once must each write through their own setter, never through a wrapper of another one. (The
/// pair was a two-reference struct written without synchronisation: this test saw 1 to 10 carriers written through
/// another call's setter in two of three runs before the fix.)
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class BaggageWriterConcurrencyTests
{
    private const int Iterations = 400_000;

    [Fact]
    public async Task Inject_EightSettersFromFourThreads_EachCarrierIsWrittenOnlyThroughItsOwnSetter()
    {
        // Arrange
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddLanes(static o => o.UsePreset("mspider"));
        builder.Services.AddOpenTelemetry().WithLanes().WithTracing(static t => t.AddSource("none"));
        using var host = builder.Build();
        await host.StartAsync();
        var propagator = Propagators.DefaultTextMapPropagator;
        // Eight distinct setters, so the remembered one changes on almost every call.
        var setters = Enumerable.Range(0, 8)
            .Select(static n => (Prefix: $"s{n}:", Setter: (Action<Dictionary<string, string>, string, string>)((carrier, key, value) => carrier[$"s{n}:" + key] = value)))
            .ToArray();
        using var activity = new Activity("concurrency").SetIdFormat(ActivityIdFormat.W3C).Start();
        var context = new PropagationContext(activity.Context, default);
        var wrong = 0;
        var written = 0;

        // Act
        using (LaneContext.Begin("yellow"))
        {
            Parallel.For(0, Iterations, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            {
                var carrier = new Dictionary<string, string>();
                var (prefix, setter) = setters[i % setters.Length];
                propagator.Inject(context, carrier, setter);
                Interlocked.Add(ref written, carrier.Count);
                foreach (var key in carrier.Keys)
                {
                    if (!key.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
            });
        }

        await host.StopAsync();

        // Assert: traceparent, the lane header and baggage were written each time, always through the caller's setter.
        Assert.Equal(0, wrong);
        Assert.True(written >= 3 * Iterations, $"{written} fields written");
    }
}
