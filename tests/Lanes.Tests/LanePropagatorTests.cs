namespace Lanes.Tests;

public class LanePropagatorTests
{
    private static readonly LanePropagator MSpider = LanePropagator.Create(new LaneOptions().UsePreset("mspider"));

    [Fact]
    public void Fields_AreCanonicalHeaderThenAliasesThenBaggageAndTraceparent()
    {
        Assert.Equal(["x-mspider-lane", "x-mspider-laneid", "baggage", "traceparent"], MSpider.Fields);
        Assert.Equal(
            ["x-mspider-lane", "x-mspider-laneid", "traceparent"],
            LanePropagator.Create(new LaneOptions { EnableBaggage = false }.UsePreset("mspider")).Fields);
        Assert.Equal("x-mspider-lane", MSpider.HeaderName);
    }

    [Fact]
    public void Inject_CurrentLane_WritesCanonicalHeaderOnly()
    {
        var carrier = new Dictionary<string, string>();

        using (LaneContext.Begin("yellow"))
        {
            MSpider.Inject(carrier, Getters.DictionarySetter);
        }

        Assert.Equal(new Dictionary<string, string> { ["x-mspider-lane"] = "yellow" }, carrier);
    }

    [Fact]
    public void Inject_NoLane_WritesNothing()
    {
        var carrier = new Dictionary<string, string>();

        MSpider.Inject(carrier, Getters.DictionarySetter);

        Assert.Empty(carrier);
    }

    [Theory]
    [InlineData("bad value")]
    [InlineData("yellow\r\nx: 1")]
    [InlineData("")]
    public void Inject_InvalidExplicitLane_WritesNothingAndDoesNotThrow(string lane)
    {
        var carrier = new Dictionary<string, string>();

        MSpider.Inject(lane, carrier, Getters.DictionarySetter);

        Assert.Empty(carrier);
    }

    [Fact]
    public void Inject_CurrentLaneLongerThanMaxLength_WritesNothing()
    {
        var carrier = new Dictionary<string, string>();

        using (LaneContext.Begin(new string('y', 64)))
        {
            MSpider.Inject(carrier, Getters.DictionarySetter);
        }

        Assert.Empty(carrier);
    }

    [Fact]
    public void InjectThenExtract_RoundTripsThroughMessageHeaders()
    {
        var headers = new Dictionary<string, string> { ["content-type"] = "application/json" };
        using (LaneContext.Begin("dev1"))
        {
            MSpider.Inject(headers, Getters.DictionarySetter);
        }

        var resolution = MSpider.Extract(headers, Getters.Dictionary);

        Assert.Equal("dev1", resolution.Lane);
        Assert.Equal(LaneSource.Header, resolution.Source);
    }

    [Fact]
    public void Extract_ByteArrayMessageHeaders_WorkThroughAnyGetter()
    {
        // Kafka-style headers: a list of (key, byte[]) pairs, possibly repeated.
        var headers = new List<KeyValuePair<string, byte[]>>
        {
            new("x-mspider-lane", "yellow"u8.ToArray()),
            new("x-mspider-lane", "yellow"u8.ToArray()),
        };

        var resolution = MSpider.Extract(headers, static (carrier, key) =>
            carrier.Where(h => h.Key == key).Select(h => System.Text.Encoding.UTF8.GetString(h.Value)));

        Assert.Equal("yellow", resolution.Lane);
    }

    [Fact]
    public void Create_InvalidOptions_ThrowsWithActionableMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => LanePropagator.Create(new LaneOptions { DefaultLane = "gr een" }));

        Assert.Contains("Lanes:DefaultLane", error.Message, StringComparison.Ordinal);
        Assert.Contains("A-Z a-z 0-9 . _ -", error.Message, StringComparison.Ordinal);
    }
}
