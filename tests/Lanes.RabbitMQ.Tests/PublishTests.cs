using System.Net;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ.Tests;

[Collection(BrokerGroup.Name)]
public sealed class PublishTests(Broker broker)
{
    [Fact]
    public async Task Publish_InsideARequest_CarriesTheRequestsLaneAndBaggage()
    {
        var headers = await PublishFromARequestAsync(static lanes => { });

        Assert.Equal("yellow", Harness.Text(headers["x-nsf-mark"]));
        Assert.Equal("x-nsf-mark=yellow,tenant=acme", Harness.Text(headers["baggage"]));
    }

    /// <summary>
    /// With the runtime hook on (<c>AddDiagnosticsPropagation()</c>) and RabbitMQ.Client's publisher Activity sampled
    /// (what OpenTelemetry's RabbitMQ tracing sets up), RabbitMQ.Client injects trace context through the runtime's
    /// propagator after Lanes wrote its headers: the lane header and <c>baggage</c> stay the ones Lanes wrote.
    /// </summary>
    [Fact]
    public async Task Publish_WithDiagnosticsPropagationAndATracedPublisher_KeepsTheLaneHeaderAndBaggageLanesWrote()
    {
        var publishes = 0;
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = static source => source.Name == "RabbitMQ.Client.Publisher",
            Sample = static (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _ => Interlocked.Increment(ref publishes),
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        var headers = await PublishFromARequestAsync(static lanes => lanes.AddDiagnosticsPropagation());

        Assert.True(publishes > 0, "RabbitMQ.Client started no publisher Activity: the hook was not exercised");
        Assert.True(headers.ContainsKey("traceparent"), "RabbitMQ.Client injected no trace context");
        Assert.Equal("yellow", Harness.Text(headers["x-nsf-mark"]));
        Assert.Equal("x-nsf-mark=yellow,tenant=acme", Harness.Text(headers["baggage"]));
    }

    /// <summary>
    /// <c>Lanes:Propagators</c> with every carrier (docs/polyglot.md): the message carries the lane in each, once, so a Java or
    /// Go consumer whose tracer reads <c>tracestate</c>, <c>uberctx-</c> or <c>ot-baggage-</c> gets it; RabbitMQ.Client's
    /// traced publisher, injecting trace context after Lanes, leaves the <c>tracestate</c> Lanes wrote.
    /// </summary>
    [Fact]
    public async Task Publish_WithEveryCarrier_CarriesTheLaneInEach_AndATracedPublisherKeepsThem()
    {
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = static source => source.Name is "RabbitMQ.Client.Publisher" or "Microsoft.AspNetCore",
            Sample = static (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        var headers = await PublishFromARequestAsync(
            static lanes => lanes.AddDiagnosticsPropagation(),
            "header, baggage, tracecontext, jaeger, ottrace",
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("tracestate", "congo=t61rcWkgMzE"));

        Assert.Equal("yellow", Harness.Text(headers["x-nsf-mark"]));
        Assert.Equal("x-nsf-mark=yellow,tenant=acme", Harness.Text(headers["baggage"]));
        Assert.Equal("x-nsf-mark=yellow,congo=t61rcWkgMzE", Harness.Text(headers["tracestate"]));
        Assert.Equal("yellow", Harness.Text(headers["uberctx-x-nsf-mark"]));
        Assert.Equal("yellow", Harness.Text(headers["ot-baggage-x-nsf-mark"]));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c"[16..], Harness.Text(headers["ot-tracer-traceid"]));
    }

    [Fact]
    public async Task Publish_InAScope_CarriesTheScopesLane_AndOutsideAnyCarriesNothing()
    {
        var queue = Broker.NewName("scope");
        var propagator = Harness.Nsf();
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);

        await Harness.PublishAsync(channel, propagator, string.Empty, "in-scope", "blue", queue);
        await Harness.PublishAsync(channel, propagator, string.Empty, "outside", null, queue);
        using (LaneContext.Begin("yellow"))
        {
            var own = new BasicProperties { MessageId = "own", Headers = new Dictionary<string, object?> { ["x-nsf-mark"] = "red" } };
            await channel.BasicPublishWithLaneAsync(propagator, string.Empty, queue, own, "own"u8.ToArray());
        }

        var inScope = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties.Headers!;
        var outside = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties.Headers;
        var appSet = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties.Headers!;

        Assert.Equal("blue", Harness.Text(inScope["x-nsf-mark"]));
        Assert.Equal("x-nsf-mark=blue", Harness.Text(inScope["baggage"]));
        Assert.True(outside is null || (!outside.ContainsKey("x-nsf-mark") && !outside.ContainsKey("baggage")));
        Assert.Equal("red", Harness.Text(appSet["x-nsf-mark"]));
        Assert.Equal("x-nsf-mark=red", Harness.Text(appSet["baggage"]));
    }

    /// <summary>
    /// For a publisher and a consumer of one's own: <c>InjectLane</c> writes the scope's lane and baggage member into the
    /// properties (and nothing outside a lane), <c>ExtractLane</c> resolves a delivered message's lane from them, and
    /// a header that is not a lane (invalid UTF-8) resolves to no lane instead of throwing.
    /// </summary>
    [Fact]
    public async Task InjectLaneAndExtractLane_OnPropertiesOfOnesOwn_CarryTheLaneAcrossTheBroker()
    {
        var queue = Broker.NewName("own");
        var propagator = Harness.Nsf();
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        var inLane = new BasicProperties();
        var outside = new BasicProperties();
        var garbage = new BasicProperties { Headers = new Dictionary<string, object?> { ["x-nsf-mark"] = new byte[] { 0xff, 0xfe, 0x0d, 0x0a } } };
        string? written;
        using (LaneContext.Begin("yellow"))
        {
            written = inLane.InjectLane(propagator);
        }

        Assert.Equal("yellow", written);
        Assert.Null(outside.InjectLane(propagator));
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, inLane, "a"u8.ToArray());
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, outside, "b"u8.ToArray());
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, garbage, "c"u8.ToArray());

        var first = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties.ExtractLane(propagator);
        var second = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties.ExtractLane(propagator);
        var third = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties.ExtractLane(propagator);

        Assert.Equal(("yellow", LaneSource.Header), (first.Lane, first.Source));
        Assert.Null(second.Lane);
        Assert.Null(third.Lane);
    }

    /// <summary>A publish inside a shadow copy carries the shadow marker (header and baggage member), and the consumer's side reads it.</summary>
    [Fact]
    public async Task Publish_InAShadowScope_CarriesTheMarker_AndTheMessageResolvesAsAShadowCopy()
    {
        var queue = Broker.NewName("shadow");
        var propagator = Harness.Nsf();
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        using (LaneContext.BeginShadow("yellow"))
        {
            await channel.BasicPublishWithLaneAsync(propagator, string.Empty, queue, null, "s"u8.ToArray());
        }

        await Harness.PublishAsync(channel, propagator, string.Empty, "plain", "yellow", queue);

        var shadow = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties;
        var plain = (await channel.BasicGetAsync(queue, autoAck: true))!.BasicProperties;
        Assert.Equal("1", Harness.Text(shadow.Headers!["x-lanes-shadow"]));
        Assert.Equal("x-nsf-mark=yellow,lanes-shadow=1", Harness.Text(shadow.Headers!["baggage"]));
        Assert.Equal(("yellow", true), (shadow.ExtractLane(propagator).Lane, shadow.ExtractLane(propagator).IsShadow));
        Assert.Equal(("yellow", false), (plain.ExtractLane(propagator).Lane, plain.ExtractLane(propagator).IsShadow));
    }

    /// <summary>
    /// A service (nsf preset, plus <paramref name="lanes"/>) whose endpoint publishes one message; a request in lane
    /// yellow with the baggage member <c>tenant=acme</c> calls it. Returns the headers the message arrived with.
    /// </summary>
    private async Task<IDictionary<string, object?>> PublishFromARequestAsync(Action<ILanesBuilder> lanes, string? propagators = null, params (string Name, string Value)[] extra)
    {
        var queue = Broker.NewName("req");
        await using var channel = await Harness.PublisherAsync(broker.Connection);
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await using var app = await TestServers.StartAsync(
            b => lanes(b.Services.AddLanes(o =>
            {
                o.Preset = "nsf";
                o.Propagators = propagators;
            })),
            app =>
            {
                app.UseLanes();
                app.MapPost("/order", async (LanePropagator propagator) =>
                {
                    await channel.BasicPublishWithLaneAsync(propagator, string.Empty, queue, new BasicProperties { MessageId = "o1" }, "order"u8.ToArray());
                    return Results.Accepted();
                });
            });
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/order");
        request.Headers.Add("x-nsf-mark", "yellow");
        request.Headers.Add("baggage", "tenant=acme");
        foreach (var (name, value) in extra)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        var got = await channel.BasicGetAsync(queue, autoAck: true);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.NotNull(got);
        return got!.BasicProperties.Headers!;
    }
}
