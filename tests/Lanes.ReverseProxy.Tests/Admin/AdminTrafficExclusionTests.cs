using System.Net.Http.Json;
using Lanes.Diagnostics;
using Lanes.ReverseProxy.Admin;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>The admin page's own requests (its report refresh, the tracer) are not lane traffic: not counted inbound, not observed, no rule hits.</summary>
public sealed class AdminTrafficExclusionTests
{
    [Fact]
    public async Task AdminRequests_AreNotCountedAsLaneTraffic_ProxiedRequestsAre()
    {
        // Arrange: a colouring rule that matches every request carrying x-ops.
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Header", "x-ops").Lanes("Colouring:0:Match", "Present");
        await using var gateway = await Gateway.StartAsync(config, configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        using var inbound = new MeasurementRecorder(gateway.App.Services.GetRequiredService<LanesMetrics>().Meter);
        using var client = gateway.CreateClient();

        // Act: the page refreshes five times (with the header the rule matches), then one proxied request.
        for (var i = 0; i < 5; i++)
        {
            using var refresh = new HttpRequestMessage(HttpMethod.Get, "/lanes");
            refresh.Headers.Add("x-ops", "1");
            (await client.SendAsync(refresh)).EnsureSuccessStatusCode();
        }

        var (_, echo) = await gateway.SendAsync("/orders", ("x-ops", "1"));
        var report = await client.GetFromJsonAsync<AdminReport>("/lanes");

        // Assert
        Assert.Equal("yellow", echo!.Instance);
        Assert.Single(inbound.Of(LanesDiagnostics.InboundInstrument));
        Assert.Equal(1, Assert.Single(report!.Entry.Rules).Hits);
        Assert.Equal(1, Assert.Single(report.Lanes, static l => l.Lane == "yellow").Observed);
        Assert.Equal(0, Assert.Single(report.Lanes, static l => l.Lane == "green").Observed);
    }
}
