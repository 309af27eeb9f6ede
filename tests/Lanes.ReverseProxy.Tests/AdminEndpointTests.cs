using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;

namespace Lanes.ReverseProxy.Tests;

public sealed class AdminEndpointTests
{
    [Fact]
    public async Task MapLanesAdmin_ReportsClustersDeclaredLanesDestinationsPerLaneWithHealthAndCounters()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(
            SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev2"));

        using var client = gateway.CreateClient();
        var report = await client.GetFromJsonAsync<JsonElement>("/lanes");

        Assert.Equal("x-nsf-mark", report.GetProperty("header").GetString());
        Assert.Equal("Accept", report.GetProperty("trust").GetString());
        var cluster = report.GetProperty("clusters").EnumerateArray().Single();
        Assert.Equal("svc1", cluster.GetProperty("id").GetString());
        Assert.Equal("Declared", cluster.GetProperty("policy").GetString());
        Assert.Equal("(unlabelled)", cluster.GetProperty("baseline").GetString());
        Assert.Equal(["dev1", "dev2"], cluster.GetProperty("declaredLanes").EnumerateArray().Select(static e => e.GetString()!));
        Assert.Equal("metadata", cluster.GetProperty("declaredFrom").GetString());
        Assert.Equal("pod1", cluster.GetProperty("lanes").GetProperty("dev1")[0].GetString());
        Assert.Equal("pod2", cluster.GetProperty("lanes").GetProperty("(unlabelled)")[0].GetString());
        var pod1Entry = cluster.GetProperty("destinations").EnumerateArray().Single(static d => d.GetProperty("id").GetString() == "pod1");
        Assert.Equal("dev1", pod1Entry.GetProperty("lane").GetString());
        Assert.True(pod1Entry.GetProperty("available").GetBoolean());
        Assert.Equal("Unknown", pod1Entry.GetProperty("health").GetProperty("active").GetString());
        var counters = cluster.GetProperty("counters").EnumerateArray().ToList();
        Assert.Contains(counters, static c => c.GetProperty("lane").GetString() == "dev1" && c.GetProperty("outcome").GetString() == "matched" && c.GetProperty("count").GetInt64() == 2);
        Assert.Contains(counters, static c => c.GetProperty("lane").GetString() == "dev2" && c.GetProperty("outcome").GetString() == "no-upstream"
            && c.GetProperty("reason").GetString() == "lane-unavailable" && c.GetProperty("count").GetInt64() == 1);
    }

    [Fact]
    public async Task AdminEndpoint_IsOffUnlessMapped()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var config = SeedScenarioTests.HangoConfig(pod1, pod2).Route("svc1", "svc1", "/svc1");
        await using var gateway = await Gateway.StartAsync(config);

        using var client = gateway.CreateClient();
        var response = await client.GetAsync("/lanes");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
