using RabbitMQ.Client;

namespace Lanes.RabbitMQ;

/// <summary>One delivered message, handed to a <see cref="LaneQueueConsumer"/>'s handler, which runs in <see cref="Lane"/>.</summary>
public sealed class LaneMessage
{
    internal LaneMessage(LaneResolution resolution, string? consumerLane, string queue, ulong deliveryTag, bool redelivered, string exchange, string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        Lane = resolution.Lane;
        LaneSource = resolution.Source;
        ConsumerLane = consumerLane;
        Queue = queue;
        DeliveryTag = deliveryTag;
        Redelivered = redelivered;
        Exchange = exchange;
        RoutingKey = routingKey;
        Properties = properties;
        Body = body;
    }

    /// <summary>The message's lane, current in <see cref="LaneContext"/> while the handler runs; <see langword="null"/> without one.</summary>
    public string? Lane { get; }

    /// <summary>Where the lane came from (header, alias, baggage, trace cache, default).</summary>
    public LaneSource LaneSource { get; }

    /// <summary>The lane of the consumer that took it; <see langword="null"/> for a baseline consumer.</summary>
    public string? ConsumerLane { get; }

    /// <summary>The queue it was taken from.</summary>
    public string Queue { get; }

    /// <summary>The delivery tag (acknowledged by the consumer when the handler completes).</summary>
    internal ulong DeliveryTag { get; }

    /// <summary>True when the broker delivered it before (a failed handler, or a consumer that left without acknowledging).</summary>
    public bool Redelivered { get; }

    /// <summary>The exchange it was published to.</summary>
    public string Exchange { get; }

    /// <summary>Its routing key.</summary>
    public string RoutingKey { get; }

    /// <summary>Its properties and headers.</summary>
    public IReadOnlyBasicProperties Properties { get; }

    /// <summary>Its body; valid until the handler's task completes (copy it to keep it).</summary>
    public ReadOnlyMemory<byte> Body { get; }
}
