// Messages per second through a Lanes lane consumer against plain RabbitMQ.Client, on the same broker in the same run:
// N messages published with publisher confirms (up to Window outstanding) and consumed with manual acknowledgement
// (prefetch 16, one consumer). Plain: a durable queue and an AsyncEventingBasicConsumer. Lanes: a LaneQueueTopology
// (Permissive), BasicPublishWithLaneAsync inside a yellow scope, and a yellow LaneQueueConsumer whose handler runs in
// the message's lane. After one warm-up round of each, rounds alternate plain / Lanes; medians are reported.
//   dotnet run -c Release --project benchmarks/MessagingThroughput -- --amqp URI [--messages 20000] [--rounds 3]
// The last line: "messaging: plain P msg/s, lanes L msg/s, ratio R (N messages x K rounds)". Exits 1 when a message is
// lost or handled in the wrong lane, 2 on bad arguments or no broker.
using System.Diagnostics;
using System.Globalization;
using Lanes;
using Lanes.RabbitMQ;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

const int Window = 256;       // publishes in flight awaiting their confirm, the same for both sides

Uri? amqp = null;
var messages = 20_000;
var rounds = 3;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--amqp" when i + 1 < args.Length && Uri.TryCreate(args[i + 1], UriKind.Absolute, out var uri):
            amqp = uri;
            i++;
            break;
        case "--messages" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n > 0:
            messages = n;
            i++;
            break;
        case "--rounds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var r) && r > 0:
            rounds = r;
            i++;
            break;
        default:
            Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}'; usage: --amqp URI [--messages N] [--rounds K]");
            return 2;
    }
}

if (amqp is null)
{
    Console.Error.WriteLine("--amqp URI is required (bash .ci/rabbitmq.sh start DIR prints one)");
    return 2;
}

IConnection connection;
try
{
    connection = await new ConnectionFactory { Uri = amqp, ClientProvidedName = "lanes-messaging-benchmark" }.CreateConnectionAsync();
}
catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException)
{
    Console.Error.WriteLine($"no RabbitMQ at {amqp.Host}:{amqp.Port}");
    return 2;
}

var payload = new byte[256];
var plain = new List<double>();
var lanes = new List<double>();
var failures = 0;
await PlainAsync();                                        // a warm-up round of each, not counted (JIT, broker caches)
await LanesAsync();
for (var round = 0; round < rounds; round++)
{
    plain.Add(await PlainAsync());
    lanes.Add(await LanesAsync());
    Console.WriteLine($"round {round + 1}: plain {plain[^1]:0} msg/s, lanes {lanes[^1]:0} msg/s");
}

await connection.CloseAsync();
connection.Dispose();
var (p, l) = (Median(plain), Median(lanes));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messaging: plain {p:0} msg/s, lanes {l:0} msg/s, ratio {l / p:0.00} ({messages} messages x {rounds} rounds)"));
return failures == 0 ? 0 : 1;

async Task<double> PlainAsync()
{
    var queue = "bench-plain-" + Guid.NewGuid().ToString("N")[..8];
    await using var setup = await connection.CreateChannelAsync();
    await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
    await using var consuming = await connection.CreateChannelAsync();
    await consuming.BasicQosAsync(0, 16, global: false);
    var received = 0;
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var consumer = new AsyncEventingBasicConsumer(consuming);
    consumer.ReceivedAsync += async (_, delivery) =>
    {
        await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        if (Interlocked.Increment(ref received) == messages)
        {
            done.TrySetResult();
        }
    };
    await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);
    var elapsed = await PublishAsync((channel, id) => channel.BasicPublishAsync(string.Empty, queue, mandatory: false, new BasicProperties { MessageId = id }, payload), done.Task);
    await setup.QueueDeleteAsync(queue);
    return messages / elapsed.TotalSeconds;
}

async Task<double> LanesAsync()
{
    var propagator = LanePropagator.Create(new LaneOptions { Preset = LanePresets.MSpider });
    var topology = new LaneQueueTopology("bench-lanes-" + Guid.NewGuid().ToString("N")[..8], propagator);
    await using var setup = await connection.CreateChannelAsync();
    await topology.DeclareAsync(setup);
    var received = 0;
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var yellow = await LaneQueueConsumer.StartAsync(connection, topology, "yellow", propagator, (message, _) =>
    {
        if (LaneContext.Current != "yellow")
        {
            Interlocked.Increment(ref failures);
        }

        if (Interlocked.Increment(ref received) == messages)
        {
            done.TrySetResult();
        }

        return Task.CompletedTask;
    });
    TimeSpan elapsed;
    using (LaneContext.Begin("yellow"))
    {
        elapsed = await PublishAsync((channel, id) => channel.BasicPublishWithLaneAsync(propagator, topology.Exchange, string.Empty, new BasicProperties { MessageId = id }, payload), done.Task);
    }

    await yellow.StopAsync();
    await topology.DeleteAsync(setup, ["yellow"]);
    return messages / elapsed.TotalSeconds;
}

// Publishes every message with confirms (at most Window awaiting theirs), then waits until all are consumed.
async Task<TimeSpan> PublishAsync(Func<IChannel, string, ValueTask> publish, Task consumed)
{
    await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
    var clock = Stopwatch.StartNew();
    var pending = new List<Task>(Window);
    for (var i = 0; i < messages; i++)
    {
        pending.Add(publish(channel, i.ToString(CultureInfo.InvariantCulture)).AsTask());
        if (pending.Count == Window)
        {
            await Task.WhenAll(pending);
            pending.Clear();
        }
    }

    await Task.WhenAll(pending);
    if (await Task.WhenAny(consumed, Task.Delay(TimeSpan.FromMinutes(2))) != consumed)
    {
        Console.Error.WriteLine("not every message was consumed within 2 minutes");
        Interlocked.Increment(ref failures);
    }

    return clock.Elapsed;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
