using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Http.Tests;

/// <summary>
/// DESIGN 5: the lane is added to HttpClient's own <c>http.client.request.duration</c> as <c>lane.name</c> (bounded)
/// for calls that carry one, when that instrument is collected (from the second request of the container's meter
/// factory on: HttpClient creates the instrument during the first).
/// </summary>
public sealed class RequestMetricsTests
{
    [Fact]
    public async Task ClientRequestDuration_CarriesTheLaneOfTheCall_AndNothingWithoutOne()
    {
        var durations = new ConcurrentQueue<Dictionary<string, string?>>();
        using var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, l) =>
            {
                if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        using var upstream = Upstreams.Start();
        var port = new Uri(upstream.Url!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            // The listener is process-wide: this test's calls are the ones to its own upstream.
            var values = tags.ToArray().ToDictionary(static t => t.Key, static t => t.Value?.ToString());
            if (values.TryGetValue("server.port", out var measured) && measured == port)
            {
                durations.Enqueue(values);
            }
        });
        listener.Start();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddLanes(static o => o.UsePreset("mspider"));
        services.AddHttpClient("up", c => c.BaseAddress = new Uri(upstream.Url!)).AddLanePropagation();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("up");

        // HttpClient creates the instrument on the first request of its meter factory, after Lanes has looked: that
        // request goes without the lane (documented); the ones after carry it.
        (await client.GetAsync(new Uri("/warm-up", UriKind.Relative))).Dispose();
        durations.Clear();

        using (LaneContext.Begin("yellow"))
        {
            (await client.GetAsync(new Uri("/a", UriKind.Relative))).Dispose();
        }

        using (LaneContext.Begin(null))
        {
            (await client.GetAsync(new Uri("/b", UriKind.Relative))).Dispose();
        }

        var lanes = durations.Select(static d => d.TryGetValue("lane.name", out var lane) ? lane! : "(absent)").ToArray();
        Assert.Equal(["yellow", "(absent)"], lanes);
    }
}
