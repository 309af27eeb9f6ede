using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.AspNetCore.Tests;

/// <summary>
/// DESIGN 5: the lane is added to ASP.NET Core's own <c>http.server.request.duration</c> as <c>lane.name</c>, with the
/// same bounded values as the <c>Lanes</c> meter, so latency per lane needs no extra instrument.
/// </summary>
public sealed class RequestMetricsTests
{
    [Fact]
    public async Task ServerRequestDuration_CarriesTheBoundedLane_AndNothingWithoutOne()
    {
        // The listener is process-wide: this test's requests are the ones on its own route.
        var route = "/metrics-" + Guid.NewGuid().ToString("N");
        var durations = new ConcurrentQueue<Dictionary<string, string?>>();
        using var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, l) =>
            {
                if (instrument.Meter.Name == "Microsoft.AspNetCore.Hosting" && instrument.Name == "http.server.request.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var values = tags.ToArray().ToDictionary(static t => t.Key, static t => t.Value?.ToString());
            if (values.TryGetValue("http.route", out var measured) && measured == route)
            {
                durations.Enqueue(values);
            }
        });
        listener.Start();
        await using var server = await TestServers.StartAsync(
            static b => b.Services.AddLanes(static o => o.KnownLanes.Add("yellow")),
            app =>
            {
                app.UseLanes();
                app.MapGet(route, static () => "ok");
            },
            new Dictionary<string, string?> { ["Lanes:Header"] = "x-lane" });
        using var client = server.CreateClient();

        foreach (var lane in new[] { "yellow", "purple", null })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, route);
            if (lane is not null)
            {
                request.Headers.Add("x-lane", lane);
            }

            (await client.SendAsync(request)).Dispose();
        }

        await Wait.UntilAsync(() => durations.Count >= 3, "three http.server.request.duration measurements on the test route", () => $"{durations.Count}");
        var lanes = durations.Select(static d => d.TryGetValue("lane.name", out var lane) ? lane! : "(absent)").ToArray();
        Assert.Equal(["yellow", "other", "(absent)"], lanes);          // purple is not a known lane: bounded to "other"
        Assert.All(durations, static d => Assert.Equal("200", d["http.response.status_code"]));
    }
}
