using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.ClientFactory;
using Lanes.Grpc.Tests.Protos;
using Lanes.Routing;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// A shadow copy past the gateway (docs/behaviour.md, "Shadow lanes"): a service reads the marker into
/// <see cref="LaneContext.IsShadow"/>, its HttpClient and gRPC calls carry it, and client-side routing never sends a
/// shadow call to another lane's instances: with no instance of its lane it is answered 503 (gRPC <c>Unavailable</c>)
/// locally, counted, and the baseline instance receives nothing.
/// </summary>
public sealed class ShadowRoutingTests
{
    [Fact]
    public async Task HttpHop_AShadowCallWithNoInstanceOfItsLane_Is503AndTheBaselineGetsNothing_ItsOwnLaneGetsTheMarker()
    {
        using var green = Fleet.Http("green");
        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" };
        Fleet.Service(config, "details", "Permissive", null, ("g", green.Url!, "green"));
        await using var service = await TestServers.StartAsync(
            static builder =>
            {
                builder.Services.AddLanes();
                builder.Services.AddHttpClient("details").AddLanePropagation().AddLaneRouting();
            },
            static app =>
            {
                app.UseLanes();
                app.MapGet("/page", async (IHttpClientFactory factory) =>
                {
                    var shadow = LaneContext.IsShadow;
                    using var response = await factory.CreateClient("details").GetAsync(new Uri("http://details/x"));
                    return Results.Json(new Page(shadow, (int)response.StatusCode));
                });
            },
            config);
        using var meter = new MeasurementRecorder(service.App.Services.GetRequiredService<LaneTelemetry>().Meter);
        using var client = service.CreateClient();

        var shadowYellow = await PageAsync(client, "yellow", shadow: true);
        var plainYellow = await PageAsync(client, "yellow", shadow: false);
        var shadowGreen = await PageAsync(client, "green", shadow: true);

        Assert.Equal(new Page(true, 503), shadowYellow);
        Assert.Equal(new Page(false, 200), plainYellow);
        Assert.Equal(new Page(true, 200), shadowGreen);
        var received = green.LogEntries.Select(static e => e.RequestMessage.Headers!).ToList();
        Assert.Equal(2, received.Count);
        Assert.False(received[0].ContainsKey("x-lanes-shadow"));
        Assert.Equal("1", received[1]["x-lanes-shadow"].Single());
        Assert.Equal("x-mspider-lane=green,lanes-shadow=1", received[1]["baggage"].Single());
        var dropped = Assert.Single(meter.Of(LanesDiagnostics.ShadowDroppedInstrument));
        Assert.Equal(("details", "yellow", "no-instance"), (dropped.Tag(LanesDiagnostics.RoutingServiceAttribute), dropped.Tag(LanesDiagnostics.LaneAttribute), dropped.Tag(LanesDiagnostics.ShadowReasonAttribute)));
    }

    /// <summary>
    /// Failover for a shadow call: its lane's only instance refuses the connection (ejected); the call is not retried on
    /// the baseline but answered 503, and the green instance receives nothing (a plain yellow call after it does reach green).
    /// </summary>
    [Fact]
    public async Task HttpHop_AShadowCallWhoseLaneInstanceRefuses_IsNotRetriedOnTheBaseline()
    {
        using var green = Fleet.Http("green");
        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" };
        Fleet.Service(config, "details", "Permissive", null, ("y", Fleet.Dead(), "yellow"), ("g", green.Url!, "green"));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddLanes();
        builder.Services.AddHttpClient("details").AddLanePropagation().AddLaneRouting();
        using var host = builder.Build();
        await host.StartAsync();
        var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("details");

        HttpResponseMessage shadow;
        using (LaneContext.BeginShadow("yellow"))
        {
            shadow = await http.GetAsync(new Uri("http://details/x"));
        }

        HttpResponseMessage plain;
        using (LaneContext.Begin("yellow"))
        {
            plain = await http.GetAsync(new Uri("http://details/x"));
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, shadow.StatusCode);
        Assert.Contains("shadow copy", await shadow.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Single(green.LogEntries);
        Assert.False(green.LogEntries.Single().RequestMessage.Headers!.ContainsKey("x-lanes-shadow"));
        await host.StopAsync();
    }

    [Fact]
    public async Task GrpcHop_AShadowCallWithNoInstanceOfItsLane_IsUnavailableAndTheBaselineGetsNothing_ItsOwnLaneGetsTheMarker()
    {
        var counter = new CountingInterceptor();
        await using var green = await Fleet.GrpcAsync("green", counter);
        var config = new Dictionary<string, string?>(Fleet.NsfLanes);
        Fleet.Service(config, "reviews", "Permissive", null, ("g", green.Address.ToString().TrimEnd('/'), "green"));
        config["Lanes:Services:reviews:Metadata:laneBaseline"] = "green";
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddLanes();
        builder.Services.AddGrpcClient<Echo.EchoClient>(static o => o.Address = new Uri("lanes:///reviews")).AddGrpcLaneRouting();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>(nameof(Echo.EchoClient));

        RpcException refused;
        using (LaneContext.BeginShadow("yellow"))
        {
            refused = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(20)));
        }

        EchoReply fallback;
        using (LaneContext.Begin("yellow"))
        {
            fallback = await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
        }

        EchoReply own;
        using (LaneContext.BeginShadow("green"))
        {
            own = await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(20));
        }

        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("shadow copy", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, counter.Calls);
        Assert.False(fallback.Headers.ContainsKey("x-lanes-shadow"));
        Assert.Equal(("green", "1", "x-nsf-mark=green,lanes-shadow=1"), (own.Instance, own.Headers["x-lanes-shadow"], own.Baggage));
        await host.StopAsync();
    }

    private static async Task<Page> PageAsync(HttpClient client, string lane, bool shadow)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/page");
        request.Headers.Add("x-mspider-lane", lane);
        if (shadow)
        {
            request.Headers.Add("x-lanes-shadow", "1");
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Page>())!;
    }

    private sealed record Page(bool Shadow, int Status);

    private sealed class CountingInterceptor : Interceptor
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            Interlocked.Increment(ref _calls);
            return continuation(request, context);
        }
    }
}
