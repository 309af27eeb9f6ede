using Lanes.Configuration;
using Lanes.ReverseProxy.Colouring;
using Lanes.ReverseProxy.Configuration;
using Microsoft.AspNetCore.Http;

namespace Lanes.ReverseProxy.Tests.Colouring;

public sealed class ColouringRuleTests
{
    private static readonly LaneSettings Settings = LaneSettings.Create(new LaneOptions().UsePreset("mspider"));

    private static ColouringRule Compile(LaneColouringRule rule)
    {
        var options = new LaneGatewayOptions();
        options.Colouring.Add(rule);
        return LaneGatewayConfig.Create(options, Settings).Rules[0];
    }

    private static DefaultHttpContext Request(string path = "/", string? header = null, string? value = null, string? query = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        if (header is not null)
        {
            context.Request.Headers[header] = value;
        }

        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        return context;
    }

    [Theory]
    [InlineData("qa-1", true)]
    [InlineData("qa-", true)]
    [InlineData("QA-1", false)]
    [InlineData("xqa-1", false)]
    public void Matches_HeaderPrefix_IsOrdinal(string value, bool expected)
    {
        var rule = Compile(new LaneColouringRule { Lane = "yellow", Header = "x-tenant", Match = LaneMatch.Prefix, Value = "qa-" });

        Assert.Equal(expected, rule.Matches(Request(header: "x-tenant", value: value)));
    }

    [Fact]
    public void Matches_HeaderExact_IsCaseSensitive()
    {
        var rule = Compile(new LaneColouringRule { Lane = "yellow", Header = "x-tenant", Value = "qa" });

        Assert.True(rule.Matches(Request(header: "x-tenant", value: "qa")));
        Assert.False(rule.Matches(Request(header: "x-tenant", value: "QA")));
        Assert.False(rule.Matches(Request()));
    }

    [Fact]
    public void Matches_QueryPresent_NeedsOnlyTheParameter()
    {
        var rule = Compile(new LaneColouringRule { Lane = "yellow", Query = "canary", Match = LaneMatch.Present });

        Assert.True(rule.Matches(Request(query: "?canary")));
        Assert.True(rule.Matches(Request(query: "?canary=0")));
        Assert.False(rule.Matches(Request(query: "?other=1")));
    }

    [Fact]
    public void Matches_PercentageWithoutStickyKey_DrawsEachRequestAtRandom()
    {
        var rule = Compile(new LaneColouringRule { Lane = "yellow", Percentage = 50 });
        var context = Request();

        var hits = 0;
        for (var i = 0; i < 2000; i++)
        {
            hits += rule.Matches(context) ? 1 : 0;
        }

        // Binomial(2000, 0.5): the standard deviation is about 22, so 800 to 1200 is beyond 9 deviations.
        Assert.InRange(hits, 800, 1200);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(100.0, 2000)]
    public void Matches_PercentageZeroOrHundred_IsNeverOrAlways(double percentage, int expected)
    {
        var rule = Compile(new LaneColouringRule { Lane = "yellow", Percentage = percentage, StickyKey = "header:x-user-id" });

        var hits = 0;
        for (var i = 0; i < 2000; i++)
        {
            hits += rule.Matches(Request(header: "x-user-id", value: $"user-{i}")) ? 1 : 0;
        }

        Assert.Equal(expected, hits);
    }

    [Theory]
    [InlineData(10.0)]
    [InlineData(100.0)]
    public void Matches_StickyRuleWithoutItsKey_NeverMatches(double percentage)
    {
        var rule = Compile(new LaneColouringRule { Lane = "yellow", Percentage = percentage, StickyKey = "cookie:uid" });

        Assert.False(rule.Matches(Request()));
    }
}
