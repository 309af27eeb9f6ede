namespace Lanes.Tests.Resolution;

/// <summary>DESIGN 3 through the public propagator, which uses the same resolver as the middleware.</summary>
public class LaneResolutionTests
{
    private static LaneResolution Resolve(LaneOptions options, params (string Key, string Value)[] headers)
    {
        var carrier = new Dictionary<string, string>();
        foreach (var (key, value) in headers)
        {
            carrier[key] = value;
        }

        return LanePropagator.Create(options).Extract(carrier, Getters.Dictionary);
    }

    private static LaneOptions MSpider() => new LaneOptions().UsePreset("mspider");

    [Fact]
    public void Extract_CanonicalHeader_WinsOverAlias()
    {
        var result = Resolve(MSpider(), ("x-mspider-lane", "yellow"), ("x-mspider-laneid", "blue"));

        Assert.Equal("yellow", result.Lane);
        Assert.Equal(LaneSource.Header, result.Source);
    }

    [Fact]
    public void Extract_AliasOnly_ResolvesFromAlias()
    {
        var result = Resolve(MSpider(), ("X-MSpider-LaneId", "yellow"));

        Assert.Equal("yellow", result.Lane);
        Assert.Equal(LaneSource.Alias, result.Source);
    }

    [Fact]
    public void Extract_AliasesTriedInConfiguredOrder()
    {
        var options = new LaneOptions { Header = "bu" };
        options.Aliases.Add("buid");
        options.Aliases.Add("build");

        var result = Resolve(options, ("build", "wicph"), ("buid", "wtchk"));

        Assert.Equal("wtchk", result.Lane);
        Assert.Equal(LaneSource.Alias, result.Source);
    }

    [Fact]
    public void Extract_NothingSent_UsesPresetDefault()
    {
        var result = Resolve(MSpider());

        Assert.Equal("green", result.Lane);
        Assert.Equal(LaneSource.Default, result.Source);
    }

    [Fact]
    public void Extract_NsfPresetNothingSent_HasNoLane()
    {
        var result = Resolve(new LaneOptions { Preset = "nsf" });

        Assert.Null(result.Lane);
        Assert.Equal(LaneSource.None, result.Source);
        Assert.False(result.IsRejected);
    }

    [Fact]
    public void Extract_InvalidCanonical_FallsThroughToAlias()
    {
        var result = Resolve(MSpider(), ("x-mspider-lane", "bad value"), ("x-mspider-laneid", "yellow"));

        Assert.Equal("yellow", result.Lane);
        Assert.Equal(LaneSource.Alias, result.Source);
    }

    [Theory]
    [InlineData("bad value")]
    [InlineData("yellow\r\n")]
    [InlineData("yellow,green")]
    [InlineData("   ")]
    public void Extract_InvalidValueIgnorePolicy_FallsBackToDefault(string value)
    {
        var result = Resolve(MSpider(), ("x-mspider-lane", value));

        Assert.Equal("green", result.Lane);
        Assert.Equal(LaneSource.Default, result.Source);
    }

    [Fact]
    public void Extract_InvalidValueRejectPolicy_IsRejected()
    {
        var options = MSpider();
        options.InvalidLanePolicy = InvalidLanePolicy.Reject;

        var result = Resolve(options, ("x-mspider-lane", "bad value"));

        Assert.True(result.IsRejected);
        Assert.Equal(LaneRejection.InvalidValue, result.Rejection);
        Assert.Null(result.Lane);
    }

    [Fact]
    public void Extract_UnknownLaneKeepPolicy_KeepsIt()
    {
        var options = new LaneOptions { Preset = "nsf" };
        options.KnownLanes.Add("dev1");
        options.KnownLanes.Add("dev2");

        var result = Resolve(options, ("x-nsf-mark", "dev3"));

        Assert.Equal("dev3", result.Lane);
        Assert.Equal(LaneSource.Header, result.Source);
    }

    [Fact]
    public void Extract_UnknownLaneUseDefaultPolicy_ReplacesByDefault()
    {
        var options = MSpider();
        options.KnownLanes.Add("green");
        options.KnownLanes.Add("yellow");
        options.UnknownLanePolicy = UnknownLanePolicy.UseDefault;

        var result = Resolve(options, ("x-mspider-lane", "purple"));

        Assert.Equal("green", result.Lane);
        Assert.Equal(LaneSource.Default, result.Source);
    }

    [Fact]
    public void Extract_UnknownLaneRejectPolicy_IsRejected()
    {
        var options = MSpider();
        options.KnownLanes.Add("green");
        options.UnknownLanePolicy = UnknownLanePolicy.Reject;

        Assert.Equal(LaneRejection.UnknownLane, Resolve(options, ("x-mspider-lane", "purple")).Rejection);
        Assert.Equal("green", Resolve(options, ("x-mspider-lane", "green")).Lane);
    }

    [Fact]
    public void Extract_RequireLaneWithNothing_IsRejectedAsMissing()
    {
        var options = new LaneOptions { Preset = "nsf", RequireLane = true };

        Assert.Equal(LaneRejection.Missing, Resolve(options).Rejection);
        Assert.Equal("dev1", Resolve(options, ("x-nsf-mark", "dev1")).Lane);
    }

    [Fact]
    public void Extract_RequireLaneWithDefault_UsesDefault()
    {
        var options = MSpider();
        options.RequireLane = true;

        Assert.Equal("green", Resolve(options).Lane);
    }

    [Fact]
    public void Extract_EmptyDefaultLane_SwitchesPresetDefaultOff()
    {
        var options = MSpider();
        options.DefaultLane = "";

        Assert.Null(Resolve(options).Lane);
    }

    [Fact]
    public void Extract_NullCarrier_ResolvesAsNothingSent()
    {
        var result = LanePropagator.Create(MSpider()).Extract<Dictionary<string, string>?>(null, static (c, k) => throw new InvalidOperationException("getter must not be called"));

        Assert.Equal("green", result.Lane);
    }
}
