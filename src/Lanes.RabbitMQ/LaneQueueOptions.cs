using Lanes.Routing;

namespace Lanes.RabbitMQ;

/// <summary>How a <see cref="LaneQueueTopology"/> routes a stream's messages to lane and baseline consumers.</summary>
public sealed class LaneQueueOptions
{
    /// <summary>
    /// <see cref="LanePolicy.Permissive"/> (default): a message of a lane with a queue waits there for the lane's
    /// consumers at most <see cref="FallbackAfter"/>, then goes to the baseline; a lane that never had a consumer goes
    /// to the baseline at once. <see cref="LanePolicy.Strict"/>: a lane's messages wait for its consumers however long
    /// it takes; a message of a lane that has never had a queue is dead-lettered. <see cref="LanePolicy.Declared"/>: the
    /// <see cref="DeclaredLanes"/> wait (their queues are declared up front), every other lane is Permissive.
    /// <see cref="LanePolicy.Any"/> is refused: a queue with no lane routing is a plain queue.
    /// </summary>
    public LanePolicy Policy { get; set; } = LanePolicy.Permissive;

    /// <summary>Lanes whose queues are declared (and kept) with the topology, so their messages wait from the start (Strict, Declared).</summary>
    public IList<string> DeclaredLanes { get; } = [];

    /// <summary>The lane the baseline consumers serve (their messages go to the baseline queue); default: the settings' default lane.</summary>
    public string? BaselineLane { get; set; }

    /// <summary>Messages a consumer holds unacknowledged at once (<c>basic.qos</c>); default 16.</summary>
    public ushort Prefetch { get; set; } = 16;

    /// <summary>Declares every queue with <c>x-single-active-consumer</c>: one consumer at a time takes a queue's messages, in order.</summary>
    public bool SingleActiveConsumer { get; set; }

    /// <summary>The longest <see cref="DrainTimeout"/>: one hour.</summary>
    internal static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromHours(1);

    /// <summary>The longest <see cref="FallbackAfter"/>: a day (RabbitMQ's message TTL is a 32-bit count of milliseconds).</summary>
    internal static readonly TimeSpan MaxFallbackAfter = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a stopping consumer waits for the handlers in progress before it cancels them; default 10 s, well
    /// inside the host's default shutdown timeout (30 s), more than zero and at most an hour. Nothing is lost when it
    /// runs out, or when the host's shutdown token cuts it short: a message whose handler did not finish is not
    /// acknowledged, so the broker gives it to the lane's next consumer or, after <see cref="FallbackAfter"/>, the baseline.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a message may wait in a Permissive lane's queue (or an undeclared lane's, under Declared) without a
    /// consumer taking it before it moves on to the baseline: the queue's message TTL, dead-lettered to the baseline
    /// exchange by the broker. It is the longest a crashed or stopped lane's backlog waits for the lane to come back;
    /// it also moves on messages a lane too slow for its traffic leaves waiting that long. Default 30 s, more than zero
    /// and at most a day. Strict lanes and Declared's declared lanes wait without a limit.
    /// </summary>
    public TimeSpan FallbackAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a consumer holds a message whose forward (the retry copy, or the copy to the dead-letter queue) the broker
    /// did not confirm, before it goes back to its queue: default 1 s, doubled for each forward in a row that fails, up
    /// to <see cref="MaxForwardRetryDelay"/>. A broker that keeps refusing the copy is not hit in a hot loop, and the
    /// handler is not run again for it (the consumer remembers, by message id or body hash, that only the forward is left).
    /// </summary>
    public TimeSpan ForwardRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait of <see cref="ForwardRetryDelay"/>'s doubling: default 30 s, at most an hour.</summary>
    public TimeSpan MaxForwardRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock of <see cref="DrainTimeout"/> and <see cref="ForwardRetryDelay"/>; default <see cref="TimeProvider.System"/> (tests set a fake one).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
