using Lanes.Routing;

namespace Lanes.RabbitMQ;

/// <summary>How a <see cref="LaneQueueTopology"/> routes a stream's messages to lane and baseline consumers.</summary>
public sealed class LaneQueueOptions
{
    /// <summary>
    /// <see cref="LanePolicy.Permissive"/> (default): a lane's queue lives while the lane has a consumer, and a message
    /// of a lane with no consumer goes to the baseline. <see cref="LanePolicy.Strict"/>: a lane's queue outlives its
    /// consumers, so its messages wait while it restarts; a message of a lane that has never had a queue is
    /// dead-lettered. <see cref="LanePolicy.Declared"/>: the <see cref="DeclaredLanes"/> wait (their queues are declared
    /// up front and kept), every other lane goes to the baseline. <see cref="LanePolicy.Any"/> is refused: a queue with
    /// no lane routing is a plain queue.
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

    /// <summary>
    /// How long a leaving lane consumer waits for its queue to drain before it leaves anyway; default 30 s, more than zero
    /// and at most an hour. A consumer waits up to twice as long for the consumers of its lane leaving before it.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
