using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Lanes.RabbitMQ.Tests;

/// <summary>
/// No message is lost on a lane consumer, whatever happens to it (docs/behaviour.md, "Messages"; the package README's
/// table): a handler that keeps failing, a consumer killed with a backlog, a stop that runs out of time or is cut short.
/// At least once: duplicates are counted and reported, never a loss. <see cref="LaneQueueOptions.FallbackAfter"/> is
/// the broker's message TTL, so it runs on the broker's clock: the tests set it to a second or two.
/// </summary>
[Collection(BrokerGroup.Name)]
public sealed partial class NoLossTests(Broker broker, ITestOutputHelper output)
{
    [Fact]
    public async Task LastLaneConsumerKilled_WithABacklog_EveryMessageReachesTheBaselineAfterFallbackAfter_InItsLane()
    {
        const int Total = 300;
        var propagator = Harness.Nsf();
        var options = new LaneQueueOptions { FallbackAfter = TimeSpan.FromSeconds(2) };
        var topology = new LaneQueueTopology(Broker.NewName("killed"), propagator, options);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        using var child = StartChild(topology.Name, "yellow", options.FallbackAfter, delayMs: 20);
        await child.WaitForOutputAsync("^ready$");

        for (var i = 0; i < Total; i++)
        {
            await Harness.PublishAsync(channel, propagator, topology.Exchange, i.ToString(CultureInfo.InvariantCulture), "yellow");
        }

        await Wait.UntilAsync(() => HandledBy(child).Count >= 20, "the yellow consumer to handle its first 20", () => $"{HandledBy(child).Count} handled");
        child.Signal(SampleProcess.SigKill);
        Assert.NotNull(await child.WaitForExitAsync(Wait.Budget));          // and all it printed has been read
        var killedAfter = HandledBy(child);
        await Wait.UntilAsync(
            () => killedAfter.Union(seen.Select(static h => h.Id)).Count() == Total,
            $"all {Total} messages handled by the killed consumer or the baseline",
            () => $"{killedAfter.Union(seen.Select(static h => h.Id)).Count()} of {Total}");

        Assert.All(seen, static h => Assert.Equal(new Handled("baseline", h.Id, "yellow", "yellow"), h));   // fallen back, still yellow
        Assert.True(seen.Count >= Total - killedAfter.Count, "the baseline took the backlog");
        var duplicates = seen.Count(h => killedAfter.Contains(h.Id)) + (seen.Count - seen.Select(static h => h.Id).Distinct().Count());
        output.WriteLine($"killed after {killedAfter.Count} handled; baseline handled {seen.Count}; lost 0; duplicates {duplicates}");
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue)).MessageCount);
    }

    [Fact]
    public async Task RedeliveryAfterACrash_DoesNotSpendTheRetry_OfAMessageThatNeverFailed()
    {
        var propagator = Harness.Nsf();
        var options = new LaneQueueOptions();
        var topology = new LaneQueueTopology(Broker.NewName("crash-retry"), propagator, options);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        using (var child = StartChild(topology.Name, "yellow", options.FallbackAfter, delayMs: -1))
        {
            await child.WaitForOutputAsync("^ready$");
            await Harness.PublishAsync(channel, propagator, topology.Exchange, "m1", "yellow");
            await child.WaitForOutputAsync("^got m1$");
            child.Signal(SampleProcess.SigKill);                      // m1 was delivered, never acknowledged, never failed
        }

        var attempts = new ConcurrentQueue<bool>();
        await using var yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, (message, _) =>
        {
            attempts.Enqueue(message.Redelivered);
            return attempts.Count == 1 ? throw new InvalidOperationException("fails once") : Task.CompletedTask;
        });

        await Wait.UntilAsync(() => attempts.Count == 2, "m1 handled a second time after its one failure", () => $"{attempts.Count} attempts");

        Assert.True(attempts.First(), "the first attempt here is the crash's redelivery");
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue)).MessageCount);   // not dead-lettered
    }

    /// <summary>
    /// A dead-letter forward the broker never confirms (the dead-letter queue was deleted): the message goes back after a
    /// wait that doubles on the options' clock, not in a hot loop, and its handler is not run again: once the queue is
    /// back, the message reaches it with the handler run exactly twice (the try and the retry), as the policy allows.
    /// </summary>
    [Fact]
    public async Task UnconfirmedDeadLetter_BacksOffOnTheClock_AndNeverRunsTheHandlerAgain()
    {
        var time = new FakeTimeProvider();
        var propagator = Harness.Nsf();
        var options = new LaneQueueOptions { TimeProvider = time, ForwardRetryDelay = TimeSpan.FromSeconds(1), MaxForwardRetryDelay = TimeSpan.FromSeconds(4) };
        var topology = new LaneQueueTopology(Broker.NewName("unconfirmed"), propagator, options);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        await channel.QueueDeleteAsync(topology.DeadLetterQueue, ifUnused: false, ifEmpty: false);
        using var logs = new InMemoryLoggerProvider();
        var runs = 0;
        await using var consumer = await LaneQueueConsumer.StartAsync(
            broker.Connection, topology, null, propagator, (_, _) => { Interlocked.Increment(ref runs); throw new InvalidOperationException("poison"); },
            logs.CreateLogger("consumer"));
        int Failures() => logs.Records.Count(static r => r.EventId.Name == "MessageForwardFailed");

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "poison", null);

        // Held on the clock: without time passing, one failed forward and no second one.
        await Wait.UntilAsync(() => Failures() == 1, "the first unconfirmed dead-letter forward");
        var heldRuns = Volatile.Read(ref runs);

        // Each advance lets one more forward try, each failing again, with the handler left alone.
        await Wait.UntilAsync(() => { time.Advance(options.MaxForwardRetryDelay); return Failures() >= 3; }, "two more unconfirmed forwards");
        var runsWhileFailing = Volatile.Read(ref runs);
        await topology.DeclareAsync(channel);                                    // the dead-letter queue is back
        var dead = await Wait.ForAsync(
            async () => { time.Advance(options.MaxForwardRetryDelay); return await channel.BasicGetAsync(topology.DeadLetterQueue, autoAck: true); },
            static d => d is not null,
            "the message in the dead-letter queue");

        Assert.Equal(2, heldRuns);
        Assert.Equal(2, runsWhileFailing);
        Assert.Equal(2, Volatile.Read(ref runs));
        Assert.Equal("poison", dead!.BasicProperties.MessageId);
        Assert.Contains(logs.Records, static r => r.EventId.Name == "MessageForwardFailed" && r.Message.Contains("00:00:02", StringComparison.Ordinal));   // doubled
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StopWithAHandlerStuck_DrainTimeoutOrShutdownToken_CancelsIt_AndNothingIsLost(bool cutByShutdownToken)
    {
        var time = new FakeTimeProvider();
        var propagator = Harness.Nsf();
        var options = new LaneQueueOptions { FallbackAfter = TimeSpan.FromSeconds(1), TimeProvider = time, Prefetch = 4 };
        var topology = new LaneQueueTopology(Broker.NewName("stuck"), propagator, options);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        var cancelled = 0;
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        var yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, async (message, ct) =>
        {
            stuck.TrySetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelled);
                throw;
            }
        });
        for (var i = 0; i < 50; i++)
        {
            await Harness.PublishAsync(channel, propagator, topology.Exchange, i.ToString(CultureInfo.InvariantCulture), "yellow");
        }

        await stuck.Task.WaitAsync(Wait.Budget);
        if (cutByShutdownToken)
        {
            using var shutdown = new CancellationTokenSource();
            var stopping = yellow.StopAsync(shutdown.Token);
            await shutdown.CancelAsync();
            await stopping;
        }
        else
        {
            var stopping = yellow.StopAsync();
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(options.DrainTimeout);                  // until the stop's timer exists and has run out
                    return stopping.IsCompleted;
                },
                "StopAsync to give up on the stuck handler after DrainTimeout");
            await stopping;
        }

        await Wait.UntilAsync(() => seen.Select(static h => h.Id).Distinct().Count() == 50, "all 50 yellow messages handled by the baseline", () => $"{seen.Count}");

        Assert.Equal(1, Volatile.Read(ref cancelled));                        // the one stuck handler was cancelled
        Assert.All(seen, static h => Assert.Equal("yellow", h.Current));
        Assert.Equal(0u, (await channel.QueueDeclarePassiveAsync(topology.DeadLetterQueue)).MessageCount);   // cancelled is not failed
    }

    [Fact]
    public async Task LaneNamedLikeAnInternalQueue_DotLeaving_GetsOnlyItsOwnMessages()
    {
        var propagator = Harness.Nsf();
        var topology = new LaneQueueTopology(Broker.NewName("dots"), propagator);
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await topology.DeclareAsync(channel);
        var seen = new ConcurrentQueue<Handled>();
        await using var baseline = await LaneQueueConsumer.StartAsync(broker.Connection, topology, null, propagator, Harness.Recording("baseline", seen));
        var yellow = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow", propagator, Harness.Recording("yellow", seen));
        await using var leaving = await LaneQueueConsumer.StartAsync(broker.Connection, topology, "yellow.leaving", propagator, Harness.Recording("yellow.leaving", seen));

        await Harness.PublishAsync(channel, propagator, topology.Exchange, "y", "yellow");
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "l", "yellow.leaving");
        await Wait.UntilAsync(() => seen.Count == 2, "both messages handled");
        await yellow.StopAsync();                                             // one leaving does not touch the other
        await Harness.PublishAsync(channel, propagator, topology.Exchange, "l2", "yellow.leaving");
        await Wait.UntilAsync(() => seen.Any(static h => h.Id == "l2"), "l2 handled");

        Assert.Equal(
            [new Handled("yellow.leaving", "l", "yellow.leaving", "yellow.leaving"), new Handled("yellow.leaving", "l2", "yellow.leaving", "yellow.leaving"), new Handled("yellow", "y", "yellow", "yellow")],
            seen.OrderBy(static h => h.Id, StringComparer.Ordinal).ToArray());
        Assert.NotEqual(topology.LaneQueue("yellow.leaving"), topology.DeadLetterQueue);
        Assert.True(await broker.QueueExistsAsync(topology.LaneQueue("yellow")));
    }

    private SampleProcess StartChild(string topology, string lane, TimeSpan fallbackAfter, int delayMs)
        => SampleProcess.StartDll(
            typeof(ChildConsumer).Assembly.Location,
            null,
            "consume",
            broker.Uri.ToString(),
            topology,
            lane,
            ((int)fallbackAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            delayMs.ToString(CultureInfo.InvariantCulture));

    private static HashSet<string> HandledBy(SampleProcess child)
        => [.. HandledLine().Matches(child.Stdout).Select(static m => m.Groups[1].Value)];

    [GeneratedRegex("^handled (\\S+)$", RegexOptions.Multiline)]
    private static partial Regex HandledLine();
}
