using System.Net;

namespace Lanes.ReverseProxy.Tests;

/// <summary>The core lane policies at the gateway's entry: rejections answer 400 without touching an upstream or echoing the value.</summary>
public sealed class EntryPolicyTests
{
    private static async Task<(Upstream Green, Upstream Yellow, RunningServerHandle Gateway)> StartAsync(Action<GatewayConfig> configure)
    {
        var green = await Upstream.StartAsync("green");
        var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow);
        configure(config);
        return (green, yellow, new RunningServerHandle(await Gateway.StartAsync(config), green, yellow));
    }

    [Fact]
    public async Task InvalidLanePolicyReject_Answers400WithoutEchoAndWithoutForwarding()
    {
        var (green, yellow, handle) = await StartAsync(static c => c.Lanes("InvalidLanePolicy", "Reject"));
        await using var _ = handle;

        var (response, _) = await handle.Gateway.SendAsync("/x", ("x-mspider-laneid", "<script>yellow</script>"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Invalid lane", body, StringComparison.Ordinal);
        Assert.DoesNotContain("script", body, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(green.Paths);
        Assert.Empty(yellow.Paths);
    }

    [Fact]
    public async Task UnknownLanePolicyReject_Answers400ForALaneOutsideKnownLanes()
    {
        var (_, _, handle) = await StartAsync(static c => c.Lanes("KnownLanes:0", "green").Lanes("KnownLanes:1", "yellow").Lanes("UnknownLanePolicy", "Reject"));
        await using var _ = handle;

        var (unknown, _) = await handle.Gateway.SendAsync("/x", ("x-mspider-lane", "purple"));
        var (known, echo) = await handle.Gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
    }

    [Fact]
    public async Task UnknownLaneReplacedByDefault_ColouringStillGetsItsTurnBeforeTheDefault()
    {
        var (_, _, handle) = await StartAsync(static c => c
            .Lanes("KnownLanes:0", "green").Lanes("KnownLanes:1", "yellow").Lanes("UnknownLanePolicy", "UseDefault")
            .Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Header", "x-beta").Lanes("Colouring:0:Match", "Present"));
        await using var _ = handle;

        var (_, coloured) = await handle.Gateway.SendAsync("/x", ("x-mspider-lane", "purple"), ("x-beta", "1"));
        var (_, defaulted) = await handle.Gateway.SendAsync("/x", ("x-mspider-lane", "purple"));

        Assert.Equal("yellow", coloured!.Instance);
        Assert.Equal("green", defaulted!.Instance);
        Assert.Equal("green", defaulted.Header("x-mspider-lane"));
    }

    [Fact]
    public async Task RequireLane_NoLaneAndNoRule_Is400_ButAColouredRequestPasses()
    {
        var (_, _, handle) = await StartAsync(static c => c
            .Lanes("DefaultLane", string.Empty).Lanes("RequireLane", "true")
            .Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Query", "beta").Lanes("Colouring:0:Match", "Present"));
        await using var _ = handle;

        var (missing, _) = await handle.Gateway.SendAsync("/x");
        var (coloured, echo) = await handle.Gateway.SendAsync("/x?beta");

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("Lane required", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, coloured.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
    }

    [Fact]
    public async Task OversizedLaneHeaderAndBaggage_AreTreatedAsAbsent_NotA500()
    {
        var (_, _, handle) = await StartAsync(static _ => { });
        await using var _ = handle;

        var (response, echo) = await handle.Gateway.SendAsync(
            "/x", ("x-mspider-lane", new string('y', 8_000)), ("baggage", "x-mspider-lane=" + new string('y', 4_000)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", echo!.Instance);
        Assert.Equal("green", echo.Header("x-mspider-lane"));
        Assert.Equal("x-mspider-lane=green", echo.Header("baggage"));
    }

    /// <summary>Disposes the gateway and both upstreams together.</summary>
    private sealed class RunningServerHandle(Lanes.Testing.RunningServer gateway, Upstream green, Upstream yellow) : IAsyncDisposable
    {
        public Lanes.Testing.RunningServer Gateway { get; } = gateway;

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await green.DisposeAsync();
            await yellow.DisposeAsync();
        }
    }
}
