using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lanes.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy.Tests;

/// <summary>
/// Issue 42, item 1: one answer to "which lanes exist" for trust <c>AcceptDeclared</c>: the gateway's clusters (declared
/// lanes and destination labels) and the process's lane configuration (<c>Lanes:Services</c>' declared and instance
/// lanes, <c>KnownLanes</c>, the default lane). The README's case: the gateway's only cluster (frontend) has no yellow
/// instance, a downstream service (orders) listed in the same configuration does, and a client's yellow must reach it.
/// A lane declared nowhere is dropped, and says so: log 102 once per lane (Information), <c>lanes.rejected</c> with
/// reason <c>undeclared</c>, the admin page and the tracer.
/// </summary>
public sealed class AcceptDeclaredTests
{
    private static GatewayConfig FrontendWithOrders(Upstream green) => new GatewayConfig()
        .Lanes("Preset", "mspider")
        .Lanes("Trust", "AcceptDeclared")
        .Lanes("Services:orders:Instances:orders-green:Address", "http://127.0.0.1:9")
        .Lanes("Services:orders:Instances:orders-yellow:Address", "http://127.0.0.1:9")
        .Lanes("Services:orders:Instances:orders-yellow:Metadata:lane", "yellow")
        .Lanes("Services:payments:Metadata:lanePolicy", "Strict")
        .Lanes("Services:payments:Metadata:lanes", "hotfix")
        .Lanes("Services:payments:Instances:p1:Address", "http://127.0.0.1:9")
        .Route("frontend", "frontend")
        .Destination("frontend", "fe-green", green, "green");

    [Fact]
    public async Task ALaneOnlyADownstreamServiceHas_PassesTheEntry_AndALaneDeclaredNowhereIsDroppedAndSaysSo()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var gateway = await Gateway.StartAsync(FrontendWithOrders(green), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        var rejected = new List<string?>();
        using var listener = Listen(gateway.App.Services.GetRequiredService<LaneTelemetry>().Meter, LanesDiagnostics.RejectedInstrument, rejected);

        // Lanes the configuration names, though no cluster has them: an instance lane and a declared lane.
        var (_, yellow) = await gateway.SendAsync("/", ("x-mspider-lane", "yellow"));
        var (_, hotfix) = await gateway.SendAsync("/", ("x-mspider-lane", "hotfix"));

        // A lane nothing names, twice.
        var (_, purple) = await gateway.SendAsync("/", ("x-mspider-lane", "purple"), ("baggage", "x-mspider-lane=purple"));
        await gateway.SendAsync("/", ("x-mspider-lane", "purple"));

        Assert.Equal("yellow", yellow!.Header("x-mspider-lane"));            // served by frontend's green, in lane yellow
        Assert.Equal("hotfix", hotfix!.Header("x-mspider-lane"));
        Assert.Equal("green", purple!.Header("x-mspider-lane"));             // dropped: the default lane applies
        Assert.Equal("x-mspider-lane=green", purple.Header("baggage"));

        // Counted on every drop, logged once per lane, at Information, naming what would admit it.
        Assert.Equal(["undeclared", "undeclared"], rejected);
        var logged = gateway.Logs.Records.Where(static r => r.EventId.Id == 102).ToArray();
        var line = Assert.Single(logged);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("'purple'", line.Message, StringComparison.Ordinal);
        Assert.Contains("green, hotfix, yellow", line.Message, StringComparison.Ordinal);
        Assert.Contains("Lanes:KnownLanes", line.Message, StringComparison.Ordinal);

        // The page: yellow is declared by the lane configuration, purple was dropped twice.
        using var client = gateway.CreateClient();
        var report = await client.GetFromJsonAsync<JsonElement>("/lanes");
        var lanes = report.GetProperty("lanes").EnumerateArray().ToDictionary(static l => l.GetProperty("lane").GetString()!);
        Assert.Contains(lanes["yellow"].GetProperty("declaredBy").EnumerateArray(),
            static d => d.GetProperty("cluster").GetString() == "orders" && d.GetProperty("from").GetString() == "Lanes:Services");
        Assert.False(lanes["yellow"].GetProperty("undeclared").GetBoolean());
        Assert.Equal(2, lanes["purple"].GetProperty("from").GetProperty("dropped").GetInt64());
        Assert.True(lanes["purple"].GetProperty("undeclared").GetBoolean());

        // The tracer gives the same answer, and says which lane it dropped.
        var dropped = await TraceAsync(client, "purple");
        Assert.Equal("purple", dropped.GetProperty("droppedLane").GetString());
        Assert.Equal("green", dropped.GetProperty("lane").GetString());
        Assert.Contains("dropped (Lanes:Trust AcceptDeclared)", dropped.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var admitted = await TraceAsync(client, "yellow");
        Assert.Equal(JsonValueKind.Null, admitted.GetProperty("droppedLane").ValueKind);
        Assert.Equal("yellow", admitted.GetProperty("lane").GetString());
    }

    [Fact]
    public async Task KnownLanes_AreAdmittedToo()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider").Lanes("Trust", "AcceptDeclared").Lanes("KnownLanes:0", "green").Lanes("KnownLanes:1", "blue")
            .Route("frontend", "frontend").Destination("frontend", "fe-green", green, "green");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, blue) = await gateway.SendAsync("/", ("x-mspider-lane", "blue"));

        Assert.Equal("blue", blue!.Header("x-mspider-lane"));
        Assert.DoesNotContain(gateway.Logs.Records, static r => r.EventId.Id == 102);
    }

    private static async Task<JsonElement> TraceAsync(HttpClient client, string lane)
    {
        using var response = await client.PostAsJsonAsync("/lanes/trace", new { path = "/", headers = new Dictionary<string, string> { ["x-mspider-lane"] = lane } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static MeterListener Listen(Meter meter, string instrumentName, List<string?> reasons)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == instrumentName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == LanesDiagnostics.RejectionReasonAttribute)
                {
                    lock (reasons)
                    {
                        reasons.Add(tag.Value as string);
                    }
                }
            }
        });
        listener.Start();
        return listener;
    }
}
