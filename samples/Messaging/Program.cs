// Lanes through RabbitMQ: bookinfo's productpage publishes an order per request to the lane-routed stream "orders";
// a baseline and a yellow "orders" consumer take them, and each calls "ratings" over HTTP. Prints, per message, its
// lane, the consumer that took it and the lane the ratings call carried.
//   dotnet run --project samples/Messaging -- [--amqp URI] [--once]
// --amqp: the broker (default amqp://127.0.0.1:5672). --once: print and exit (0 when every row is as expected, 1 when
// one differs); otherwise keep productpage serving until Ctrl+C or SIGTERM. Bad arguments or no broker: one line, exit 2.
using System.Collections.Concurrent;
using System.Text;
using Lanes;
using Lanes.RabbitMQ;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

const string Usage = "usage: dotnet run --project samples/Messaging -- [--amqp URI] [--once]";
var amqp = new Uri("amqp://127.0.0.1:5672");
var once = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--help" or "-h":
            Console.WriteLine(Usage);
            return 0;
        case "--once":
            once = true;
            break;
        case "--amqp":
            if (++i >= args.Length || !Uri.TryCreate(args[i], UriKind.Absolute, out amqp!) || amqp.Scheme is not ("amqp" or "amqps"))
            {
                return Fail("--amqp takes an amqp:// or amqps:// URI.");
            }

            break;
        default:
            return Fail($"unknown argument '{args[i]}'.");
    }
}

// The lane settings every service here shares: bookinfo's header and alias, no default lane (so a message
// published outside any lane carries none).
static void Lanes(LaneOptions o)
{
    o.Header = "x-mspider-lane";
    o.Aliases.Add("x-mspider-laneid");
}

IConnection connection;
try
{
    connection = await new ConnectionFactory { Uri = amqp, ClientProvidedName = "lanes-messaging-sample" }.CreateConnectionAsync();
}
catch (BrokerUnreachableException e)
{
    return Fail($"no RabbitMQ at {amqp.Host}:{amqp.Port} ({e.InnerException?.Message ?? e.Message}); start one or pass --amqp URI.");
}

await using var ratings = await StartAsync("ratings", static (builder, app) =>
    app.MapGet("/ratings", static (HttpContext c) => c.Request.Headers["x-mspider-lane"].ToString()));

var handled = new ConcurrentDictionary<string, (string Consumer, string? Lane, string Downstream)>();
// A stopped (or crashed) lane consumer's messages wait FallbackAfter in its queue for it to come back, then go to the
// baseline: 2 s here, so the last row shows it without a long pause (default 30 s).
var orders = new LaneQueueTopology("orders-" + Guid.NewGuid().ToString("N")[..8], LanePropagator.Create(Options()), new LaneQueueOptions { FallbackAfter = TimeSpan.FromSeconds(2) });
var publishing = new OrdersChannel(await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)), orders);
await using var productpage = await StartAsync("productpage", (builder, app) =>
{
    app.UseLanes();
    app.MapPost("/order/{id}", static async (string id, LanePropagator propagator, OrdersChannel orders) =>
    {
        await orders.Channel.BasicPublishWithLaneAsync(propagator, orders.Topology.Exchange, "order", new BasicProperties { MessageId = id }, Encoding.UTF8.GetBytes(id));
        return Results.Accepted();
    });
}, services => services.AddSingleton(publishing));

// The two consumers (the "orders" service, baseline and yellow instances), each in a host with Lanes and a ratings client.
await using var consumers = await StartAsync("orders", (builder, app) => { }, services =>
    services.AddHttpClient("ratings", c => c.BaseAddress = AddressOf(ratings)).AddLanePropagation());
var propagator = consumers.Services.GetRequiredService<LanePropagator>();
var http = consumers.Services.GetRequiredService<IHttpClientFactory>();
Func<LaneMessage, CancellationToken, Task> Handler(string consumer) => async (message, ct) =>
{
    var downstream = await http.CreateClient("ratings").GetStringAsync("/ratings", ct);
    handled[message.Properties.MessageId!] = (consumer, LaneContext.Current, downstream);
};

