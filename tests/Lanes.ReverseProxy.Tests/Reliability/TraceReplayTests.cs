using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests.Reliability;

/// <summary>
/// Under <see cref="LaneTrust.Ignore"/> (and <see cref="LaneTrust.AcceptDeclared"/>) the gateway's lane decision is final at
/// every hop: a client that was once coloured into a lane cannot stay in it by replaying its <c>traceparent</c>, which
/// the services behind the gateway would otherwise use to restore the lane from their trace caches (nsf preset: no default
/// lane, trace cache on). Gateway, hop 1 and hop 2 are real Kestrel servers; hop 1 calls hop 2 through a Lanes client.
/// </summary>
public sealed class TraceReplayTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private sealed record Hops(string Hop1, string Hop2, string Hop1TraceParent);

    [Theory]
    [InlineData("Ignore")]
    [InlineData("AcceptDeclared")]
    public async Task ReplayedTraceparent_AfterAColouredRequest_DoesNotRestoreTheLaneAtAnyHop(string trust)
    {
        // Arrange
        await using var hop2 = await TestServers.StartAsync(
            static b => b.Services.AddLanes(),
            static app =>
            {
                app.UseLanes();
                app.MapGet("/{**rest}", static () => LaneContext.Current ?? "-");
            },
            Nsf);
        await using var hop1 = await TestServers.StartAsync(
            b =>
            {
                b.Services.AddLanes();
                b.Services.AddHttpClient("hop2", c => c.BaseAddress = hop2.Address).AddLanePropagation();
            },
            static app =>
            {
                app.UseLanes();
                app.MapGet("/{**rest}", static async (HttpContext context, IHttpClientFactory factory) =>
                {
                    var next = await factory.CreateClient("hop2").GetStringAsync(new Uri("/", UriKind.Relative));
                    return new Hops(LaneContext.Current ?? "-", next, context.Request.Headers.TraceParent.ToString());
                });
            },
            Nsf);
        var config = new GatewayConfig()
            .Lanes("Preset", "nsf")
            .Lanes("Trust", trust)
            .Lanes("Colouring:0:Lane", "dev1").Lanes("Colouring:0:Cookie", "env").Lanes("Colouring:0:Value", "dev1")
            .Route("svc", "svc")
            .Set("ReverseProxy:Clusters:svc:Destinations:hop1:Address", hop1.Address.ToString());
        await using var gateway = await Gateway.StartAsync(config);
        using var client = gateway.CreateClient();

        // Act
        var coloured = await SendAsync(client, ("cookie", "env=dev1"), ("traceparent", $"00-{TraceId}-b7ad6b7169203331-01"));
        var replayed = await SendAsync(client, ("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01"));

        // Assert
        Assert.Equal(new Hops("dev1", "dev1", coloured.Hop1TraceParent), coloured);
        Assert.Equal("-", replayed.Hop1);
        Assert.Equal("-", replayed.Hop2);
        Assert.DoesNotContain(TraceId, replayed.Hop1TraceParent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewTrace_IsRecordedByListeners_AndLinksTheClientsSpan()
    {
        // Arrange
        var recorded = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "Lanes.ReverseProxy",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = recorded.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        // Act
        var hops = await SendThroughOneHopAsync("Ignore", ("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01"));

        // Assert: hop 1 is in the recorded new trace; the new trace links the client's span.
        var root = Assert.Single(recorded, static a => a.OperationName == "Lanes.Gateway.NewTrace" && a.Links.Any(static l => l.Context.TraceId.ToHexString() == TraceId));
        Assert.Null(root.ParentId);
        Assert.Equal("00f067aa0ba902b7", Assert.Single(root.Links).Context.SpanId.ToHexString());
        Assert.Contains(root.TraceId.ToHexString(), hops.Hop1TraceParent, StringComparison.Ordinal);
        Assert.EndsWith("-01", hops.Hop1TraceParent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrustAccept_ClientTraceIdIsForwarded()
    {
        // Under Accept the client picks its lane anyway; its trace continues through the gateway.
        var hops = await SendThroughOneHopAsync("Accept", ("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01"));

        Assert.Equal("-", hops.Hop1);
        Assert.Contains(TraceId, hops.Hop1TraceParent, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Nsf => new() { ["Lanes:Preset"] = "nsf" };

    /// <summary>One request through a gateway (nsf, <paramref name="trust"/>) to a Lanes service that answers what it received.</summary>
    private static async Task<Hops> SendThroughOneHopAsync(string trust, params (string Name, string Value)[] headers)
    {
        await using var hop1 = await TestServers.StartAsync(
            static b => b.Services.AddLanes(),
            static app =>
            {
                app.UseLanes();
                app.MapGet("/{**rest}", static (HttpContext context) => new Hops(LaneContext.Current ?? "-", "-", context.Request.Headers.TraceParent.ToString()));
            },
            Nsf);
        var config = new GatewayConfig()
            .Lanes("Preset", "nsf")
            .Lanes("Trust", trust)
            .Route("svc", "svc")
            .Set("ReverseProxy:Clusters:svc:Destinations:hop1:Address", hop1.Address.ToString());
        await using var gateway = await Gateway.StartAsync(config);
        using var client = gateway.CreateClient();
        return await SendAsync(client, headers);
    }

    private static async Task<Hops> SendAsync(HttpClient client, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Hops>())!;
    }
}
