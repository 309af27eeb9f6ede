using Lanes;
using Lanes.RabbitMQ;

namespace RabbitMQ.Client;

/// <summary>Publishing with the current lane, and the lane in message properties for code that publishes or consumes on its own.</summary>
public static class LaneChannelExtensions
{
    /// <summary>
    /// <see cref="IChannel.BasicPublishAsync{TProperties}(string, string, bool, TProperties, ReadOnlyMemory{byte}, CancellationToken)"/>
    /// with the current lane and the <c>baggage</c> member written into <paramref name="properties"/>' headers first
    /// (<see cref="InjectLane"/>); a publish outside any lane carries nothing.
    /// </summary>
    public static ValueTask BasicPublishWithLaneAsync(
        this IChannel channel,
        LanePropagator propagator,
        string exchange,
        string routingKey,
        BasicProperties? properties,
        ReadOnlyMemory<byte> body,
        bool mandatory = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(propagator);
        properties ??= new BasicProperties();
        LaneMessageHeaders.Inject(propagator, properties);
        return channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken);
    }

    /// <summary>
    /// Writes the current lane (and the <c>baggage</c> member) into <paramref name="properties"/>' headers, creating
    /// them when needed, for a publish of your own; a lane header the application set itself is kept. Returns the lane
    /// the message carries, or <see langword="null"/> outside any lane (then nothing is written).
    /// </summary>
    public static string? InjectLane(this IBasicProperties properties, LanePropagator propagator)
        => LaneMessageHeaders.Inject(propagator, properties);

    /// <summary>
    /// Resolves (and counts, on the <c>Lanes</c> meter) the lane of a delivered message from its headers, exactly as
    /// <see cref="Lanes.RabbitMQ.LaneQueueConsumer"/> does, for a consumer of your own. Every header is untrusted input;
    /// nothing here throws on a message's content.
    /// </summary>
    public static LaneResolution ExtractLane(this IReadOnlyBasicProperties properties, LanePropagator propagator)
        => LaneMessageHeaders.Extract(propagator, properties);
}