await using (var setup = await connection.CreateChannelAsync())
{
    await orders.DeclareAsync(setup);
}

var baseline = await LaneQueueConsumer.StartAsync(connection, orders, null, propagator, Handler("orders (baseline)"));
var yellow = await LaneQueueConsumer.StartAsync(connection, orders, "yellow", propagator, Handler("orders (yellow)"));

(string Row, string? Lane, Func<Task>? Before, string Consumer, string Downstream)[] rows =
[
    ("yellow", "yellow", null, "orders (yellow)", "yellow"),
    ("no lane", null, null, "orders (baseline)", "(none)"),
    ("red (no red consumer)", "red", null, "orders (baseline)", "red"),
    ("yellow, yellow consumer stopped", "yellow", () => yellow.StopAsync(), "orders (baseline)", "yellow"),   // after 2 s
];

Console.WriteLine($"Lanes through RabbitMQ ({amqp.Host}:{amqp.Port}): productpage publishes to '{orders.Exchange}' (Permissive); consumers: baseline, yellow");
Console.WriteLine();
Console.WriteLine($"{"message",-34} {"lane",-8} {"taken by",-20} {"ratings saw",-12} ok");
Console.WriteLine(new string('-', 82));
var failures = 0;
using var client = new HttpClient { BaseAddress = AddressOf(productpage) };
for (var i = 0; i < rows.Length; i++)
{
    var (row, lane, before, expectedConsumer, expectedDownstream) = rows[i];
    if (before is not null)
    {
        await before();
    }

    var id = "order-" + i;
    using var request = new HttpRequestMessage(HttpMethod.Post, "/order/" + id);
    if (lane is not null)
    {
        request.Headers.Add("x-mspider-lane", lane);
    }

    using var response = await client.SendAsync(request);
    var deadline = DateTime.UtcNow.AddSeconds(10);
    while (!handled.ContainsKey(id) && DateTime.UtcNow < deadline)
    {
        await Task.Delay(20);
    }

    var (consumer, _, downstream) = handled.TryGetValue(id, out var seen) ? seen : ("(not taken)", null, "-");
    downstream = downstream.Length == 0 ? "(none)" : downstream;
    var ok = consumer == expectedConsumer && downstream == expectedDownstream;
    failures += ok ? 0 : 1;
    Console.WriteLine($"{row,-34} {lane ?? "(none)",-8} {consumer,-20} {downstream,-12} {(ok ? "yes" : "NO")}");
    if (!ok)
    {
        Console.WriteLine($"{"  expected:",-43} {expectedConsumer,-20} {expectedDownstream}");
    }
}

Console.WriteLine();
Console.WriteLine(failures == 0 ? $"Every row matched its expectation ({rows.Length} rows)." : $"{failures} row(s) differ from the expectation.");
if (!once)
{
    Console.WriteLine($"Serving; try: curl -X POST -H 'x-mspider-lane: yellow' {AddressOf(productpage)}order/42   (Ctrl+C or SIGTERM stops)");
    await productpage.WaitForShutdownAsync();
}

await yellow.StopAsync();
await baseline.StopAsync();
await using (var cleanup = await connection.CreateChannelAsync())
{
    await orders.DeleteAsync(cleanup, ["yellow"]);
}

await publishing.Channel.DisposeAsync();
await connection.CloseAsync();
connection.Dispose();
return failures == 0 ? 0 : 1;

static LaneOptions Options()
{
    var options = new LaneOptions();
    Lanes(options);
    return options;
}

static async Task<WebApplication> StartAsync(string name, Action<WebApplicationBuilder, WebApplication> map, Action<IServiceCollection>? services = null)
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = name, Args = [] });
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.ClearProviders();
    builder.Services.AddLanes(Lanes);
    services?.Invoke(builder.Services);
    var app = builder.Build();
    map(builder, app);
    await app.StartAsync();
    return app;
}

static Uri AddressOf(WebApplication app)
    => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

static int Fail(string message)
{
    Console.Error.WriteLine($"messaging: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

/// <summary>productpage's publishing channel (with confirms) and the stream it publishes to.</summary>
internal sealed record OrdersChannel(IChannel Channel, LaneQueueTopology Topology);
