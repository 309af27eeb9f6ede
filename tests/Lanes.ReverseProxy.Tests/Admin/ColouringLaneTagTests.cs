using Lanes.Diagnostics;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>A lane only a colouring rule assigns (no cluster declares it) keeps its own metric tag after a flood of junk lanes.</summary>
public sealed class ColouringLaneTagTests
{
    [Fact]
    public async Task ColouringLane_AfterThousandJunkLanes_IsStillTaggedWithItsName()
    {
        // Arrange: "beta" is assigned by a colouring rule only; green and yellow are the cluster's lanes.
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "beta").Lanes("Colouring:0:Header", "x-beta").Lanes("Colouring:0:Match", "Present");
        await using var gateway = await Gateway.StartAsync(config);
        using var inbound = new MeasurementRecorder(gateway.App.Services.GetRequiredService<LanesMetrics>().Meter);
        for (var i = 0; i < 1_000; i++)
        {
            await gateway.SendAsync("/x", ("x-mspider-lane", "junk-" + i));
        }

        // Act
        var (response, _) = await gateway.SendAsync("/x", ("x-beta", "1"));

        // Assert
        response.EnsureSuccessStatusCode();
        var last = inbound.Of(LanesDiagnostics.InboundInstrument).ToList()[^1];
        Assert.Equal(("beta", "colouring"), (last.Tag("lane.name"), last.Tag("lane.source")));
    }
}
