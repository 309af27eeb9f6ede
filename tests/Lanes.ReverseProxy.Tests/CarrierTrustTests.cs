namespace Lanes.ReverseProxy.Tests;

/// <summary>
/// The gateway and <c>Lanes:Propagators</c> (docs/polyglot.md, "At the gateway"): a client's lane in any carrier Lanes knows,
/// configured or not, never reaches an upstream unless the gateway took it; the gateway's lane goes out in every
/// configured carrier. Received headers are asserted at a real upstream behind real YARP.
/// </summary>
public sealed class CarrierTrustTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    public static TheoryData<string, string, string> ClientCarriers => new()
    {
        { "Ignore", "x-nsf-mark", "dev1" },
        { "Ignore", "baggage", "x-nsf-mark=dev1,user=alice" },
        { "Ignore", "tracestate", "x-nsf-mark=dev1,congo=t61rcWkgMzE" },
        { "Ignore", "uberctx-x-nsf-mark", "dev1" },
        { "Ignore", "ot-baggage-x-nsf-mark", "dev1" },
        { "AcceptDeclared", "uberctx-x-nsf-mark", "dev9" },
        { "AcceptDeclared", "ot-baggage-x-nsf-mark", "dev9" },
        { "AcceptDeclared", "tracestate", "x-nsf-mark=dev9,congo=t61rcWkgMzE" },
    };

    [Theory]
    [MemberData(nameof(ClientCarriers))]
    public async Task UntrustedClientLane_InAnyCarrier_ConfiguredOrNot_ReachesNoUpstream(string trust, string field, string value)
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        foreach (var propagators in new[] { "header, baggage", "header, baggage, tracecontext, jaeger, ottrace" })
        {
            var config = SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("Trust", trust).Lanes("Propagators", propagators)
                .Lanes("Colouring:0:Lane", "dev2x").Lanes("Colouring:0:Query", "colour").Lanes("Colouring:0:Value", "yes");
            await using var gateway = await Gateway.StartAsync(config);

            // Without a lane (a new trace: no client trace state at all), and with one the gateway assigned (the client's trace goes on).
            var (_, plain) = await gateway.SendAsync("/svc1", (field, value), ("traceparent", TraceParent), ("uberctx-user", "alice"));
            var (_, coloured) = await gateway.SendAsync("/svc1?colour=yes", (field, value), ("traceparent", TraceParent), ("uberctx-user", "alice"));

            Assert.Equal("pod2", plain!.Instance);
            foreach (var echo in new[] { plain, coloured! })
            {
                var received = string.Join('\n', echo.Headers.Select(static h => $"{h.Key}: {h.Value}"));
                Assert.DoesNotContain("dev1", received, StringComparison.Ordinal);
                Assert.DoesNotContain("dev9", received, StringComparison.Ordinal);
                Assert.Null(echo.Header("uberctx-x-nsf-mark") is "dev2x" ? null : echo.Header("uberctx-x-nsf-mark"));
                Assert.Equal("alice", echo.Header("uberctx-user"));       // what is not the lane passes as it came
            }

            Assert.Equal("dev2x", coloured!.Header("x-nsf-mark"));
            if (field == "tracestate")
            {
                Assert.Equal(
                    propagators.Contains("tracecontext", StringComparison.Ordinal) ? "x-nsf-mark=dev2x,congo=t61rcWkgMzE" : "congo=t61rcWkgMzE",
                    coloured.Header("tracestate"));
            }

            if (field == "baggage")
            {
                Assert.Equal("x-nsf-mark=dev2x,user=alice", coloured.Header("baggage"));
            }
        }
    }

    [Fact]
    public async Task TrustedLane_FromAnyConfiguredCarrier_IsRouted_AndLeavesInEveryConfiguredCarrier()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        // jaeger is read before tracecontext here: the client's tracestate member (dev7) loses, and is replaced on the way out.
        var config = SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("Trust", "Accept")
            .Lanes("Propagators", "header, jaeger, baggage, tracecontext, ottrace");
        await using var gateway = await Gateway.StartAsync(config);

        var (_, echo) = await gateway.SendAsync(
            "/svc1", ("uberctx-x-nsf-mark", "dev1"), ("traceparent", TraceParent), ("tracestate", "congo=t61rcWkgMzE,x-nsf-mark=dev7"));

        Assert.Equal("pod1", echo!.Instance);
        Assert.Equal("dev1", echo.Header("x-nsf-mark"));
        Assert.Equal("x-nsf-mark=dev1", echo.Header("baggage"));
        Assert.Equal("x-nsf-mark=dev1,congo=t61rcWkgMzE", echo.Header("tracestate"));
        Assert.Equal("dev1", echo.Header("uberctx-x-nsf-mark"));
        Assert.Equal("dev1", echo.Header("ot-baggage-x-nsf-mark"));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c"[16..], echo.Header("ot-tracer-traceid"));
        Assert.NotNull(echo.Header("ot-tracer-spanid"));
    }
}
