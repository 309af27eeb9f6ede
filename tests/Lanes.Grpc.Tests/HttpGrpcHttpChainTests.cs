using Grpc.Core;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc.Tests;

/// <summary>A gRPC hop in the middle of an HTTP chain: client → productpage (HTTP) → reviews (gRPC) → ratings (HTTP, WireMock).</summary>
public sealed class HttpGrpcHttpChainTests
{
    private sealed class ReviewsService(IHttpClientFactory clients) : Echo.EchoBase
    {
        public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
        {
            using var response = await clients.CreateClient("ratings").GetAsync("/ratings", context.CancellationToken);
            return new EchoReply { Instance = "reviews", CallLane = context.GetLane() ?? string.Empty };
        }
    }

    [Theory]
    [InlineData("x-mspider-laneid", "yellow", "yellow")]
    [InlineData("x-mspider-lane", "yellow", "yellow")]
    [InlineData("baggage", "x-mspider-lane=yellow", "yellow")]
    [InlineData(null, null, "green")]
    public async Task LaneSurvivesTheGrpcHop(string? header, string? value, string expected)
    {
        using var ratings = Upstreams.Start();
        var mspider = new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" };
        await using var reviews = await TestServers.StartAsync(
            builder =>
            {
                builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = HttpProtocols.Http2));
                builder.Services.AddLanes();
                builder.Services.AddGrpc();
                builder.Services.AddHttpClient("ratings", c => c.BaseAddress = new Uri(ratings.Url!)).AddLanePropagation();
            },
            static app =>
            {
                app.UseLanes();
                app.MapGrpcService<ReviewsService>();
            },
            mspider);
        await using var productpage = await TestServers.StartAsync(
            builder =>
            {
                builder.Services.AddLanes();
                builder.Services.AddGrpcClient<Echo.EchoClient>(o => o.Address = reviews.Address).AddGrpcLanePropagation();
            },
            static app =>
            {
                app.UseLanes();
                app.MapGet("/productpage", static async (Echo.EchoClient client) => (await client.UnaryAsync(new EchoRequest())).CallLane);
            },
            mspider);

        using var http = productpage.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/productpage");
        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await http.SendAsync(request);
        var reviewsLane = await response.Content.ReadAsStringAsync();

        Assert.Equal(StatusCodes.Status200OK, (int)response.StatusCode);
        Assert.Equal(expected, reviewsLane);
        Assert.Equal([expected], ratings.ReceivedHeader("/ratings", "x-mspider-lane"));
        Assert.StartsWith($"x-mspider-lane={expected}", ratings.ReceivedHeader("/ratings", "baggage").Single(), StringComparison.Ordinal);
    }
}
