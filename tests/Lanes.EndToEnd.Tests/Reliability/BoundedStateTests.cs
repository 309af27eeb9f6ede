using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Lanes.Diagnostics;
using Lanes.Testing;
using Lanes.Tracing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Lanes.EndToEnd.Tests.Reliability;

/// <summary>
/// A client that sends a new lane and a new trace id on every request cannot grow Lanes' state: through a real
/// gateway and two real services, metric series, trace caches and the gateway's routing counters stay within their
/// documented bounds. CI sends 10,000 distinct lanes; <c>LANES_SOAK=1</c> sends 100,000.
/// </summary>
public sealed class BoundedStateTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DistinctLanesAndTraceIds_ThroughGatewayAndServices_KeepSeriesCachesAndCountersBounded()
    {
        // Arrange: green and yellow Lanes services behind a Lanes gateway (Permissive: unknown lanes go to green).
        var total = Environment.GetEnvironmentVariable("LANES_SOAK") == "1" ? 100_000 : 10_000;
        await using var green = await LaneServers.StartServiceAsync();
        await using var yellow = await LaneServers.StartServiceAsync();
        await using var gateway = await LaneServers.StartGatewayAsync(green.Address, yellow.Address, "/app/{**rest}", admin: true);
        using var gatewaySeries = new MeasurementRecorder(gateway.App.Services.GetRequiredService<LanesMetrics>().Meter);
        using var serviceSeries = new MeasurementRecorder(green.App.Services.GetRequiredService<LanesMetrics>().Meter);
        using var client = gateway.CreateClient();
        var next = -1;
        var wrong = 0;

        // Act: 16 workers, each request a new lane and a new trace id.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/app/x");
                request.Headers.Add("x-mspider-lane", "lane-" + i);
                request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
                using var response = await client.SendAsync(request);
                var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (answer.GetProperty("lane").GetString() != "lane-" + i)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        }));

        // Assert: every lane arrived, yet every per-lane structure stayed within its bound.
        Assert.Equal(0, wrong);
        var gatewayLaneTags = DistinctLaneTags(gatewaySeries);
        var serviceLaneTags = DistinctLaneTags(serviceSeries);
        var gatewayCache = gateway.App.Services.GetRequiredService<LaneTraceCache>();
        var serviceCache = green.App.Services.GetRequiredService<LaneTraceCache>();
        using var admin = await client.GetFromJsonAsync<JsonDocument>("/lanes");
        var counters = admin!.RootElement.GetProperty("clusters")[0].GetProperty("counters").GetArrayLength();
        output.WriteLine($"{total} lanes: lane tag values gateway {gatewayLaneTags}, service {serviceLaneTags}; trace cache gateway {gatewayCache.Count}, service {serviceCache.Count}; routing counters {counters}");

        // At most the default lane, 100 first-seen lanes and "other" (LaneTagValues.DynamicLimit), per process.
        Assert.InRange(gatewayLaneTags, 2, LaneTagValues.DynamicLimit + 2);
        Assert.InRange(serviceLaneTags, 2, LaneTagValues.DynamicLimit + 2);
        Assert.InRange(gatewayCache.Count, 1, gatewayCache.Capacity);
        Assert.InRange(serviceCache.Count, 1, serviceCache.Capacity);

        // Routing counters are keyed by the bounded tag: one per declared lane and outcome, plus "other".
        Assert.InRange(counters, 1, 4);
        Assert.Contains(
            admin!.RootElement.GetProperty("clusters")[0].GetProperty("counters").EnumerateArray(),
            c => c.GetProperty("lane").GetString() == LanesDiagnostics.OtherLane && c.GetProperty("count").GetInt64() == total);
    }

    [Fact]
    public async Task ThousandJunkLanes_ThenADeclaredLane_KeepsItsMetricTagAndItsPlaceOnTheAdminPage()
    {
        // Arrange: the gateway's clusters declare green and yellow (destination labels).
        await using var green = await LaneServers.StartServiceAsync();
        await using var yellow = await LaneServers.StartServiceAsync();
        await using var gateway = await LaneServers.StartGatewayAsync(green.Address, yellow.Address, "/app/{**rest}", admin: true);
        using var gatewaySeries = new MeasurementRecorder(gateway.App.Services.GetRequiredService<LanesMetrics>().Meter);
        using var client = gateway.CreateClient();
        for (var i = 0; i < 1_000; i++)
        {
            using var junk = new HttpRequestMessage(HttpMethod.Get, "/app/x");
            junk.Headers.Add("x-mspider-lane", "junk-" + i);
            using var response = await client.SendAsync(junk);
            response.EnsureSuccessStatusCode();
        }

        // Act
        using var request = new HttpRequestMessage(HttpMethod.Get, "/app/x");
        request.Headers.Add("x-mspider-lane", "yellow");
        using var served = await client.SendAsync(request);

        // Assert: the yellow request is counted under "yellow", not "other", and the page lists it as observed.
        served.EnsureSuccessStatusCode();
        var inbound = gatewaySeries.Of(LanesDiagnostics.InboundInstrument).ToList();
        Assert.Equal("yellow", inbound[^1].Tag("lane.name"));
        Assert.Contains(inbound, static m => m.Tag("lane.name") == LanesDiagnostics.OtherLane);
        using var admin = await client.GetFromJsonAsync<JsonDocument>("/lanes");
        var lanes = admin!.RootElement.GetProperty("lanes").EnumerateArray().ToList();
        Assert.Contains(lanes, static l => l.GetProperty("lane").GetString() == "yellow" && l.GetProperty("observed").GetInt64() == 1);
        Assert.True(lanes.Count(static l => l.GetProperty("lane").GetString()!.StartsWith("junk-", StringComparison.Ordinal)) <= 256);
    }

    private static int DistinctLaneTags(MeasurementRecorder recorder)
        => recorder.Measurements.Select(static m => m.Tag("lane.name")).Where(static t => t is not null).Distinct(StringComparer.Ordinal).Count();
}
