// Messages per second through a Lanes lane consumer against plain RabbitMQ.Client, on the same broker in the same run:
// N messages published with publisher confirms (up to Window outstanding) and consumed with manual acknowledgement
// (prefetch 16, one consumer). Plain: a durable queue and an AsyncEventingBasicConsumer. Lanes: a LaneQueueTopology
// (Permissive), BasicPublishWithLaneAsync inside a yellow scope, and a yellow LaneQueueConsumer whose handler runs in
// the message's lane. A third side, plain RabbitMQ.Client over the routing a user would build for lanes by hand (a
// headers exchange, a queue per lane bound on the lane header, the header set on publish), tells the broker's share
// (the exchange match) from the client's (what Lanes does in the publisher and the consumer). After one warm-up round
// of each, rounds alternate plain / headers / Lanes; medians are reported.
//   dotnet run -c Release --project benchmarks/MessagingThroughput -- --amqp URI [--messages 20000] [--rounds 3]
// The last lines: "messaging, same routing: plain headers exchange H msg/s, lanes L msg/s, ratio R" and
// "messaging: plain P msg/s, lanes L msg/s, ratio R (N messages x K rounds)". Exits 1 when a message is lost or handled
// in the wrong lane, 2 on bad arguments or no broker.
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
var headers = new List<double>();
var lanes = new List<double>();
var (plainCpu, headersCpu, lanesCpu) = (new List<double>(), new List<double>(), new List<double>());
var lastCpuPerMessage = 0.0;
var failures = 0;
await PlainAsync();                                        // a warm-up round of each, not counted (JIT, broker caches)
await HeadersAsync();
await LanesAsync();
for (var round = 0; round < rounds; round++)
{
    plain.Add(await PlainAsync());
    plainCpu.Add(lastCpuPerMessage);
    headers.Add(await HeadersAsync());
    headersCpu.Add(lastCpuPerMessage);
    lanes.Add(await LanesAsync());
    lanesCpu.Add(lastCpuPerMessage);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round + 1}: plain {plain[^1]:0} msg/s ({plainCpu[^1]:0.0} us CPU/msg), plain headers exchange {headers[^1]:0} msg/s ({headersCpu[^1]:0.0} us), lanes {lanes[^1]:0} msg/s ({lanesCpu[^1]:0.0} us)"));
}

await connection.CloseAsync();
connection.Dispose();
var (p, h, l) = (Median(plain), Median(headers), Median(lanes));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messaging, this process's CPU per message (publisher and consumer), median of per-round ratios: lanes / plain headers exchange {MedianRatio(lanesCpu, headersCpu):0.00}, lanes / plain {MedianRatio(lanesCpu, plainCpu):0.00}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messaging, same routing: plain headers exchange {h:0} msg/s, lanes {l:0} msg/s, ratio {l / h:0.00} (per round: {string.Join(", ", lanes.Zip(headers, static (a, b) => (a / b).ToString("0.00", CultureInfo.InvariantCulture)))})"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messaging: plain {p:0} msg/s, lanes {l:0} msg/s, ratio {l / p:0.00} ({messages} messages x {rounds} rounds)"));
return failures == 0 ? 0 : 1;

async Task<double> PlainAsync()
{
    var queue = "bench-plain-" + Guid.NewGuid().ToString("N")[..8];
    await using var setup = await connection.CreateChannelAsync();
    await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
    var elapsed = await ConsumeWhilePublishingAsync(
        queue,
        static _ => true,
        (channel, id) => channel.BasicPublishAsync(string.Empty, queue, mandatory: false, new BasicProperties { MessageId = id }, payload));
    await setup.QueueDeleteAsync(queue);
    return messages / elapsed.TotalSeconds;
}

// What a user builds for lanes with RabbitMQ.Client alone: a headers exchange, a durable queue per lane bound on the
// lane header, the header written on every publish, a consumer on the lane's queue.
async Task<double> HeadersAsync()
{
    var name = "bench-headers-" + Guid.NewGuid().ToString("N")[..8];
    var queue = name + ".yellow";
    await using var setup = await connection.CreateChannelAsync();
    await setup.ExchangeDeclareAsync(name, ExchangeType.Headers, durable: true, autoDelete: false);
    await setup.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
    await setup.QueueBindAsync(queue, name, string.Empty, new Dictionary<string, object?> { ["x-match"] = "all", ["x-mspider-lane"] = "yellow" });
    var elapsed = await ConsumeWhilePublishingAsync(
        queue,
        static delivery => delivery.BasicProperties.Headers?["x-mspider-lane"] is byte[] lane && lane.AsSpan().SequenceEqual("yellow"u8),
        (channel, id) => channel.BasicPublishAsync(name, string.Empty, mandatory: false, new BasicProperties { MessageId = id, Headers = new Dictionary<string, object?> { ["x-mspider-lane"] = "yellow" } }, payload));
    await setup.QueueDeleteAsync(queue);
    await setup.ExchangeDeleteAsync(name);
    return messages / elapsed.TotalSeconds;
}

// The plain sides' consumer (prefetch 16, manual acknowledgement; a delivery that fails check counts as a failure)
// on queue while every message is published.
async Task<TimeSpan> ConsumeWhilePublishingAsync(string queue, Func<BasicDeliverEventArgs, bool> check, Func<IChannel, string, ValueTask> publish)
{
    await using var consuming = await connection.CreateChannelAsync();
    await consuming.BasicQosAsync(0, 16, global: false);
    var received = 0;
    var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var consumer = new AsyncEventingBasicConsumer(consuming);
    consumer.ReceivedAsync += async (_, delivery) =>
    {
        if (!check(delivery))
        {
            Interlocked.Increment(ref failures);
        }

        await consuming.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        if (Interlocked.Increment(ref received) == messages)
        {
            done.TrySetResult();
        }
    };
    await consuming.BasicConsumeAsync(queue, autoAck: false, consumer);
    return await PublishAsync(publish, done.Task);
}

async Task<double> LanesAsync()
{
    var propagator = LanePropagator.Create(new LaneOptions { Preset = "mspider" });
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
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
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

    var elapsed = clock.Elapsed;
    // User + system time of this process (publisher, consumer, client library; not the broker) per message: what the
    // client side costs, which a slower broker round does not move.
    lastCpuPerMessage = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / messages;
    return elapsed;
}

static double MedianRatio(List<double> a, List<double> b) => Median(a.Zip(b, static (x, y) => x / y).ToList());

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
