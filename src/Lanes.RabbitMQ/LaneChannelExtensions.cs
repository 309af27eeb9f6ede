using Lanes;
using Lanes.RabbitMQ;

namespace RabbitMQ.Client;

/// <summary>Publishing with the current lane.</summary>
public static class LaneChannelExtensions
{
    /// <summary>
    /// <see cref="IChannel.BasicPublishAsync{TProperties}(string, string, bool, TProperties, ReadOnlyMemory{byte}, CancellationToken)"/>
    /// with the current lane and the <c>baggage</c> member written into <paramref name="properties"/>' headers first
    /// (<see cref="LaneMessageHeaders.Inject"/>); a publish outside any lane carries nothing.
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
}
