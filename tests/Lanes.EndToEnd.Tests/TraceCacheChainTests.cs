using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// The mspider case (DESIGN 4, trace cache): service A receives <c>x-mspider-lane: yellow</c>, calls X, a service
/// without Lanes that forwards only <c>traceparent</c>; X calls back into A, which restores <c>yellow</c> from the trace
/// id, and A's next downstream call carries it. All on real Kestrel; the final upstream is WireMock.Net.
/// </summary>
public sealed class TraceCacheChainTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private sealed class Chain : IAsyncDisposable
    {
        public required WireMockServer Final { get; init; }

        public required RunningServer A { get; init; }

        public required RunningServer X { get; init; }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await X.DisposeAsync();
            Final.Dispose();
        }
    }

    /// <summary>A: <c>/start</c> calls X <c>/relay</c>; <c>/callback</c> calls the final upstream. X: <c>/relay</c> calls A <c>/callback</c> with only the traceparent it received.</summary>
    private static async Task<Chain> StartAsync(int traceCacheSize = 1024)
    {
        var final = Upstreams.Start();
        var aAddress = new TaskCompletionSource<Uri>();
        var x = await TestServers.StartAsync(
            b => b.Services.AddHttpClient(),
            app => app.MapGet("/relay", async (HttpContext context, IHttpClientFactory factory) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(await aAddress.Task, "/callback"));
                if (context.Request.Headers.TryGetValue("traceparent", out var traceparent))
                {
                    request.Headers.TryAddWithoutValidation("traceparent", traceparent.ToString());
                }

                // A plain client: no lane header, no baggage; only the traceparent set above.
                using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });
                using var response = await client.SendAsync(request);
                return Results.StatusCode((int)response.StatusCode);
            }));
        var a = await TestServers.StartAsync(
            b =>
            {
                b.Services.AddLanes(o => o.TraceCacheSize = traceCacheSize);
                b.Services.AddHttpClient("x", c => c.BaseAddress = x.Address).AddLanePropagation();
                b.Services.AddHttpClient("final", c => c.BaseAddress = new Uri(final.Url!)).AddLanePropagation();
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/start", async (IHttpClientFactory f) => (int)(await f.CreateClient("x").GetAsync(new Uri("/relay", UriKind.Relative))).StatusCode);
                app.MapGet("/callback", async (IHttpClientFactory f) =>
                {
                    using var response = await f.CreateClient("final").GetAsync(new Uri("/final", UriKind.Relative));
                    return Results.Text(LaneContext.CurrentSource.ToString());
                });
            },
            new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });
        aAddress.SetResult(a.Address);
        return new Chain { Final = final, A = a, X = x };
    }

    private static async Task StartTraceAsync(Chain chain, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/start");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await chain.A.CreateClient().SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task LaneLostThroughNonLanesService_IsRestoredFromTraceId()
    {
        await using var chain = await StartAsync();

        await StartTraceAsync(chain, ("x-mspider-lane", "yellow"), ("traceparent", $"00-{TraceId}-b7ad6b7169203331-01"));

        Assert.Equal("yellow", Assert.Single(chain.Final.ReceivedHeader("/final", "x-mspider-lane")));
        Assert.Contains("x-mspider-lane=yellow", BaggageService.Members(Assert.Single(chain.Final.ReceivedHeader("/final", "baggage"))));
        Assert.Contains(TraceId, Assert.Single(chain.Final.ReceivedHeader("/final", "traceparent")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoInboundTraceparent_ATracesItself_AndStillRestoresTheLane()
    {
        await using var chain = await StartAsync();

        await StartTraceAsync(chain, ("x-mspider-lane", "yellow"));

        Assert.Equal("yellow", Assert.Single(chain.Final.ReceivedHeader("/final", "x-mspider-lane")));
    }

    [Fact]
    public async Task CacheOff_LaneIsLost_DefaultApplies()
    {
        await using var chain = await StartAsync(traceCacheSize: 0);

        await StartTraceAsync(chain, ("x-mspider-lane", "yellow"), ("traceparent", $"00-{TraceId}-b7ad6b7169203331-01"));

        Assert.Equal("green", Assert.Single(chain.Final.ReceivedHeader("/final", "x-mspider-lane")));
    }

    [Fact]
    public async Task AnotherTrace_DoesNotGetTheLane()
    {
        await using var chain = await StartAsync();
        await StartTraceAsync(chain, ("x-mspider-lane", "yellow"), ("traceparent", $"00-{TraceId}-b7ad6b7169203331-01"));

        using var callback = new HttpRequestMessage(HttpMethod.Get, "/callback");
        callback.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using var response = await chain.A.CreateClient().SendAsync(callback);

        Assert.Equal(["yellow", "green"], chain.Final.ReceivedHeader("/final", "x-mspider-lane"));
        Assert.Equal("Default", await response.Content.ReadAsStringAsync());
    }
}
