using System.Collections.Concurrent;
using System.Text;
using Lanes.Routing;
using Lanes.Testing;

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
        { "orders", static o => o.FallbackAfter = TimeSpan.Zero, "LaneQueueOptions.FallbackAfter must be at least 1 ms" },
        { "orders", static o => o.FallbackAfter = TimeSpan.FromDays(2), "LaneQueueOptions.FallbackAfter must be at least 1 ms and at most 24 hours" },
        { new string('o', 187), static _ => { }, "at most 186 bytes with lanes of up to 63 characters" },
        { new string('\u00e9', 94), static _ => { }, "at most 186 bytes" },                   // 94 characters, 188 bytes
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

    [Fact]
    public void Topology_LaneMaxLengthThatLeavesNoRoomForAName_IsRefused()
    {
        var propagator = LanePropagator.Create(new LaneOptions { Preset = "nsf", MaxLength = 250 });

        var error = Assert.Throws<ArgumentException>(() => new LaneQueueTopology("o", propagator));

        Assert.Contains("use a MaxLength of at most 248", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Topology_LongestNameAndLongestLane_DeclareConsumeAndLeaveOnTheBroker()
    {
        var propagator = Harness.Nsf();
        var name = Broker.NewName("longest");
        name += new string('n', 186 - name.Length);
        var lane = new string('y', propagator.Settings.MaxLength);
        var topology = new LaneQueueTopology(name, propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        var consumer = await LaneQueueConsumer.StartAsync(broker.Connection, topology, lane, propagator, Harness.Recording(lane, seen));

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "1", lane);
        await Wait.UntilAsync(() => seen.Count == 1, "the lane's message handled");
        await consumer.StopAsync();

        Assert.Equal(255, Encoding.UTF8.GetByteCount(topology.LaneQueue(lane)));
        Assert.Equal(lane, Assert.Single(seen).Current);
        Assert.True(await broker.QueueExistsAsync(topology.LaneQueue(lane)));    // kept for the lane's next consumer
        await topology.DeleteAsync(channel, [lane]);
        Assert.False(await broker.QueueExistsAsync(topology.LaneQueue(lane)));
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
