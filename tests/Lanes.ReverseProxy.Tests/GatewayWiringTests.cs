using System.Collections.Concurrent;
using System.Diagnostics;
using Lanes.Routing;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests;

/// <summary>
/// How the gateway composes with the rest of an application: its options through the options pattern, a service
/// middleware also in the pipeline, and routing decisions on the server span.
/// </summary>
public sealed class GatewayWiringTests
{
    [Fact]
    public async Task ConfigureLaneGatewayOptions_IsHonoured_LikeTheLanesSection()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig().Lanes("Preset", "mspider").Route("pp", "pp").Destination("pp", "g", green, "green");
        await using var gateway = await Gateway.StartAsync(config, static b => b.Services.Configure<LaneGatewayOptions>(static o => o.DebugHeaders = true));

        var (response, _) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));

        Assert.Equal("green", response.Headers.GetValues("x-lane-served").Single());
        Assert.Equal("lane-undeclared", response.Headers.GetValues("x-lane-fallback").Single());
    }

    [Fact]
    public async Task ServiceMiddlewareOnAGateway_PassesResolvedRequestsThrough_CountedOnce()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig().Lanes("Preset", "mspider").Route("pp", "pp")
            .Destination("pp", "g", green, "green").Destination("pp", "y", yellow, "yellow");
        await using var gateway = await Gateway.StartAsync(config, configureApp: static app => app.UseLanes());
        using var recorder = new MeasurementRecorder(gateway.App.Services.GetRequiredService<Lanes.Diagnostics.LanesMetrics>().Meter);

        var (_, echo) = await gateway.SendAsync("/x", ("x-mspider-laneid", "yellow"));

        Assert.Equal("yellow", echo!.Instance);
        var inbound = Assert.Single(recorder.Of(LanesDiagnostics.InboundInstrument));
        Assert.Equal("alias", inbound.Tag("lane.source"));
    }

    [Fact]
    public async Task RoutingDecision_IsAnEventOnTheGatewaysServerSpan()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static s => s.Name == "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var green = await Upstream.StartAsync("green");
        await using var gateway = await Gateway.StartAsync(new GatewayConfig().Lanes("Preset", "mspider").Route("pp", "pp").Destination("pp", "g", green, "green"));

        var lane = "probe-" + Guid.NewGuid().ToString("N");
        await gateway.SendAsync("/x", ("x-mspider-lane", lane));

        // The listener is process-wide: this request's server span is the one tagged with its unique lane.
        var server = Assert.Single(stopped, a => a.Kind == ActivityKind.Server && Equals(a.GetTagItem("lane"), lane) && a.Events.Any());
        var routed = Assert.Single(server.Events, static e => e.Name == LaneTelemetry.RoutedEventName);
        var tags = routed.Tags.ToDictionary(static t => t.Key, static t => t.Value?.ToString());
        Assert.Equal("pp", tags["lane.routing.service"]);
        Assert.Equal("fallback", tags["lane.routing.outcome"]);
        Assert.Equal("lane-undeclared", tags["lane.routing.reason"]);
        Assert.Equal("green", tags["lane.routing.served"]);
    }
}
