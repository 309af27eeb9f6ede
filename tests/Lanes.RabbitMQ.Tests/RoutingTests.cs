using System.Collections.Concurrent;
using System.Globalization;
using Lanes.Routing;
using Lanes.Testing;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ.Tests;

[Collection(BrokerGroup.Name)]
public sealed class RoutingTests(Broker broker)
{
    /// <summary>
    /// A shadow copy of a lane with no consumer reaches the baseline queue (Permissive: the broker's alternate exchange)
    /// and is dead-lettered there with its reason, never handled by the baseline; a shadow copy of a lane that has a
    /// consumer is handled there, in the shadow scope.
    /// </summary>
    [Fact]
    public async Task Routing_AShadowCopyOfALaneWithoutAConsumer_IsDeadLetteredNeverHandledByTheBaseline()
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("shadow"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        var shadowInYellow = false;
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        await using var yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, async (message, token) =>
        {
            shadowInYellow = LaneContext.IsShadow;
            await Harness.Recording("yellow", seen)(message, token);
        });

        using (LaneContext.BeginShadow("red"))
        {
            await channel.BasicPublishWithLaneAsync(propagator, topology.Exchange, string.Empty, new BasicProperties { MessageId = "red-shadow" }, "r"u8.ToArray());
        }

        using (LaneContext.BeginShadow("yellow"))
        {
            await channel.BasicPublishWithLaneAsync(propagator, topology.Exchange, string.Empty, new BasicProperties { MessageId = "yellow-shadow" }, "y"u8.ToArray());
        }

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "sentinel", null);
        await Wait.UntilAsync(() => seen.Count == 2, "the yellow shadow copy and the sentinel to be handled");
        var dead = await Harness.EventuallyGetAsync(channel, topology.DeadLetterQueue);

        Assert.Equal(["sentinel", "yellow-shadow"], seen.Select(static h => h.Id).Order(StringComparer.Ordinal));
        Assert.Equal(new Handled("yellow", "yellow-shadow", "yellow", "yellow"), seen.Single(static h => h.Id == "yellow-shadow"));
        Assert.True(shadowInYellow);
        Assert.Equal("red-shadow", dead.BasicProperties.MessageId);
        Assert.Equal("shadow copy of a lane without a consumer", Harness.Text(dead.BasicProperties.Headers![LaneQueueTopology.DeadLetterReasonHeader]));
    }

    [Theory]
    [InlineData(LanePolicy.Permissive)]
    [InlineData(LanePolicy.Strict)]
    public async Task Routing_EachRowOfThePolicy_OnTheBrokersOwnRouting(LanePolicy policy)
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("rows"), propagator, new LaneQueueOptions { Policy = policy, FallbackAfter = TimeSpan.FromSeconds(1) });
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        var yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, Harness.Recording("yellow", seen));

        // yellow -> the yellow consumer; no lane -> baseline; red (no red consumer) -> baseline (Permissive) or dead-letter (Strict).
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "y1", "yellow");
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "n1", null);
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "r1", "red");
        await Wait.UntilAsync(() => seen.Count == (policy == LanePolicy.Permissive ? 3 : 2), "the first three rows");
        if (policy == LanePolicy.Strict)
        {
            await Wait.UntilAsync(async () => (await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue)).MessageCount > 0, "r1 dead-lettered");
        }

        Assert.Equal(new Handled("yellow", "y1", "yellow", "yellow"), seen.Single(h => h.Id == "y1"));
        Assert.Equal(new Handled("baseline", "n1", null, null), seen.Single(h => h.Id == "n1"));
        if (policy == LanePolicy.Permissive)
        {
            Assert.Equal(new Handled("baseline", "r1", "red", "red"), seen.Single(h => h.Id == "r1"));
        }
        else
        {
            var dead = await channel.BasicGetAsync(topology.DeadLetterQueue, autoAck: true);
            Assert.Equal("r1", dead!.BasicProperties.MessageId);
            Assert.DoesNotContain(seen, h => h.Id == "r1");
        }

        // The yellow consumer stopped: its queue stays. Permissive: the message waits there FallbackAfter (the broker's
        // message TTL, 1 s here) for yellow to come back, then goes to the baseline; Strict keeps it for yellow.
        await yellow.StopAsync();
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "y2", "yellow");
        if (policy == LanePolicy.Permissive)
        {
            await Wait.UntilAsync(() => seen.Any(h => h.Id == "y2"), "y2 handled");
            Assert.Equal(new Handled("baseline", "y2", "yellow", "yellow"), seen.Single(h => h.Id == "y2"));
            Assert.True(await broker.QueueExistsAsync(topology.LaneQueue("yellow")));
        }
        else
        {
            // A message without a lane, published after y2, is the sentinel: once the baseline has it, y2 was routed too.
            await Harness.PublishAsync(channel, propagator, topology.Exchange, "n2", null);
            await Wait.UntilAsync(() => seen.Any(h => h.Id == "n2"), "the sentinel n2 handled by the baseline");
            Assert.DoesNotContain(seen, h => h.Id == "y2");
            Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync(topology.LaneQueue("yellow"))).MessageCount);
            await using var back = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, Harness.Recording("yellow", seen));
            await Wait.UntilAsync(() => seen.Any(h => h.Id == "y2"), "y2 handled by yellow once it is back");
            Assert.Equal(new Handled("yellow", "y2", "yellow", "yellow"), seen.Single(h => h.Id == "y2"));
        }
    }

    [Fact]
    public async Task Routing_Declared_DeclaredLanesWait_OtherLanesGoToTheBaseline()
    {
        var propagator = Harness.Nsf();
        var options = new LaneQueueOptions { Policy = LanePolicy.Declared };
        options.DeclaredLanes.Add("dev1");
        options.DeclaredLanes.Add("dev2");
        var topology = new LaneQueueTopology(Broker.NewName("declared"), propagator, options);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "dev2", "dev2");
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "dev3", "dev3");
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "none", null);   // the sentinel, after both
        await Wait.UntilAsync(() => seen.Any(h => h.Id == "none"), "the sentinel handled by the baseline");

        Assert.Equal([new Handled("baseline", "dev3", "dev3", "dev3"), new Handled("baseline", "none", null, null)], seen.ToArray());
        Assert.Equal(1u, (await channel.QueueDeclarePassiveAsync(topology.LaneQueue("dev2"))).MessageCount);
    }

    [Theory]
    [InlineData(LanePolicy.Permissive)]
    [InlineData(LanePolicy.Strict)]
    public async Task Routing_LaneConsumerLeavesAndComesBackUnderSteadyPublishing_LosesNoMessageAndMisroutesNone(LanePolicy policy)
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("restart"), propagator, new LaneQueueOptions { Policy = policy, Prefetch = 8 });
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        var slow = Harness.Recording("yellow", seen);
        Func<LaneMessage, CancellationToken, Task> yellowHandler = async (m, ct) =>
        {
            await Task.Delay(2, ct);                      // a backlog builds up, so leaving has something to drain
            await slow(m, ct);
        };
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        var yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, yellowHandler);

        // Publish steadily: even ids yellow, odd ids no lane. Sequence numbers mark the leave and return.
        var published = 0;
        var leaveStartedAt = -1;
        var backAt = -1;
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var id = published;
                await Harness.PublishAsync(channel, propagator, topology.Exchange, id.ToString(CultureInfo.InvariantCulture), id % 2 == 0 ? "yellow" : null);
                Interlocked.Increment(ref published);
            }
        });
        await Wait.UntilAsync(() => Volatile.Read(ref published) > 300, "300 published");
        leaveStartedAt = Volatile.Read(ref published);
        await yellow.StopAsync();
        await Wait.UntilAsync(() => Volatile.Read(ref published) > leaveStartedAt + 300, "300 more published while yellow is away");
        yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, yellowHandler);
        backAt = Volatile.Read(ref published);
        await Wait.UntilAsync(() => Volatile.Read(ref published) > backAt + 300, "300 more published after yellow is back");
        await stop.CancelAsync();
        await publisher;
        var total = Volatile.Read(ref published);
        await Wait.UntilAsync(() => seen.Select(static h => h.Id).Distinct().Count() == total, $"all {total} messages handled");
        await yellow.StopAsync();

        var byId = seen.GroupBy(static h => int.Parse(h.Id, CultureInfo.InvariantCulture)).ToDictionary(static g => g.Key, static g => g.ToList());
        Assert.Equal(total, byId.Count);                                  // none lost
        foreach (var (id, handlings) in byId)
        {
            foreach (var handled in handlings)
            {
                var lane = id % 2 == 0 ? "yellow" : null;
                Assert.Equal(lane, handled.Current);                      // every message handled in its own lane
                // No lane: the baseline's. Yellow, even while yellow was away (its queue kept them for less than
                // FallbackAfter): yellow's, under both policies.
                Assert.Equal(lane is null ? "baseline" : "yellow", handled.Consumer);
            }
        }

        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue)).MessageCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Routing_EveryConsumerOfALaneLeavingAtOnce_WithABacklog_LosesNone_TheBacklogFallsBackAfterFallbackAfter(bool separateConnections)
    {
        // A deleted Deployment or a rollout stops every replica of a lane at the same moment, with a backlog far longer
        // than they could drain: the queue keeps it, and after FallbackAfter (1 s here) the baseline takes it, in yellow.
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("all-leave"), propagator, new LaneQueueOptions { Prefetch = 4, FallbackAfter = TimeSpan.FromSeconds(1) });
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();

        // The yellow replicas hold what they took until they are told to leave, so the backlog is there when they go
        // whatever the machine's speed (under stress-ng the publisher was once slower than two 3 ms handlers, and the
        // queue was empty when they left: issue 42).
        var leaving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<string, Func<LaneMessage, CancellationToken, Task>> slow = name =>
        {
            var record = Harness.Recording(name, seen);
            return async (m, ct) =>
            {
                await leaving.Task.WaitAsync(ct);
                await record(m, ct);
            };
        };
        await using var second = separateConnections ? await broker.Connect("lanes-tests-second") : null;
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        var a = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, slow("yellow-a"));
        var b = await LaneQueueConsumer.StartAsync(second ?? broker.Connection, topology, "yellow", propagator, slow("yellow-b"));

        const int Backlog = 400;
        for (var i = 0; i < Backlog; i++)
        {
            await Harness.PublishAsync(channel, propagator, topology.Exchange, i.ToString(CultureInfo.InvariantCulture), "yellow");
        }

        var queued = (await channel.QueueDeclarePassiveAsync(topology.LaneQueue("yellow"))).MessageCount;
        var stopping = Task.WhenAll(a.StopAsync(), b.StopAsync());
        leaving.TrySetResult();
        await stopping;
        for (var i = Backlog; i < Backlog + 50; i++)
        {
            await Harness.PublishAsync(channel, propagator, topology.Exchange, i.ToString(CultureInfo.InvariantCulture), "yellow");
        }

        await Wait.UntilAsync(() => seen.Select(static h => h.Id).Distinct().Count() == Backlog + 50, $"all {Backlog + 50} messages handled");

        Assert.True(queued > 100, $"only {queued} messages were waiting when both left: no backlog");
        Assert.All(seen, static h => Assert.Equal("yellow", h.Current));
        Assert.Contains(seen, static h => h.Consumer == "baseline");
        var byId = seen.ToLookup(static h => int.Parse(h.Id, CultureInfo.InvariantCulture));
        for (var i = Backlog; i < Backlog + 50; i++)
        {
            Assert.All(byId[i], static h => Assert.Equal("baseline", h.Consumer));  // after both left: the baseline, via the queue
        }

        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue)).MessageCount);
    }

    [Fact]
    public async Task Routing_ConsumerWhoseConnectionWentAway_StopsWithoutThrowing()
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("gone"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var connection = await broker.Connect("lanes-tests-going");
        var yellow = await LaneQueueConsumer.StartAsync(connection, topology, "yellow", propagator, static (_, _) => Task.CompletedTask);

        await connection.CloseAsync();
        connection.Dispose();
        await yellow.DisposeAsync();

        // The broker removed the consumer with its connection; the lane's queue stays for its next consumer.
        Assert.True(await broker.QueueExistsAsync(topology.LaneQueue("yellow")));
    }

    [Fact]
    public async Task Routing_AThousandMessagesWithRandomLanesAndEightConsumers_EachHandledOnceInItsOwnLane()
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("thousand"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        string?[] consumerLanes = ["yellow", "yellow", "yellow", "blue", "blue", null, null, null];
        var consumers = new List<LaneQueueConsumer>();
        foreach (var lane in consumerLanes)
        {
            consumers.Add(await LaneQueueConsumer.StartAsync(broker.Connection, topology, lane, propagator, Harness.Recording(lane ?? "baseline", seen)));
        }

        string?[] lanes = ["yellow", "blue", "red", null];
        var random = new Random(20261203);
        var sent = new Dictionary<string, string?>();
        for (var i = 0; i < 1000; i++)
        {
            var lane = lanes[random.Next(lanes.Length)];
            sent[i.ToString(CultureInfo.InvariantCulture)] = lane;
        }

        await Parallel.ForEachAsync(sent, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (pair, _) =>
        {
            await using var publisher = await Harness.PublisherAsync(broker.Connection);
            await Harness.PublishAsync(publisher, propagator, topology.Exchange, pair.Key, pair.Value);
        });
        await Wait.UntilAsync(() => seen.Count >= 1000, "1,000 messages handled");
        foreach (var consumer in consumers)
        {
            await consumer.StopAsync();
        }

        Assert.Equal(1000, seen.Count);
        Assert.Equal(1000, seen.Select(static h => h.Id).Distinct().Count());
        foreach (var handled in seen)
        {
            var lane = sent[handled.Id];
            Assert.Equal(lane, handled.Current);
            Assert.Equal(lane is "yellow" or "blue" ? lane : "baseline", handled.Consumer);
        }
    }
}
