using Grpc.Core;
using Grpc.Net.Client;
using Lanes.Grpc.Routing;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc.Tests;

/// <summary>
/// A lane-routed gRPC client's innermost handler (<see cref="LaneGrpcConnectFailureHandler"/>): under the standard
/// resilience handler (Aspire's ServiceDefaults), a connection to a dead instance answers UNAVAILABLE at once, so the
/// gRPC retry policy picks another instance of the lane; the HTTP retry would try the same dead address with back-off
/// until the call's deadline (what a flaky composition test caught: DeadlineExceeded after 10 s).
/// </summary>
public sealed class ConnectFailureTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RefusedConnection_UnderStandardResilience_IsUnavailableAtOnce_WithOneAttempt(bool withLaneHandler)
    {
        var attempts = 0;
        var services = new ServiceCollection();
        var http = services.AddHttpClient("grpc");
        http.AddStandardResilienceHandler(static o => o.Retry.Delay = TimeSpan.FromMilliseconds(1));
        http.AddHttpMessageHandler(() => new Counting(() => Interlocked.Increment(ref attempts)));
        if (withLaneHandler)
        {
            http.AddHttpMessageHandler(static () => new LaneGrpcConnectFailureHandler());
        }

        await using var provider = services.BuildServiceProvider();
        using var channel = GrpcChannel.ForAddress(
            $"http://127.0.0.1:{ClosedPorts.Next()}",
            new GrpcChannelOptions { HttpClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient("grpc"), DisposeHttpClient = true });
        var client = new Echo.EchoClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(30)));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(withLaneHandler ? 1 : 4, Volatile.Read(ref attempts));   // without it: the standard handler's 3 retries on the same address
    }

    private sealed class Counting(Action counted) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            counted();
            return base.SendAsync(request, cancellationToken);
        }
    }
}
