using System.Diagnostics;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// One outbound pipeline (DESIGN 4): whichever transport writes the call (the HttpClient handler, the runtime hook for
/// <c>new HttpClient()</c>, OpenTelemetry's HttpClient instrumentation, or several of them on the same call), the
/// upstream receives exactly one <c>baggage</c> line holding exactly one lane member, first, equal to the lane header;
/// and a lane the caller set on the call itself is the one sent. Real Kestrel on both sides; the upstream echoes the raw
/// header lines it received.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class OutboundPipelineTests
{
    public static TheoryData<string> Transports => ["factory", "hook", "opentelemetry", "factory+opentelemetry", "factory+hook+opentelemetry"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task EveryTransport_OneBaggageLine_OneLaneMemberFirst_EveryOtherMemberOnce(string transport)
    {
        var received = await CallAsync(transport, callerLane: null);

        Assert.Equal("yellow", received.Lane);
        var line = Assert.Single(received.Baggage);
        var members = line.Split(',');
        Assert.Equal("x-mspider-lane=yellow", members[0]);
        Assert.Single(members, static m => m.StartsWith("x-mspider-lane=", StringComparison.Ordinal));
        Assert.Equal(members.Length, members.Select(static m => m.Split('=')[0]).Distinct(StringComparer.Ordinal).Count());
        Assert.Contains("userId=alice;p=1", members);                                  // inbound, as it came
        Assert.Contains("tenant=t1", members);                                          // Activity baggage set by the app
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task EveryTransport_ALaneTheCallerSetOnTheCall_IsTheLaneSent(string transport)
    {
        var received = await CallAsync(transport, callerLane: "red");

        Assert.Equal("red", received.Lane);
        var members = Assert.Single(received.Baggage).Split(',');
        Assert.Equal("x-mspider-lane=red", members[0]);
        Assert.Single(members, static m => m.StartsWith("x-mspider-lane=", StringComparison.Ordinal));
    }

    /// <summary>
    /// A yellow request (with inbound baggage) to a service whose <c>/call</c> makes one outgoing call on <paramref name="transport"/>,
    /// adding Activity baggage <c>tenant=t1</c> and, when given, the lane header <paramref name="callerLane"/> on the call.
    /// </summary>
    private static async Task<(string? Lane, string[] Baggage)> CallAsync(string transport, string? callerLane)
    {
        var factory = transport.Contains("factory", StringComparison.Ordinal);
        var hook = transport.Contains("hook", StringComparison.Ordinal);
        var openTelemetry = transport.Contains("opentelemetry", StringComparison.Ordinal);
        await using var upstream = await BaggageForwardingTests.EchoUpstream.StartAsync();
        await using var echo = await TestServers.StartAsync(
            null,
            static app => app.MapGet("/lane", static (HttpContext c) => c.Request.Headers["x-mspider-lane"].ToString()));
        await using var service = await TestServers.StartAsync(
            b =>
            {
                var lanes = b.Services.AddLanes();
                if (hook)
                {
                    lanes.AddDiagnosticsPropagation();
                }

                var client = b.Services.AddHttpClient("up");
                if (factory)
                {
                    client.AddLanePropagation();
                }

                if (openTelemetry)
                {
                    b.Services.AddOpenTelemetry().WithLanes()
                        .WithTracing(static t => t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddInMemoryExporter(new List<Activity>()));
                }
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/call", async (IHttpClientFactory clients) =>
                {
                    using var work = new Activity("app-work").AddBaggage("tenant", "t1").Start();
                    var client = factory ? clients.CreateClient("up") : new HttpClient();
                    try
                    {
                        var baggage = await SendAsync(client, new Uri(upstream.Address, "/up"), callerLane);
                        var lane = await SendAsync(client, new Uri(echo.Address, "/lane"), callerLane);
                        return Results.Json(new { lane, baggage });
                    }
                    finally
                    {
                        if (!factory)
                        {
                            client.Dispose();
                        }
                    }
                });
            },
            new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
        request.Headers.TryAddWithoutValidation("x-mspider-lane", "yellow");
        request.Headers.TryAddWithoutValidation("baggage", "userId=alice;p=1");
        request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        using (SuppressInstrumentationScope.Begin())
        {
            using var response = await service.CreateClient().SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"status {(int)response.StatusCode}");
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var root = json.RootElement;
            var lines = root.GetProperty("baggage").GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return (root.GetProperty("lane").GetString(), lines);
        }
    }

    private static async Task<string> SendAsync(HttpClient client, Uri address, string? callerLane)
    {
        using var call = new HttpRequestMessage(HttpMethod.Get, address);
        if (callerLane is not null)
        {
            call.Headers.TryAddWithoutValidation("x-mspider-lane", callerLane);
        }

        using var response = await client.SendAsync(call);
        return await response.Content.ReadAsStringAsync();
    }
}
