using System.Diagnostics;
using Lanes.Testing;
using OpenTelemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// DESIGN 4: an outgoing call carries exactly one lane member in <c>baggage</c>, merged with every member that would
/// be sent without Lanes, with or without the OpenTelemetry SDK, under any runtime propagator; trace context is
/// forwarded as the runtime forwards it. Real Kestrel, real HttpClient, WireMock.Net upstream.
/// </summary>
/// <remarks>Runs alone: OpenTelemetry's default propagator, Activity listeners and the runtime propagator are process-wide.</remarks>
[Collection(ProcessWideHookGroup.Name)]
public sealed class BaggagePropagationTests
{
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string Traceparent = "00-" + TraceId + "-b7ad6b7169203331-01";

    /// <summary>Sends one request to a <see cref="BaggageService"/> and returns what the upstream received.</summary>
    private static async Task<Received> CallAsync(BaggageSetup setup, string query, params (string Name, string Value)[] headers)
    {
        using var upstream = Upstreams.Start();
        await using var service = await BaggageService.StartAsync(new Uri(upstream.Url!), setup);
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/call" + query);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        // The test's own client must not be traced: OpenTelemetry's HttpClient listener is process-wide and would
        // replace the traceparent this test sends with one of its own.
        using (SuppressInstrumentationScope.Begin())
        {
            using var response = await client.SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
        }

        return Received.From(upstream);
    }

    private static readonly (string, string)[] Inbound =
    [
        ("x-mspider-lane", "yellow"),
        ("baggage", "userId=alice, x-mspider-lane=blue"),
        ("traceparent", Traceparent),
        ("tracestate", "vendor=opaque"),
    ];

    [Fact]
    public async Task NoOpenTelemetry_InboundBaggage_LaneMemberOnceWithEveryInboundMember()
    {
        var received = await CallAsync(new BaggageSetup(), "", Inbound);

        received.AssertLaneOnce("yellow");
        Assert.Contains("userId=alice", received.Baggage);
        Assert.Equal("yellow", received.LaneHeader);
    }

    [Fact]
    public async Task NoOpenTelemetry_ActivityBaggage_IsMerged()
    {
        var received = await CallAsync(new BaggageSetup(), "?activity=tenant:t%201", Inbound);

        received.AssertLaneOnce("yellow");
        Assert.Contains("tenant=t 1", received.Baggage);
        Assert.Contains("userId=alice", received.Baggage);
    }

    [Fact]
    public async Task NoOpenTelemetrySdk_BaggageCurrent_IsMerged()
    {
        var received = await CallAsync(new BaggageSetup(), "?otel=flag:on", Inbound);

        received.AssertLaneOnce("yellow");
        Assert.Contains("flag=on", received.Baggage);
        Assert.Contains("userId=alice", received.Baggage);
    }

