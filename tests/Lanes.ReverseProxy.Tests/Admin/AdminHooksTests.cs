using System.Diagnostics.Metrics;
using System.Net;
using Lanes.Routing;
using Lanes.ReverseProxy.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>
/// The admin page is a tenant, not a branch on the request path (issue 41): colouring-rule hits and routing decisions go
/// to the <c>Lanes</c> meter whether or not the page is mapped, and the page counts them from there; what a meter cannot
/// carry (lanes by name, the destination that failed) reaches it as a subscriber of the gateway's events, which have no
/// subscriber and cost one read when the page is not mapped.
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
        var coloured = 0L;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, services.GetRequiredService<LaneTelemetry>().Meter) && instrument.Name == LanesDiagnostics.ColouredInstrument)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref coloured, value));
        listener.Start();

        // One request the rule colours yellow, served; then yellow's instance is gone and the next one fails there (and
        // failover sends it on to green, the baseline of this Permissive cluster).
        var (served, echo) = await gateway.SendAsync("/orders", ("x-ops", "1"));
        await yellow.DisposeAsync();
        var (failed, fellBack) = await gateway.SendAsync("/orders", ("x-ops", "1"));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal("green", fellBack!.Instance);
        Assert.Equal(2, Interlocked.Read(ref coloured));                  // the meter counts either way
        var events = services.GetRequiredService<LaneGatewayEvents>();
        Assert.Equal(mapped, events.HasObservers);
        if (!mapped)
        {
            return;
        }

        var page = LaneAdminSources.For(services);                        // the page's own state, made when it was mapped
        Assert.Equal(1, page.Observed.Snapshot().Count(static l => l.Lane == "yellow"));
        Assert.Equal(2, page.Traffic.RuleHits(0, "yellow"));
        // Three decisions, as lanes.routed counts them: one per request and the re-pick after the failed attempt.
        Assert.Equal(3, page.Traffic.Totals("pp").Sum(static c => c.Count));
        Assert.True(services.GetRequiredService<IProxyStateLookup>().TryGetCluster("pp", out var cluster));
        Assert.Equal(1, page.Failures.Recent(cluster.Destinations["y"]));
    }
}
