namespace Lanes.Tests;

/// <summary>
/// The shadow marker (docs/behaviour.md, "Shadow lanes"): read from the header or the <c>baggage</c> member, kept in
/// <see cref="LaneContext.IsShadow"/>, written on every call made inside a shadow copy, and removed from a request
/// whose client sent it to a gateway.
/// </summary>
public sealed class ShadowMarkerTests
{
    private static readonly LanePropagator MSpider = LanePropagator.Create(new LaneOptions().UsePreset("mspider"));

    [Theory]
    [InlineData("x-lanes-shadow", "1", true)]
    [InlineData("x-lanes-shadow", "0", false)]
    [InlineData("x-lanes-shadow", "true", false)]
    [InlineData("baggage", "x-mspider-lane=yellow,lanes-shadow=1", true)]
    [InlineData("baggage", "lanes-shadow=2", false)]
    [InlineData("baggage", "x-lanes-shadow=1", false)]
    public void Extract_ReadsTheMarkerFromTheHeaderOrTheBaggageMember(string name, string value, bool shadow)
    {
        var headers = new Dictionary<string, string> { ["x-mspider-lane"] = "yellow", [name] = value };

        var resolution = MSpider.Extract(headers, Getters.Dictionary);

        Assert.Equal(("yellow", shadow), (resolution.Lane, resolution.IsShadow));
    }

    [Fact]
    public void AShadowResolution_IsCurrentInItsScope_AndNowhereElse()
    {
        var resolution = MSpider.Extract(new Dictionary<string, string> { ["x-mspider-lane"] = "yellow", ["x-lanes-shadow"] = "1" }, Getters.Dictionary);

        Assert.False(LaneContext.IsShadow);
        using (LaneContext.Begin(resolution))
        {
            Assert.True(LaneContext.IsShadow);
            Assert.Equal("yellow", LaneContext.Current);
            using (LaneContext.Begin("green"))
            {
                Assert.False(LaneContext.IsShadow);
            }
        }

        Assert.False(LaneContext.IsShadow);
        using (LaneContext.Begin("yellow"))
        {
            Assert.False(LaneContext.IsShadow);
        }
    }

    [Fact]
    public void CallsInAShadowScope_CarryTheMarkerInTheHeaderAndTheBaggage_CallsOutsideDoNot()
    {
        var shadow = new Dictionary<string, string>();
        var plain = new Dictionary<string, string>();
        var withBaggage = new Dictionary<string, string> { ["baggage"] = "tenant=acme" };

        using (LaneContext.BeginShadow("yellow"))
        {
            MSpider.InjectCall(shadow, Getters.Dictionary, Getters.DictionarySetter, Getters.DictionaryRemover, default);
            MSpider.InjectCall(withBaggage, Getters.Dictionary, Getters.DictionarySetter, Getters.DictionaryRemover, default);
        }

        using (LaneContext.Begin("yellow"))
        {
            MSpider.InjectCall(plain, Getters.Dictionary, Getters.DictionarySetter, Getters.DictionaryRemover, default);
        }

        Assert.Equal(("yellow", "1", "x-mspider-lane=yellow,lanes-shadow=1"), (shadow["x-mspider-lane"], shadow["x-lanes-shadow"], shadow["baggage"]));
        Assert.Equal("x-mspider-lane=yellow,tenant=acme,lanes-shadow=1", withBaggage["baggage"]);
        Assert.False(plain.ContainsKey("x-lanes-shadow"));
        Assert.Equal("x-mspider-lane=yellow", plain["baggage"]);
    }

    [Fact]
    public void AClientsMarker_IsRemovedFromACallWithUntrustedBaggage_OutsideAShadowScope()
    {
        var call = new Dictionary<string, string> { ["x-lanes-shadow"] = "1", ["baggage"] = "lanes-shadow=1,tenant=acme" };
        var only = new Dictionary<string, string> { ["baggage"] = "lanes-shadow=1" };

        using (LaneContext.Begin("green"))
        {
            MSpider.InjectCall(call, Getters.Dictionary, Getters.DictionarySetter, Getters.DictionaryRemover, new LaneCallOptions { UntrustedBaggage = true });
            MSpider.InjectCall(only, Getters.Dictionary, Getters.DictionarySetter, Getters.DictionaryRemover, new LaneCallOptions { UntrustedBaggage = true });
        }

        Assert.False(call.ContainsKey("x-lanes-shadow"));
        Assert.Equal("x-mspider-lane=green,tenant=acme", call["baggage"]);
        Assert.Equal("x-mspider-lane=green", only["baggage"]);
    }

    [Fact]
    public async Task RunAsync_WithAShadowResolution_IsShadowInsideOnly()
    {
        var resolution = MSpider.Extract(new Dictionary<string, string> { ["x-lanes-shadow"] = "1" }, Getters.Dictionary);
        var inside = false;

        await LaneContext.RunAsync(resolution, default, logger: null, _ =>
        {
            inside = LaneContext.IsShadow && LaneContext.Current == "green";
            return Task.CompletedTask;
        }, 0);

        Assert.True(inside);
        Assert.False(LaneContext.IsShadow);
    }

    [Fact]
    public void BeginShadow_RefusesAnInvalidLane()
        => Assert.Throws<ArgumentException>(() => LaneContext.BeginShadow("not a lane"));
}