    [Fact]
    public async Task OpenTelemetrySdk_WithLanes_LaneMemberOnceWithEveryMember()
    {
        var received = await CallAsync(new BaggageSetup { OpenTelemetry = true }, "?activity=tenant:t1&otel=flag:on", Inbound);

        received.AssertLaneOnce("yellow");
        Assert.Contains("userId=alice", received.Baggage);
        Assert.Contains("flag=on", received.Baggage);
        Assert.Contains("tenant=t1", received.Baggage);
        Assert.Equal("yellow", received.LaneHeader);
        Assert.StartsWith("00-" + TraceId + "-", received.Traceparent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenTelemetrySdk_WithoutWithLanes_RuntimeHookKeepsTheLaneMember()
    {
        var received = await CallAsync(new BaggageSetup { OpenTelemetry = true, WithLanes = false, Hook = true }, "?otel=flag:on", Inbound);

        received.AssertLaneOnce("yellow");
        Assert.Contains("userId=alice", received.Baggage);
        Assert.Contains("flag=on", received.Baggage);
    }

    [Fact]
    public async Task OpenTelemetrySdk_NeitherWithLanesNorHook_StillSendsTheLaneHeader()
    {
        // Documented limit: OpenTelemetry's HttpClient instrumentation replaces 'baggage' after the Lanes handler ran.
        var received = await CallAsync(new BaggageSetup { OpenTelemetry = true, WithLanes = false }, "", Inbound);

        Assert.Equal("yellow", received.LaneHeader);
        Assert.Contains("userId=alice", received.Baggage);
    }

    [Fact]
    public async Task LaneOnlyInBaggage_IsReEmittedAsTheCanonicalHeader()
    {
        var received = await CallAsync(new BaggageSetup(), "", ("baggage", "x-mspider-lane=yellow,userId=alice"));

        Assert.Equal("yellow", received.LaneHeader);
        received.AssertLaneOnce("yellow");
        Assert.Contains("userId=alice", received.Baggage);
    }

    [Fact]
    public async Task AppSetBaggageHeader_IsKept_LaneMemberAdded()
    {
        var received = await CallAsync(new BaggageSetup(), "?app=order%3D42%2Cx-mspider-lane%3Dblue", ("x-mspider-lane", "yellow"));

        received.AssertLaneOnce("yellow");
        Assert.Contains("order=42", received.Baggage);
    }

    [Fact]
    public async Task AppSetLaneHeader_IsKept_AndTheBaggageMemberRepeatsIt()
    {
        var received = await CallAsync(new BaggageSetup(), "?header=blue", ("x-mspider-lane", "yellow"));

        Assert.Equal("blue", received.LaneHeader);
        received.AssertLaneOnce("blue");
    }

    [Fact]
    public async Task NewHttpClient_ThroughTheRuntimeHook_LaneMemberOnce()
    {
        var received = await CallAsync(new BaggageSetup { Hook = true }, "?client=new&activity=tenant:t1", Inbound);

        Assert.Equal("yellow", received.LaneHeader);
        received.AssertLaneOnce("yellow");
        Assert.Contains("tenant=t1", received.Baggage);
        Assert.Contains("userId=alice", received.Baggage);
    }

    [Fact]
    public async Task BaggageDisabled_SendsNoLaneMember()
    {
        using var upstream = Upstreams.Start();
        await using var service = await TestServers.StartAsync(
            b =>
            {
                b.Services.AddLanes(o => o.EnableBaggage = false);
                b.Services.AddHttpClient("up", c => c.BaseAddress = new Uri(upstream.Url!)).AddLanePropagation();
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/call", async (IHttpClientFactory f) => (await f.CreateClient("up").GetAsync(new Uri("/up", UriKind.Relative))).StatusCode);
            },
            new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });

        using var response = await service.CreateClient().SendAsync(new HttpRequestMessage(HttpMethod.Get, "/call") { Headers = { { "x-mspider-lane", "yellow" } } });

        var received = Received.From(upstream);
        Assert.Equal("yellow", received.LaneHeader);
        Assert.DoesNotContain(received.Baggage, static m => m.StartsWith("x-mspider-lane=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("x-nsf-mark=bad%0Avalue", ",userId=alice")]
    [InlineData("x-nsf-mark=dev1,x-nsf-mark=dev2", ",userId=alice")]
    [InlineData("x-nsf-mark=bad%0Avalue", "")]
    public async Task NoLane_InvalidInboundLaneMember_IsNotForwarded_OtherMembersAre(string laneMember, string others)
    {
        // No default lane (nsf): an invalid or ambiguous lane member resolves to no lane. The runtime copies inbound
        // baggage into Activity baggage and would send it on; Lanes removes the lane member from the outgoing call.
        using var upstream = Upstreams.Start();
        await using var service = await TestServers.StartAsync(
            b =>
            {
                b.Services.AddLanes();
                b.Services.AddHttpClient("up", c => c.BaseAddress = new Uri(upstream.Url!)).AddLanePropagation();
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/call", async (IHttpClientFactory f) => (await f.CreateClient("up").GetAsync(new Uri("/up", UriKind.Relative))).StatusCode);
            },
            new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
        request.Headers.TryAddWithoutValidation("baggage", laneMember + others);
        request.Headers.TryAddWithoutValidation("traceparent", Traceparent);

        using (SuppressInstrumentationScope.Begin())
        {
            using var response = await service.CreateClient().SendAsync(request);
            Assert.Equal(200, (int)response.StatusCode);
        }

        Assert.Null(Assert.Single(upstream.ReceivedHeader("/up", "x-nsf-mark")));
        var members = BaggageService.Members(Assert.Single(upstream.ReceivedHeader("/up", "baggage")) ?? string.Empty);
        Assert.DoesNotContain(members, static m => m.StartsWith("x-nsf-mark", StringComparison.Ordinal));
        Assert.Equal(others.Length > 0, members.Contains("userId=alice"));
    }

    public static TheoryData<string> RuntimePropagators => ["W3C", "PreW3C", "PassThrough", "NoOutput"];

    [Theory]
    [MemberData(nameof(RuntimePropagators))]
    public async Task AnyRuntimePropagator_LaneMemberOnce_TraceContextAsWithoutLanes(string kind)
    {
        var previous = DistributedContextPropagator.Current;
        DistributedContextPropagator.Current = kind switch
        {
            "W3C" => DistributedContextPropagator.CreateW3CPropagator(),
            "PreW3C" => DistributedContextPropagator.CreatePreW3CPropagator(),
            "PassThrough" => DistributedContextPropagator.CreatePassThroughPropagator(),
            _ => DistributedContextPropagator.CreateNoOutputPropagator(),
        };
        try
        {
            var withLanes = await CallAsync(new BaggageSetup(), "?activity=tenant:t1", Inbound);
            var without = await CallAsync(new BaggageSetup { Lanes = false }, "?activity=tenant:t1", Inbound);

            withLanes.AssertLaneOnce("yellow");
            Assert.Equal(without.Traceparent is null, withLanes.Traceparent is null);
            Assert.Equal(without.Traceparent?[..36], withLanes.Traceparent?[..36]);
            Assert.Equal(without.Tracestate, withLanes.Tracestate);
            Assert.Equal(without.CorrelationContext, withLanes.CorrelationContext);

            // Every member the runtime sent without Lanes is still sent, except another lane member; plus the lane member.
            var others = without.Baggage.Where(static m => !m.StartsWith("x-mspider-lane=", StringComparison.Ordinal)).ToList();
            Assert.All(others, member => Assert.Contains(member, withLanes.Baggage));
            Assert.Equal(others.Count + 1, withLanes.Baggage.Count);
        }
        finally
        {
            DistributedContextPropagator.Current = previous;
        }
    }

    [Fact]
    public async Task TraceContext_IsForwardedAsTheRuntimeForwardsItWithoutLanes()
    {
        var withLanes = await CallAsync(new BaggageSetup(), "", Inbound);
        var without = await CallAsync(new BaggageSetup { Lanes = false }, "", Inbound);

        Assert.StartsWith("00-" + TraceId + "-", without.Traceparent, StringComparison.Ordinal);
        Assert.StartsWith("00-" + TraceId + "-", withLanes.Traceparent, StringComparison.Ordinal);
        Assert.Equal("vendor=opaque", without.Tracestate);
        Assert.Equal(without.Tracestate, withLanes.Tracestate);
    }

    private sealed record Received(string? LaneHeader, List<string> Baggage, string? Traceparent, string? Tracestate, string? CorrelationContext)
    {
        public static Received From(WireMockServer upstream)
        {
            var baggage = Assert.Single(upstream.ReceivedHeader("/up", "baggage"));
            return new Received(
                Assert.Single(upstream.ReceivedHeader("/up", "x-mspider-lane")),
                BaggageService.Members(baggage),
                Assert.Single(upstream.ReceivedHeader("/up", "traceparent")),
                Assert.Single(upstream.ReceivedHeader("/up", "tracestate")),
                Assert.Single(upstream.ReceivedHeader("/up", "Correlation-Context")));
        }

        public void AssertLaneOnce(string lane)
        {
            var laneMembers = Baggage.Where(static m => m.StartsWith("x-mspider-lane=", StringComparison.Ordinal)).ToList();
            Assert.Equal(["x-mspider-lane=" + lane], laneMembers);
            var keys = Baggage.Select(static m => m[..m.IndexOf('=', StringComparison.Ordinal)]).ToList();
            Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        }
    }
}
