using System.Net;
using System.Net.Http.Json;

namespace Lanes.ReverseProxy.Tests;

/// <summary>The gateway entry (DESIGN 7, steps 1 to 4): colouring rules and trust, through real YARP.</summary>
public sealed class EntryTests
{
    [Fact]
    public async Task Colouring_CookieRule_AssignsTheLaneToRequestsWithoutOne()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Cookie", "beta").Lanes("Colouring:0:Value", "1");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, tester) = await gateway.SendAsync("/x", ("Cookie", "session=abc; beta=1"));
        var (_, other) = await gateway.SendAsync("/x", ("Cookie", "beta=0"));
        var (_, none) = await gateway.SendAsync("/x");

        Assert.Equal("yellow", tester!.Instance);
        Assert.Equal("yellow", tester.Header("x-mspider-lane"));
        Assert.Equal("green", other!.Instance);
        Assert.Equal("green", none!.Instance);
    }

    [Fact]
    public async Task Colouring_ClientLanePresent_RuleIsSkippedUnlessOverride()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var plain = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:PathPrefix", "/beta");
        var overriding = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:PathPrefix", "/beta").Lanes("Colouring:0:Override", "true");
        await using var plainGateway = await Gateway.StartAsync(plain);
        await using var overridingGateway = await Gateway.StartAsync(overriding);

        var (_, kept) = await plainGateway.SendAsync("/beta/page", ("x-mspider-laneid", "green"));
        var (_, coloured) = await plainGateway.SendAsync("/BETA/page");
        var (_, outside) = await plainGateway.SendAsync("/betamax");
        var (_, overridden) = await overridingGateway.SendAsync("/beta/page", ("x-mspider-laneid", "green"));

        Assert.Equal("green", kept!.Instance);
        Assert.Equal("yellow", coloured!.Instance);
        Assert.Equal("green", outside!.Instance); // a path prefix matches on segment boundaries
        Assert.Equal("yellow", overridden!.Instance);
        Assert.Equal("yellow", overridden.Header("x-mspider-lane"));
    }

    [Fact]
    public async Task Colouring_HeaderRegexAndMethod_AllConditionsMustHold()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow)
            .Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Header", "x-tenant").Lanes("Colouring:0:Match", "Regex")
            .Lanes("Colouring:0:Value", "qa-[0-9]+").Lanes("Colouring:0:Method", "get");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, match) = await gateway.SendAsync("/x", ("x-tenant", "qa-42"));
        var (_, partial) = await gateway.SendAsync("/x", ("x-tenant", "qa-42x")); // anchored: the whole value must match
        using var client = gateway.CreateClient();
        using var post = new HttpRequestMessage(HttpMethod.Post, "/x") { Content = new StringContent("{}") };
        post.Headers.Add("x-tenant", "qa-42");
        var posted = await (await client.SendAsync(post)).Content.ReadFromJsonAsync<Echo>(Gateway.JsonOptions);

        Assert.Equal("yellow", match!.Instance);
        Assert.Equal("green", partial!.Instance);
        Assert.Equal("green", posted!.Instance);
    }

    [Fact]
    public async Task Colouring_TenPercentStickyByUserId_LandsAboutTenPercentAndTheSameUserAlwaysInTheSameLane()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow)
            .Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Percentage", "10").Lanes("Colouring:0:StickyKey", "header:x-user-id");
        await using var gateway = await Gateway.StartAsync(config);

        var first = new Dictionary<string, string>();
        for (var user = 0; user < 1000; user++)
        {
            var (_, echo) = await gateway.SendAsync("/x", ("x-user-id", $"user-{user}"));
            first[$"user-{user}"] = echo!.Instance;
        }

        var inLane = first.Values.Count(static lane => lane == "yellow");
        Assert.InRange(inLane, 70, 130);
        for (var user = 0; user < 1000; user += 7)
        {
            var (_, again) = await gateway.SendAsync("/x", ("x-user-id", $"user-{user}"));
            Assert.Equal(first[$"user-{user}"], again!.Instance);
        }

        // Without the sticky key the rule does not apply at all.
        var (_, anonymous) = await gateway.SendAsync("/x");
        Assert.Equal("green", anonymous!.Instance);
    }

    [Fact]
    public async Task TrustIgnore_StripsTheClientsLaneHeaderAliasAndBaggageMember()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var config = SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("Trust", "Ignore").Lanes("Aliases:0", "x-nsf-mark-id");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, echo) = await gateway.SendAsync(
            "/svc1", ("x-nsf-mark", "dev1"), ("x-nsf-mark-id", "dev1"), ("baggage", "x-nsf-mark=dev1,userId=alice"));

        Assert.Equal("pod2", echo!.Instance);
        Assert.Null(echo.Header("x-nsf-mark"));
        Assert.Null(echo.Header("x-nsf-mark-id"));
        Assert.Equal("userId=alice", echo.Header("baggage"));
    }

    [Fact]
    public async Task TrustIgnore_ColouringStillAssignsLanes()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var config = SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("Trust", "Ignore")
            .Lanes("Colouring:0:Lane", "dev1").Lanes("Colouring:0:Query", "env").Lanes("Colouring:0:Value", "dev1");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, coloured) = await gateway.SendAsync("/svc1?env=dev1", ("x-nsf-mark", "dev2"));

        Assert.Equal("pod1", coloured!.Instance);
        Assert.Equal("dev1", coloured.Header("x-nsf-mark"));
    }

    [Fact]
    public async Task TrustAcceptDeclared_DropsAnUndeclaredLaneAndKeepsADeclaredOne()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var config = SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("Trust", "AcceptDeclared");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, undeclared) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev3"), ("baggage", "x-nsf-mark=dev3"));
        var (_, declared) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        var (unavailable, _) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev2"));

        Assert.Equal("pod2", undeclared!.Instance);
        Assert.Null(undeclared.Header("x-nsf-mark"));
        Assert.Null(undeclared.Header("baggage"));
        Assert.Equal("pod1", declared!.Instance);
        Assert.Equal("dev1", declared.Header("x-nsf-mark"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode); // dev2 is declared: kept, and Declared says 503
    }

    [Fact]
    public async Task InvalidClientLane_IsTreatedAsAbsentAndNeverForwarded()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(GatewayConfig.Mspider(green, yellow));

        var (response, echo) = await gateway.SendAsync("/x", ("x-mspider-laneid", "yellow/../../etc"), ("baggage", "x-mspider-lane=a%20b"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", echo!.Instance);
        Assert.Equal("green", echo.Header("x-mspider-lane"));
        Assert.Equal("x-mspider-lane=green", echo.Header("baggage"));
        Assert.Null(echo.Header("x-mspider-laneid"));
    }
}
