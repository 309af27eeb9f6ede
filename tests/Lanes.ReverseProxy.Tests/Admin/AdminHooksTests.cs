using System.Net;
using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>
/// What only the admin page shows (observed lanes, colouring-rule hits, per-cluster decision counts, recent destination
/// failures) is recorded on the request path only when <c>MapLanesAdmin</c> was called; the <c>Lanes</c> meter counts
/// either way.
/// </summary>
public sealed class AdminHooksTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AdminObservations_AreRecordedOnlyWhenTheAdminPageIsMapped(bool mapped)
    {
        await using var green = await Upstream.StartAsync("green");
        var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Header", "x-ops").Lanes("Colouring:0:Match", "Present");
        await using var gateway = await Gateway.StartAsync(config, configureApp: app =>
        {
            if (mapped)
            {
                app.MapLanesAdmin().AllowAnonymousOnLoopback();
            }
        });
        var services = gateway.App.Services;

        // One request the rule colours yellow, served; then yellow's instance is gone and the next one fails there (and
        // failover sends it on to green, the baseline of this Permissive cluster).
        var (served, echo) = await gateway.SendAsync("/orders", ("x-ops", "1"));
        await yellow.DisposeAsync();
        var (failed, fellBack) = await gateway.SendAsync("/orders", ("x-ops", "1"));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal("green", fellBack!.Instance);
        var expected = mapped ? 1 : 0;
        Assert.Equal(expected, services.GetRequiredService<LaneObservedLanes>().Snapshot().Count(static l => l.Lane == "yellow"));
        Assert.Equal(mapped ? 2 : 0, services.GetRequiredService<LaneGatewayConfigSource>().Current.Rules[0].Hits);
        Assert.Equal(mapped ? 2 : 0, services.GetRequiredService<LaneClusterRouting>().Counters("pp").Sum(static c => c.Value));
        Assert.True(services.GetRequiredService<IProxyStateLookup>().TryGetCluster("pp", out var cluster));
        Assert.Equal(expected, services.GetRequiredService<LaneDestinationFailures>().Recent(cluster.Destinations["y"]));
    }
}
