using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy.Tests;

/// <summary>
/// A gateway with no <c>Lanes</c> section (header <c>x-lane</c>, no default lane) in front of labelled destinations answers
/// requests without a lane with a 503 that says what is in force and which settings change it.
/// </summary>
public sealed class UnconfiguredGatewayTests
{
    [Fact]
    public async Task NoLanesSection_RequestWithoutLane_503DetailNamesHeaderDefaultBaselineAndTheSettings()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig()
            .Route("details", "details")
            .Destination("details", "g", green, "green")
            .Destination("details", "y", yellow, "yellow");
        using var logs = new InMemoryLoggerProvider();
        await using var gateway = await Gateway.StartAsync(config, configure: b => b.Logging.AddProvider(logs));

        var (response, _) = await gateway.SendAsync("/details/1", ("x-mspider-lane", "yellow"));
        var (laned, echo) = await gateway.SendAsync("/details/1", ("x-lane", "yellow"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var detail = (await response.ProblemAsync()).GetProperty("detail").GetString();
        Assert.Equal(
            "No healthy instance of 'details' can serve a request without a lane (policy Permissive). Requests without a lane go to the baseline "
            + "(unlabelled instances: laneBaseline is not set), which has no healthy instance. This service reads the lane from 'x-lane' and has no default lane: "
            + "set Lanes:Preset (mspider, nsf), Lanes:Header or Lanes:DefaultLane so requests carry a lane, or the service's laneBaseline to serve them from one lane's instances.",
            detail);
        Assert.Equal(HttpStatusCode.OK, laned.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
        Assert.Contains(logs.Records, static r => r.EventId.Id == 109
            && r.Message.StartsWith("Lane gateway: lane header 'x-lane' (aliases: none), default lane none, trust Accept, 0 colouring rule(s).", StringComparison.Ordinal));
        Assert.Contains(logs.Records, static r => r.EventId.Name == "ForeignPresetHeader" && r.Message.Contains("'x-mspider-lane'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PermissiveLaneFallingBackToAnEmptyBaseline_503DetailSaysTheBaselineWasEmptyToo()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("details", "details")
            .Cluster("details", ("laneBaseline", "blue"))
            .Destination("details", "g", green, "green");
        await using var gateway = await Gateway.StartAsync(config);

        var (response, _) = await gateway.SendAsync("/details/1", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(
            "No healthy instance of 'details' can serve lane 'yellow' (policy Permissive). It fell back to the baseline (instances of lane 'blue'), which has no healthy instance either.",
            (await response.ProblemAsync()).GetProperty("detail").GetString());
    }
}
