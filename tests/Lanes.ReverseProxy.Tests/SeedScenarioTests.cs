using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests;

/// <summary>The seeds' cases through real YARP on loopback with real upstreams: which instance answered, and what it received.</summary>
public sealed class SeedScenarioTests
{
    [Theory]
    [InlineData("green", "green")]
    [InlineData("yellow", "yellow")]
    public async Task Mspider_AliasHeader_RoutesToThatSubsetAndUpstreamSeesTheCanonicalHeader(string sent, string expected)
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow);
        await using var gateway = await Gateway.StartAsync(config);

        var (response, echo) = await gateway.SendAsync("/productpage", ("x-mspider-laneid", sent));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, echo!.Instance);
        Assert.Equal(expected, echo.Header("x-mspider-lane"));
        Assert.Null(echo.Header("x-mspider-laneid"));
        Assert.Equal($"x-mspider-lane={expected}", echo.Header("baggage"));
    }

    [Fact]
    public async Task Mspider_NoHeader_GoesToTheDefaultLaneGreen()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow);
        await using var gateway = await Gateway.StartAsync(config);

        for (var i = 0; i < 10; i++)
        {
            var (_, echo) = await gateway.SendAsync("/productpage");

            Assert.Equal("green", echo!.Instance);
            Assert.Equal("green", echo.Header("x-mspider-lane"));
        }
    }

    [Fact]
    public async Task Mspider_ClientCanonicalHeaderAndBaggage_ProxiedRequestCarriesOneLaneMemberAndTheClientsOtherMembers()
    {
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var green = await Upstream.StartAsync("green");
        var config = GatewayConfig.Mspider(green, yellow);
        await using var gateway = await Gateway.StartAsync(config);

        var (_, echo) = await gateway.SendAsync(
            "/productpage",
            ("x-mspider-laneid", "yellow"),
            ("baggage", "userId=alice, x-mspider-lane=yellow"),
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));

        Assert.Equal("yellow", echo!.Instance);
        var members = echo.Header("baggage")!.Split(',', StringSplitOptions.TrimEntries);
        Assert.Equal("x-mspider-lane=yellow", members[0]);
        Assert.Single(members, static m => m.StartsWith("x-mspider-lane=", StringComparison.Ordinal));
        Assert.Contains("userId=alice", members);
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", echo.Header("traceparent"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("buid", "wicph", "wicph")]
    [InlineData("buid", "wtchk", "wtchk")]
    [InlineData("bu", "wicph", "wicph")]
    public async Task BuSeed_AliasOrCanonical_RoutesToTheLane(string header, string sent, string expected)
    {
        await using var wtchk = await Upstream.StartAsync("wtchk");
        await using var wicph = await Upstream.StartAsync("wicph");
        var config = BuConfig(wtchk, wicph);
        await using var gateway = await Gateway.StartAsync(config);

        var (_, echo) = await gateway.SendAsync("/api/portal", (header, sent));

        Assert.Equal(expected, echo!.Instance);
        Assert.Equal(expected, echo.Header("bu"));
        Assert.Null(echo.Header("buid"));
    }

    [Fact]
    public async Task BuSeed_NoHeader_GoesToTheDefaultLaneWtchk()
    {
        await using var wtchk = await Upstream.StartAsync("wtchk");
        await using var wicph = await Upstream.StartAsync("wicph");
        await using var gateway = await Gateway.StartAsync(BuConfig(wtchk, wicph));

        var (_, echo) = await gateway.SendAsync("/api/portal");

        Assert.Equal("wtchk", echo!.Instance);
        Assert.Equal("wtchk", echo.Header("bu"));
    }

    [Fact]
    public async Task BuSeed_RouteMatchingOnTheCanonicalHeader_AlsoMatchesAliasSenders()
    {
        // The seed's second VirtualService matches routes on the header itself. YARP matches routes before its
        // transforms run, so the alias must already be normalised when routing happens.
        await using var wtchk = await Upstream.StartAsync("wtchk");
        await using var wicph = await Upstream.StartAsync("wicph");
        var config = new GatewayConfig()
            .Lanes("Header", "bu").Lanes("Aliases:0", "buid").Lanes("DefaultLane", "wtchk")
            .Route("ph", "portal-ph").Set("ReverseProxy:Routes:ph:Match:Headers:0:Name", "bu").Set("ReverseProxy:Routes:ph:Match:Headers:0:Values:0", "wicph")
            .Route("hk", "portal-hk")
            .Destination("portal-ph", "ph", wicph)
            .Destination("portal-hk", "hk", wtchk);
        await using var gateway = await Gateway.StartAsync(config);

        var (_, alias) = await gateway.SendAsync("/api/portal", ("buid", "wicph"));
        var (_, none) = await gateway.SendAsync("/api/portal");

        Assert.Equal("wicph", alias!.Instance);
        Assert.Equal("wtchk", none!.Instance);
    }

    [Theory]
    [InlineData(null, "pod2")]
    [InlineData("dev1", "pod1")]
    [InlineData("dev3", "pod2")]
    public async Task Hango_DeclaredPolicy_ServesTheSeedsCases(string? mark, string expected)
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(HangoConfig(pod1, pod2));

        var (response, echo) = mark is null
            ? await gateway.SendAsync("/svc1")
            : await gateway.SendAsync("/svc1", ("x-nsf-mark", mark));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, echo!.Instance);

        // Hango: dev3 "degrades to a request without the mark"; the mark still flows (DESIGN 2: unknown lanes are kept).
        Assert.Equal(mark, echo.Header("x-nsf-mark"));
    }

    [Fact]
    public async Task Hango_DeclaredLaneWithoutInstances_Is503NoHealthyUpstreamNamingLaneAndCluster()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(HangoConfig(pod1, pod2));

        var (response, _) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev2"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Equal("no healthy upstream", problem.GetProperty("title").GetString());
        Assert.Equal("dev2", problem.GetProperty("lane").GetString());
        Assert.Equal("svc1", problem.GetProperty("cluster").GetString());
        Assert.Equal("No healthy instance of 'svc1' can serve lane 'dev2' (policy Declared).", problem.GetProperty("detail").GetString());
        Assert.Empty(pod1.Paths);
        Assert.Empty(pod2.Paths);
    }

    [Theory]
    [InlineData("dev1", "dev1", null)]
    [InlineData("dev2", null, "lane-unavailable")]
    [InlineData("dev3", "(unlabelled)", "lane-undeclared")]
    [InlineData(null, "(unlabelled)", "no-lane")]
    public async Task Hango_DebugHeadersOn_NameTheServedSubsetAndTheFallbackReason(string? mark, string? served, string? fallback)
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(HangoConfig(pod1, pod2).Lanes("DebugHeaders", "true"));

        var (response, _) = mark is null ? await gateway.SendAsync("/svc1") : await gateway.SendAsync("/svc1", ("x-nsf-mark", mark));

        Assert.Equal(served, response.Headers.TryGetValues("x-lane-served", out var s) ? s.Single() : null);
        Assert.Equal(fallback, response.Headers.TryGetValues("x-lane-fallback", out var f) ? f.Single() : null);
    }

    [Fact]
    public async Task Hango_DebugHeadersOff_ResponsesCarryNoLaneHeaders()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(HangoConfig(pod1, pod2));

        var (ok, _) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev3"));
        var (unavailable, _) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev2"));

        foreach (var response in new[] { ok, unavailable })
        {
            Assert.False(response.Headers.Contains("x-lane-served"));
            Assert.False(response.Headers.Contains("x-lane-fallback"));
            Assert.False(response.Headers.Contains("x-nsf-mark"));
        }
    }

    [Fact]
    public async Task Hango_RoutingMetrics_CountOutcomesByClusterLaneAndReason()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(HangoConfig(pod1, pod2));
        using var recorder = new MeasurementRecorder(gateway.App.Services.GetRequiredService<Lanes.Diagnostics.LanesMetrics>().Meter);

        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev2"));
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev-" + Guid.NewGuid().ToString("N")));

        var routed = recorder.Of(LanesDiagnostics.RoutedInstrument).ToList();
        Assert.Contains(routed, static m => m.Tag("lane.routing.service") == "svc1" && m.Tag("lane.name") == "dev1" && m.Tag("lane.routing.outcome") == "matched");
        Assert.Contains(routed, static m => m.Tag("lane.name") == "dev2" && m.Tag("lane.routing.outcome") == "no-upstream" && m.Tag("lane.routing.reason") == "lane-unavailable");
        Assert.Contains(routed, static m => m.Tag("lane.name") == "other" && m.Tag("lane.routing.outcome") == "fallback" && m.Tag("lane.routing.reason") == "lane-undeclared");
    }

    internal static GatewayConfig HangoConfig(Upstream pod1, Upstream pod2) => new GatewayConfig()
        .Lanes("Preset", "nsf")
        .Route("svc1", "svc1", "/svc1")
        .Cluster("svc1", ("lanes", "dev1,dev2"), ("lanePolicy", "Declared"))
        .Destination("svc1", "pod1", pod1, "dev1")
        .Destination("svc1", "pod2", pod2);

    private static GatewayConfig BuConfig(Upstream wtchk, Upstream wicph) => new GatewayConfig()
        .Lanes("Header", "bu").Lanes("Aliases:0", "buid").Lanes("DefaultLane", "wtchk")
        .Route("portal", "cars-api-portal")
        .Destination("cars-api-portal", "portal-wtchk", wtchk, "wtchk")
        .Destination("cars-api-portal", "portal-wicph", wicph, "wicph");
}
