using Lanes.Routing;

namespace Lanes.RabbitMQ.Tests;

[Collection(BrokerGroup.Name)]
public sealed class OptionsTests(Broker broker)
{
    public static TheoryData<string, Action<LaneQueueOptions>, string> InvalidOptions => new()
    {
        { "orders", static o => o.Policy = LanePolicy.Any, "LaneQueueOptions.Policy Any is not supported" },
        { "orders", static o => o.DeclaredLanes.Add("yel\r\nlow"), "LaneQueueOptions.DeclaredLanes holds" },
        { "orders", static o => o.BaselineLane = "not a lane", "LaneQueueOptions.BaselineLane" },
        { "orders", static o => o.Prefetch = 0, "LaneQueueOptions.Prefetch must be at least 1" },
        { "orders", static o => o.DrainTimeout = TimeSpan.Zero, "LaneQueueOptions.DrainTimeout must be more than zero" },
        { "orders", static o => o.DrainTimeout = Timeout.InfiniteTimeSpan, "LaneQueueOptions.DrainTimeout must be more than zero" },
        { "orders", static o => o.DrainTimeout = TimeSpan.FromHours(2), "at most 1 hour" },
        { "or ders", static _ => { }, "no whitespace" },
        { new string('o', 201), static _ => { }, "1 to 200 characters" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Topology_InvalidOptions_AreRefusedNamingTheOption_WithoutEchoingControlCharacters(string name, Action<LaneQueueOptions> configure, string expected)
    {
        var options = new LaneQueueOptions();
        configure(options);

        var error = Assert.ThrowsAny<ArgumentException>(() => new LaneQueueTopology(name, Harness.Nsf(), options));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("yel\r\nlow")]
    [InlineData("two,lanes")]
    [InlineData("")]
    public async Task Consumer_LaneThatIsNotOne_IsRefusedBeforeAnythingIsDeclared(string lane)
    {
        var topology = new LaneQueueTopology(Broker.NewName("bad-lane"), Harness.Nsf());

        var error = await Assert.ThrowsAsync<ArgumentException>(() => LaneQueueConsumer.StartAsync(broker.Connection, topology, lane, Harness.Nsf(), static (_, _) => Task.CompletedTask));

        Assert.Equal("lane", error.ParamName);
        Assert.DoesNotContain('\r', error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
