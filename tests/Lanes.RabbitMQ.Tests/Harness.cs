using System.Collections.Concurrent;
using System.Text;
using Lanes.Testing;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ.Tests;

/// <summary>What a handler saw for one message.</summary>
internal sealed record Handled(string Consumer, string Id, string? Current, string? MessageLane, string? Downstream = null);

internal static class Harness
{
    public static LanePropagator Nsf() => LanePropagator.Create(new LaneOptions { Preset = "nsf" });

    /// <summary>A publishing channel with confirms: a publish returns once the broker has the message.</summary>
    public static Task<IChannel> PublisherAsync(IConnection connection)
        => connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));

    /// <summary>Publishes message <paramref name="id"/> to <paramref name="exchange"/> inside <paramref name="lane"/>'s scope (none when null).</summary>
    public static async Task PublishAsync(IChannel channel, LanePropagator propagator, string exchange, string id, string? lane, string routingKey = "")
    {
        using (lane is null ? null : LaneContext.Begin(lane))
        {
            await channel.BasicPublishWithLaneAsync(propagator, exchange, routingKey, new BasicProperties { MessageId = id }, Encoding.UTF8.GetBytes(id));
        }
    }

    /// <summary>A handler that records who took which message and which lane was current.</summary>
    public static Func<LaneMessage, CancellationToken, Task> Recording(string consumer, ConcurrentQueue<Handled> log)
        => async (message, _) =>
        {
            await Task.Yield();
            log.Enqueue(new Handled(consumer, message.Properties.MessageId!, LaneContext.Current, message.Lane));
        };

    /// <summary>Gets one message from <paramref name="queue"/>, waiting for it to arrive there.</summary>
    public static async Task<BasicGetResult> EventuallyGetAsync(IChannel channel, string queue)
    {
        BasicGetResult? result = null;
        await Wait.UntilAsync(async () => (result = await channel.BasicGetAsync(queue, autoAck: true)) is not null, $"a message in {queue}");
        return result!;
    }

    public static string? Text(object? value) => value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : value as string;
}
