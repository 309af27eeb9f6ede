using System.Diagnostics;

namespace Lanes.Tests.Resolution;

/// <summary>DESIGN 3 steps 3 (baggage) and 4 (trace cache), between the headers and the default.</summary>
public class BaggageAndTraceCacheResolutionTests
{
    private const string TraceA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private const string TraceB = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private static LaneOptions MSpider() => new LaneOptions().UsePreset("mspider");

    private static LaneResolution Resolve(LanePropagator propagator, params (string Key, string Value)[] headers)
    {
        var carrier = headers.ToDictionary(static h => h.Key, static h => h.Value);
        return propagator.Extract(carrier, Getters.Dictionary);
    }

    [Fact]
    public void Extract_LaneOnlyInBaggage_ResolvesFromBaggage()
    {
        var result = Resolve(LanePropagator.Create(MSpider()), ("baggage", "userId=alice, x-mspider-lane = yellow;p=1"));

        Assert.Equal("yellow", result.Lane);
        Assert.Equal(LaneSource.Baggage, result.Source);
    }

    [Fact]
    public void Extract_HeaderAndAlias_WinOverBaggage()
    {
        var propagator = LanePropagator.Create(MSpider());

        Assert.Equal("blue", Resolve(propagator, ("x-mspider-lane", "blue"), ("baggage", "x-mspider-lane=yellow")).Lane);
        Assert.Equal("red", Resolve(propagator, ("x-mspider-laneid", "red"), ("baggage", "x-mspider-lane=yellow")).Lane);
    }

    [Fact]
    public void Extract_InvalidHeader_FallsThroughToBaggage()
    {
        var result = Resolve(LanePropagator.Create(MSpider()), ("x-mspider-lane", "bad lane!"), ("baggage", "x-mspider-lane=yellow"));

        Assert.Equal("yellow", result.Lane);
        Assert.Equal(LaneSource.Baggage, result.Source);
    }

    [Theory]
    [InlineData("x-mspider-lane=yellow,x-mspider-lane=green")]
    [InlineData("x-mspider-lane=bad%20lane")]
    [InlineData("x-mspider-lane=")]
    [InlineData("x-mspider-lane=%0D%0Ainjected")]
    public void Extract_InvalidBaggageLane_IsTreatedAsAbsent(string baggage)
    {
        var result = Resolve(LanePropagator.Create(MSpider()), ("baggage", baggage));

        Assert.Equal("green", result.Lane);
        Assert.Equal(LaneSource.Default, result.Source);
    }

    [Fact]
    public void Extract_InvalidBaggageLane_WithRejectPolicy_IsRejected()
    {
        var options = MSpider();
        options.InvalidLanePolicy = InvalidLanePolicy.Reject;

        var result = Resolve(LanePropagator.Create(options), ("baggage", "x-mspider-lane=a,x-mspider-lane=b"));

        Assert.True(result.IsRejected);
        Assert.Equal(LaneRejection.InvalidValue, result.Rejection);
    }

    [Fact]
    public void Extract_UnknownBaggageLane_FollowsTheUnknownLanePolicy()
    {
        var options = MSpider();
        options.KnownLanes.Add("green");
        options.UnknownLanePolicy = UnknownLanePolicy.Reject;

        var result = Resolve(LanePropagator.Create(options), ("baggage", "x-mspider-lane=yellow"));

        Assert.Equal(LaneRejection.UnknownLane, result.Rejection);
    }

    [Fact]
    public void Extract_BaggageDisabled_IgnoresBaggage()
    {
        var options = MSpider();
        options.EnableBaggage = false;

        var result = Resolve(LanePropagator.Create(options), ("baggage", "x-mspider-lane=yellow"));

        Assert.Equal(LaneSource.Default, result.Source);
    }

    [Fact]
    public void Extract_CustomBaggageKey_ReadsThatKey()
    {
        var options = MSpider();
        options.BaggageKey = "lane";

        var propagator = LanePropagator.Create(options);

        Assert.Equal("yellow", Resolve(propagator, ("baggage", "lane=yellow")).Lane);
        Assert.Equal(LaneSource.Default, Resolve(propagator, ("baggage", "x-mspider-lane=yellow")).Source);
    }

    [Fact]
    public void Extract_KnownTraceId_NoLane_RestoresFromTheTraceCache()
    {
        var propagator = LanePropagator.Create(MSpider());
        Resolve(propagator, ("x-mspider-lane", "yellow"), ("traceparent", TraceA));

        var sameTrace = Resolve(propagator, ("traceparent", TraceA.Replace("b7ad6b7169203331", "1111111111111111", StringComparison.Ordinal)));
        var otherTrace = Resolve(propagator, ("traceparent", TraceB));

        Assert.Equal("yellow", sameTrace.Lane);
        Assert.Equal(LaneSource.TraceCache, sameTrace.Source);
        Assert.Equal("green", otherTrace.Lane);
        Assert.Equal(LaneSource.Default, otherTrace.Source);
    }

    [Fact]
    public void Extract_BaggageLane_FillsTheTraceCache_AndBaggageWinsOverIt()
    {
        var propagator = LanePropagator.Create(MSpider());
        Resolve(propagator, ("baggage", "x-mspider-lane=yellow"), ("traceparent", TraceA));

        Assert.Equal(LaneSource.TraceCache, Resolve(propagator, ("traceparent", TraceA)).Source);
        Assert.Equal("blue", Resolve(propagator, ("baggage", "x-mspider-lane=blue"), ("traceparent", TraceA)).Lane);
    }

    [Fact]
    public void Extract_DefaultLane_IsNotCached()
    {
        var propagator = LanePropagator.Create(MSpider());

        Resolve(propagator, ("traceparent", TraceA));

        Assert.Equal(0, propagator.Resolver.TraceCache.Count);
    }

    [Fact]
    public void Extract_TraceCacheSizeZero_TurnsTheCacheOff()
    {
        var options = MSpider();
        options.TraceCacheSize = 0;
        var propagator = LanePropagator.Create(options);
        Resolve(propagator, ("x-mspider-lane", "yellow"), ("traceparent", TraceA));

        var result = Resolve(propagator, ("traceparent", TraceA));

        Assert.Equal(LaneSource.Default, result.Source);
    }

    [Fact]
    public void Extract_NoTraceparent_UsesTheCurrentActivitysTraceId()
    {
        var propagator = LanePropagator.Create(MSpider());
        using var activity = new Activity("inbound").SetIdFormat(ActivityIdFormat.W3C).Start();
        Resolve(propagator, ("x-mspider-lane", "yellow"));
        activity.Stop();

        var result = Resolve(propagator, ("traceparent", $"00-{activity.TraceId.ToHexString()}-b7ad6b7169203331-01"));

        Assert.Equal("yellow", result.Lane);
        Assert.Equal(LaneSource.TraceCache, result.Source);
    }

    [Fact]
    public void Extract_MalformedTraceparent_IsIgnored()
    {
        var propagator = LanePropagator.Create(MSpider());
        Resolve(propagator, ("x-mspider-lane", "yellow"), ("traceparent", "00-garbage"));

        Assert.Equal(0, propagator.Resolver.TraceCache.Count);
    }
}
