using Lanes.Configuration;
using Lanes.ReverseProxy.Colouring;
using Lanes.ReverseProxy.Configuration;

namespace Lanes.ReverseProxy.Tests.Configuration;

public sealed class LaneGatewayConfigTests
{
    private static readonly LaneSettings Settings = LaneSettings.Create(new LaneOptions().UsePreset("mspider"));

    private static string Failure(LaneColouringRule rule)
    {
        var options = new LaneGatewayOptions();
        options.Colouring.Add(rule);
        return Assert.Throws<ArgumentException>(() => LaneGatewayConfig.Create(options, Settings)).Message;
    }

    [Theory]
    [InlineData(null, null, null, null, "Lanes:Colouring:0:Lane must be one lane")]
    [InlineData("a,b", null, null, null, "Lanes:Colouring:0:Lane must be one lane")]
    [InlineData("yellow", "x-a", "c", null, "set at most one of Header, Cookie and Query")]
    [InlineData("yellow", "x-a", null, null, "Lanes:Colouring:0:Value is required with Match Exact")]
    [InlineData("yellow", null, null, "v", "Match and Value need a Header, Cookie or Query")]
    public void Create_InvalidRule_NamesTheSettingAndTheFix(string? lane, string? header, string? cookie, string? value, string expected)
    {
        var message = Failure(new LaneColouringRule { Lane = lane, Header = header, Cookie = cookie, Value = value });

        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("(a)\\1")]
    [InlineData("(?=a)b")]
    [InlineData("[")]
    public void Create_RegexTheNonBacktrackingEngineRejects_IsRefused(string pattern)
    {
        var message = Failure(new LaneColouringRule { Lane = "yellow", Header = "x-a", Match = LaneMatch.Regex, Value = pattern });

        Assert.Contains("Lanes:Colouring:0:Value is not a regular expression", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_Regex_IsNonBacktracking_WithoutAWallClockTimeout()
    {
        var options = new LaneGatewayOptions();
        options.Colouring.Add(new LaneColouringRule { Lane = "yellow", Header = "x-a", Match = LaneMatch.Regex, Value = "(a+)+b" });

        var rule = LaneGatewayConfig.Create(options, Settings).Rules[0];

        Assert.True(rule.Regex!.Options.HasFlag(System.Text.RegularExpressions.RegexOptions.NonBacktracking));
        Assert.Equal(System.Text.RegularExpressions.Regex.InfiniteMatchTimeout, rule.Regex.MatchTimeout);   // load must not decide a lane
        Assert.DoesNotMatch(rule.Regex, new string('a', 5_000) + "!"); // the classic catastrophic input: never ends backtracking, linear here
    }

    [Theory]
    [InlineData(-1.0, null, "Percentage must be between 0 and 100")]
    [InlineData(101.0, null, "Percentage must be between 0 and 100")]
    [InlineData(10.0, "user", "StickyKey must be header:NAME")]
    [InlineData(10.0, "body:x", "StickyKey must be header:NAME")]
    [InlineData(null, "header:x-user-id", "StickyKey needs a Percentage")]
    public void Create_InvalidPercentageOrStickyKey_IsRefused(double? percentage, string? sticky, string expected)
    {
        var message = Failure(new LaneColouringRule { Lane = "yellow", Percentage = percentage, StickyKey = sticky });

        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_PathPrefixWithoutSlash_IsRefused()
        => Assert.Contains("PathPrefix must start with '/'", Failure(new LaneColouringRule { Lane = "yellow", PathPrefix = "beta" }), StringComparison.Ordinal);

    [Fact]
    public void Create_UnknownTrustValue_IsRefused()
    {
        var options = new LaneGatewayOptions { Trust = (LaneTrust)42 };

        Assert.Contains("Lanes:Trust must be", Assert.Throws<ArgumentException>(() => LaneGatewayConfig.Create(options, Settings)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StickyHash_IsStableAcrossProcessesAndSaltedByLane()
    {
        // Pinned values (computed independently from the algorithm: FNV-1a over "lane\nkey", MurmurHash3 finaliser,
        // mod 10,000): a user's bucket must never move between releases, processes or machines.
        Assert.Equal(9055, StickyHash.Bucket("yellow", "user-1"));
        Assert.Equal(3628, StickyHash.Bucket("yellow", "user-2"));
        Assert.Equal(200, StickyHash.Bucket("blue", "user-1"));
    }
}
