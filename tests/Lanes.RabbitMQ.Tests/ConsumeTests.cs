using System.Collections.Concurrent;
using System.Text;
using Lanes.Routing;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ.Tests;

[Collection(BrokerGroup.Name)]
public sealed class ConsumeTests(Broker broker)
{
    [Fact]
    public async Task Consume_RunsEveryHandlerInTheMessagesLane_AndItsHttpCallsCarryIt()
    {
        await using var downstream = await TestServers.StartAsync(null, static app =>
            app.MapGet("/ratings", static (HttpContext c) => c.Request.Headers["x-nsf-mark"].ToString()));
        using var services = new ServiceCollection()
            .AddLanes(static o => o.Preset = "nsf").Services
            .AddHttpClient("ratings", c => c.BaseAddress = downstream.Address).AddLanePropagation().Services
            .BuildServiceProvider();
        var propagator = services.GetRequiredService<LanePropagator>();
        var clients = services.GetRequiredService<IHttpClientFactory>();
        var topology = new LaneQueueTopology(Broker.NewName("consume"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var consumer = await LaneQueueConsumer.StartAsync(broker.Connection, topology, lane: null, propagator, async (message, ct) =>
        {
            await Task.Delay(1, ct);
            var lane = await clients.CreateClient("ratings").GetStringAsync("/ratings", ct);
            seen.Enqueue(new Handled("baseline", message.Properties.MessageId!, LaneContext.Current, message.Lane, lane));
        });
        string?[] lanes = ["yellow", "blue", null, "yellow", null, "green"];

        for (var i = 0; i < 30; i++)
        {
            await Harness.PublishAsync(channel, propagator, topology.Exchange, i.ToString(System.Globalization.CultureInfo.InvariantCulture), lanes[i % lanes.Length]);
        }

        await Wait.UntilAsync(() => seen.Count == 30, "30 messages handled");
        foreach (var handled in seen)
        {
            var expected = lanes[int.Parse(handled.Id, System.Globalization.CultureInfo.InvariantCulture) % lanes.Length];
            Assert.Equal(expected, handled.Current);
            Assert.Equal(expected, handled.MessageLane);
            Assert.Equal(expected ?? string.Empty, handled.Downstream);
        }

        Assert.Null(LaneContext.Current);
    }

    [Fact]
    public async Task Consume_GarbageHeaders_NeverThrowAndNeverLeakALane()
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("garbage"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var consumer = await LaneQueueConsumer.StartAsync(broker.Connection, topology, lane: null, propagator, Harness.Recording("baseline", seen));
        var garbage = new (string Id, Dictionary<string, object?> Headers)[]
        {
            ("invalid-utf8", new() { ["x-nsf-mark"] = new byte[] { 0xC3, 0x28, 0xFF, 0xFE } }),
            ("ten-kb", new() { ["x-nsf-mark"] = Encoding.UTF8.GetBytes(new string('y', 10 * 1024)) }),
            ("number", new() { ["x-nsf-mark"] = 42 }),
            ("long", new() { ["x-nsf-mark"] = 42L }),
            ("table", new() { ["x-nsf-mark"] = new Dictionary<string, object?> { ["a"] = "yellow" } }),
            ("crlf", new() { ["x-nsf-mark"] = "yel\r\nlow" }),
            ("two-lanes", new() { ["x-nsf-mark"] = "yellow,blue" }),
            ("baggage-garbage", new() { ["baggage"] = new byte[] { 0xFF, 0x00, 0x3D } }),
            ("baggage-huge", new() { ["baggage"] = Encoding.UTF8.GetBytes("x-nsf-mark=" + new string('z', 10 * 1024)) }),
        };

        // Each garbage message follows a yellow one on the same consumer: a lane must not survive into the next message.
        foreach (var (id, headers) in garbage)
        {
            await Harness.PublishAsync(channel, propagator, topology.Exchange, "before-" + id, "yellow");
            await channel.BasicPublishAsync(topology.Exchange, string.Empty, mandatory: false, new BasicProperties { MessageId = id, Headers = headers }, "x"u8.ToArray());
        }

        // Only valid lanes route: garbage reaches the baseline queue; yellow has no consumer queue here, so it does too.
        await Wait.UntilAsync(() => seen.Count == garbage.Length * 2, "every message handled");
        foreach (var (id, _) in garbage)
        {
            var handled = seen.Single(h => h.Id == id);
            Assert.Null(handled.Current);
            Assert.Null(handled.MessageLane);
            Assert.Equal("yellow", seen.Single(h => h.Id == "before-" + id).Current);
        }

        var state = await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue);
        Assert.Equal(0u, state.MessageCount);
    }

    [Fact]
    public async Task Consume_DefaultLane_AppliesToMessagesWithoutOne_AsToRequests()
    {
        var propagator = LanePropagator.Create(new LaneOptions { Preset = "mspider" });
        var topology = new LaneQueueTopology(Broker.NewName("default"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var consumer = await LaneQueueConsumer.StartAsync(broker.Connection, topology, lane: "green", propagator, Harness.Recording("green", seen));

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "none", null);
        await Wait.UntilAsync(() => seen.Count == 1, "the message handled");

        Assert.Null(consumer.Lane);                                   // green is the baseline: it consumes the baseline queue
        Assert.Equal(topology.BaselineQueue, consumer.Queue);
        Assert.Equal("green", seen.Single().Current);
        Assert.Equal(LanePolicy.Permissive, topology.Options.Policy);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("yellow")]
    public async Task Consume_HandlerThatThrows_IsTriedOnceMoreInItsLane_ThenDeadLetteredWithItsLaneAndTheReason(string? consumerLane)
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("failing"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var attempts = new ConcurrentQueue<(string Id, string? Current)>();
        await using var consumer = await LaneQueueConsumer.StartAsync(broker.Connection, topology, consumerLane, propagator, (message, _) =>
        {
            var id = message.Properties.MessageId!;
            attempts.Enqueue((id, LaneContext.Current));
            return id == "poison" ? throw new InvalidOperationException("handler failed") : Task.CompletedTask;
        });

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "poison", "yellow");
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "fine", "yellow");
        await Wait.UntilAsync(() => attempts.Count(a => a.Id == "poison") == 2 && attempts.Any(a => a.Id == "fine"), "the poison message tried twice");
        var dead = await Harness.EventuallyGetAsync(channel, topology.DeadLetterQueue);

        var poison = attempts.Where(a => a.Id == "poison").ToArray();
        Assert.All(poison, static a => Assert.Equal("yellow", a.Current));        // the retry runs in the message's lane too
        Assert.Equal("poison", dead.BasicProperties.MessageId);
        var headers = dead.BasicProperties.Headers!;
        Assert.Equal("yellow", Harness.Text(headers["x-nsf-mark"]));            // dead-lettered with its lane intact
        Assert.Equal("handler failed twice: InvalidOperationException", Harness.Text(headers[LaneQueueTopology.DeadLetterReasonHeader]));
        Assert.Equal(consumerLane is null ? topology.BaselineQueue : topology.LaneQueue("yellow"), Harness.Text(headers[LaneQueueTopology.DeadLetterQueueHeader]));
        Assert.Single(attempts, static a => a.Id == "fine");
    }

    [Fact]
    public async Task Consume_RefusedMessage_IsDeadLetteredWithoutCallingTheHandler()
    {
        // RequireLane refuses a message without a lane, as it answers a request without one with 400.
        var propagator = LanePropagator.Create(new LaneOptions { Preset = "nsf", RequireLane = true });
        var topology = new LaneQueueTopology(Broker.NewName("refused"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var consumer = await LaneQueueConsumer.StartAsync(broker.Connection, topology, lane: null, propagator, Harness.Recording("baseline", seen));

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "no-lane", null);
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "blue", "blue");
        await Wait.UntilAsync(() => seen.Count == 1, "the blue message handled");
        var dead = await Harness.EventuallyGetAsync(channel, topology.DeadLetterQueue);

        Assert.Equal("no-lane", dead.BasicProperties.MessageId);
        Assert.StartsWith("lane refused: ", Harness.Text(dead.BasicProperties.Headers![LaneQueueTopology.DeadLetterReasonHeader]), StringComparison.Ordinal);
        Assert.Equal("blue", seen.Single().Current);
        Assert.DoesNotContain(seen, static h => h.Id == "no-lane");
    }
}
