using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Lanes.Tests;

/// <summary>The lane as an OpenTelemetry TextMapPropagator composed with OpenTelemetry's own, over a dictionary carrier.</summary>
public class LaneTextMapPropagatorTests
{
    private const string Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    private static LanePropagator MSpider() => LanePropagator.Create(new LaneOptions().UsePreset("mspider"));

    private static CompositeTextMapPropagator Composite(LanePropagator lanes)
        => new([new TraceContextPropagator(), new BaggagePropagator(), new LaneTextMapPropagator(lanes)]);

    private static Baggage BaggageOf(params (string Key, string Value)[] items)
        => Baggage.Create(items.ToDictionary(static i => i.Key, static i => i.Value));

    [Fact]
    public void Fields_AreTheLaneHeadersBaggageAndTraceparent()
    {
        var fields = new LaneTextMapPropagator(MSpider()).Fields;

        Assert.True(fields.SetEquals(["x-mspider-lane", "x-mspider-laneid", "baggage", "traceparent"]), string.Join(",", fields));
    }

    [Fact]
    public async Task Inject_InComposite_WritesHeaderAndOneBaggageWithTheLaneMemberFirst()
    {
        await Task.Yield();
        var carrier = new Dictionary<string, string>();
        var context = new PropagationContext(default, BaggageOf(("k", "v 1"), ("x-mspider-lane", "blue")));

        using (LaneContext.Begin("yellow"))
        {
            Composite(MSpider()).Inject(context, carrier, Getters.DictionarySetter);
        }

        Assert.Equal("yellow", carrier["x-mspider-lane"]);
        Assert.Equal("x-mspider-lane=yellow,k=v%201", carrier["baggage"]);
    }

    [Fact]
    public async Task Inject_NoLane_LeavesOpenTelemetrysBaggageAlone()
    {
        await Task.Yield();
        var carrier = new Dictionary<string, string>();

        using (LaneContext.Begin((string?)null))
        {
            Composite(MSpider()).Inject(new PropagationContext(default, BaggageOf(("k", "v"))), carrier, Getters.DictionarySetter);
        }

        Assert.False(carrier.ContainsKey("x-mspider-lane"));
        Assert.Equal("k=v", carrier["baggage"]);
    }

    [Fact]
    public async Task Inject_BaggageDisabled_WritesOnlyTheHeader()
    {
        await Task.Yield();
        var lanes = LanePropagator.Create(new LaneOptions { EnableBaggage = false }.UsePreset("mspider"));
        var carrier = new Dictionary<string, string>();

        using (LaneContext.Begin("yellow"))
        {
            new LaneTextMapPropagator(lanes).Inject(default, carrier, Getters.DictionarySetter);
        }

        Assert.Equal(["x-mspider-lane"], carrier.Keys);
    }

    [Fact]
    public void Extract_ResolvesTheLane_IntoTheContextsBaggage_KeepingTraceContext()
    {
        var carrier = new Dictionary<string, string>
        {
            ["x-mspider-laneid"] = "yellow",
            ["traceparent"] = Traceparent,
            ["baggage"] = "userId=alice",
        };

        var context = Composite(MSpider()).Extract(default, carrier, Getters.Dictionary);

        Assert.Equal("yellow", context.Baggage.GetBaggage("x-mspider-lane"));
        Assert.Equal("alice", context.Baggage.GetBaggage("userId"));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", context.ActivityContext.TraceId.ToHexString());
    }

    [Fact]
    public void Extract_NoLaneAndNoDefault_ReturnsTheContextUnchanged()
    {
        var lanes = LanePropagator.Create(new LaneOptions().UsePreset("nsf"));
        var before = new PropagationContext(default, BaggageOf(("k", "v")));

        var after = new LaneTextMapPropagator(lanes).Extract(before, new Dictionary<string, string>(), Getters.Dictionary);

        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Consumer_ThatSetsBaggageCurrent_ForwardsTheLaneOutsideAnyScope()
    {
        await Task.Yield();
        var lanes = MSpider();
        var message = new Dictionary<string, string> { ["x-mspider-lane"] = "yellow" };

        // The usual OpenTelemetry consumer pattern: extract, then make the baggage current.
        Baggage.Current = Composite(lanes).Extract(default, message, Getters.Dictionary).Baggage;
        var outgoing = new Dictionary<string, string>();
        lanes.Inject(outgoing, Getters.DictionarySetter);

        Assert.Null(LaneContext.Current);
        Assert.Equal("yellow", outgoing["x-mspider-lane"]);
    }

    [Fact]
    public async Task InsideAScopeWithoutLane_BaggageCurrentIsNotUsed()
    {
        await Task.Yield();
        var lanes = MSpider();
        Baggage.Current = BaggageOf(("x-mspider-lane", "yellow"));
        var outgoing = new Dictionary<string, string>();

        using (LaneContext.Begin((string?)null))
        {
            lanes.Inject(outgoing, Getters.DictionarySetter);
        }

        Assert.Empty(outgoing);
    }

    [Fact]
    public async Task InvalidLaneInBaggageCurrent_IsNotForwarded()
    {
        await Task.Yield();
        var lanes = MSpider();
        Baggage.Current = BaggageOf(("x-mspider-lane", "bad lane\r\n"));
        var outgoing = new Dictionary<string, string>();

        lanes.Inject(outgoing, Getters.DictionarySetter);

        Assert.Empty(outgoing);
    }

    [Fact]
    public async Task OutsideAnyScope_KnownTraceIdOfTheCurrentActivity_RestoresTheLaneForOutgoingCalls()
    {
        await Task.Yield();
        var lanes = MSpider();
        lanes.Extract(new Dictionary<string, string> { ["x-mspider-lane"] = "yellow", ["traceparent"] = Traceparent }, Getters.Dictionary);
        var outgoing = new Dictionary<string, string>();

        using (var activity = new Activity("consumer").SetParentId(Traceparent).Start())
        {
            lanes.Inject(outgoing, Getters.DictionarySetter);
        }

        Assert.Equal("yellow", outgoing["x-mspider-lane"]);
    }
}
