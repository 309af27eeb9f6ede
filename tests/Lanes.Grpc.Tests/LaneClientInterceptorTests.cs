using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Core.Interceptors;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc.Tests;

/// <summary>The interceptor on a real gRPC server over HTTP/2 (h2c): every call type, the server's view, metadata rules.</summary>
public sealed class LaneClientInterceptorTests : IAsyncLifetime
{
    private RunningServer _server = null!;
    private ServiceProvider _client = null!;

    public async Task InitializeAsync()
    {
        _server = await GrpcServers.StartEchoAsync("echo");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLanes(static o => o.UsePreset("mspider").DefaultLane = string.Empty);
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = _server.Address).AddGrpcLanePropagation();
        _client = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Echo.EchoClient Client => _client.GetRequiredService<Echo.EchoClient>();

    public static TheoryData<string> CallTypes => ["unary", "blocking", "client-stream", "server-stream", "duplex"];

    private static async Task<EchoReply> CallAsync(Echo.EchoClient client, string type, CallOptions options = default)
    {
        switch (type)
        {
            case "unary":
                return await client.UnaryAsync(new EchoRequest(), options);
            case "blocking":
                return await Task.Run(() => client.Unary(new EchoRequest(), options));
            case "client-stream":
                using (var call = client.ClientStream(options))
                {
                    await call.RequestStream.WriteAsync(new EchoRequest());
                    await call.RequestStream.WriteAsync(new EchoRequest());
                    await call.RequestStream.CompleteAsync();
                    return await call;
                }

            case "server-stream":
                using (var call = client.ServerStream(new EchoRequest(), options))
                {
                    EchoReply? last = null;
                    await foreach (var reply in call.ResponseStream.ReadAllAsync())
                    {
                        last = reply;
                    }

                    return last!;
                }

            default:
                using (var call = client.Duplex(options))
                {
                    await call.RequestStream.WriteAsync(new EchoRequest());
                    Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
                    var reply = call.ResponseStream.Current;
                    await call.RequestStream.CompleteAsync();
                    while (await call.ResponseStream.MoveNext(CancellationToken.None))
                    {
                    }

                    return reply;
                }
        }
    }

    [Theory]
    [MemberData(nameof(CallTypes))]
    public async Task EveryCallType_CarriesTheLane_AndTheServerSeesIt(string type)
    {
        EchoReply reply;
        using (LaneContext.Begin("yellow"))
        {
            reply = await CallAsync(Client, type);
        }

        Assert.Equal("yellow", reply.LaneHeader);
        Assert.Equal("x-mspider-lane=yellow", reply.Baggage);
        Assert.Equal("yellow", reply.CallLane);    // ServerCallContext.GetLane()
        Assert.Equal("yellow", reply.ContextLane); // LaneContext.Current in the service method
    }

    [Theory]
    [MemberData(nameof(CallTypes))]
    public async Task NoLane_AddsNoMetadata(string type)
    {
        var reply = await CallAsync(Client, type);

        Assert.Equal(string.Empty, reply.LaneHeader);
        Assert.Equal(string.Empty, reply.Baggage);
        Assert.Equal(string.Empty, reply.CallLane);
    }

    [Theory]
    [MemberData(nameof(CallTypes))]
    public async Task CallerSetLaneEntry_IsKept_OtherEntriesPassThrough_AndTheCallersMetadataIsNotModified(string type)
    {
        var headers = new Metadata { { "x-mspider-lane", "green" }, { "x-custom", "kept" }, { "baggage", "userId=alice" } };

        EchoReply reply;
        using (LaneContext.Begin("yellow"))
        {
            reply = await CallAsync(Client, type, new CallOptions(headers));
        }

        Assert.Equal("green", reply.LaneHeader);
        Assert.Equal("kept", reply.Custom);
        Assert.Equal("x-mspider-lane=green,userId=alice", reply.Baggage);
        Assert.Equal(3, headers.Count);
        Assert.Equal("userId=alice", headers.GetValue("baggage"));
    }

    [Fact]
    public async Task CallerSetInvalidLaneEntry_IsSentAsTheCallerMadeIt_WithoutABaggageMember()
    {
        var headers = new Metadata { { "x-mspider-lane", "gr een" } };

        EchoReply reply;
        using (LaneContext.Begin("yellow"))
        {
            reply = await Client.UnaryAsync(new EchoRequest(), new CallOptions(headers));
        }

        Assert.Equal("gr een", reply.LaneHeader);
        Assert.Equal(string.Empty, reply.Baggage);
        Assert.Equal(string.Empty, reply.CallLane); // the server treats the invalid value as absent
    }

    [Fact]
    public async Task DeadlineAndCancellation_AreUntouched()
    {
        using var cancellation = new CancellationTokenSource();
        EchoReply reply;
        using (LaneContext.Begin("yellow"))
        {
            reply = await Client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellation.Token);
        }

        Assert.InRange(reply.DeadlineSeconds, 20, 30.5);
        Assert.Equal("yellow", reply.LaneHeader);

        await cancellation.CancelAsync();
        using (LaneContext.Begin("yellow"))
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.UnaryAsync(new EchoRequest(), cancellationToken: cancellation.Token));
            Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        }
    }

    [Fact]
    public async Task HandMadeChannel_WithTheInterceptor_CarriesTheLane()
    {
        using var channel = GrpcChannel.ForAddress(_server.Address);
        var client = new Echo.EchoClient(channel.Intercept(new LaneClientInterceptor(_client.GetRequiredService<LanePropagator>())));

        EchoReply reply;
        using (LaneContext.Begin("yellow"))
        {
            reply = await client.UnaryAsync(new EchoRequest());
        }

        Assert.Equal("yellow", reply.LaneHeader);
    }

    [Fact]
    public void AddGrpcLanePropagation_OnAPlainHttpClient_ThrowsAClearError()
    {
        var services = new ServiceCollection();
        services.AddLanes();

        var error = Assert.Throws<InvalidOperationException>(() => services.AddHttpClient("plain").AddGrpcLanePropagation());

        Assert.Contains("gRPC client", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAddLanes_FailsWithAnActionableMessage()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = _server.Address).AddGrpcLanePropagation();
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<Echo.EchoClient>());

        Assert.Contains("services.AddLanes()", error.Message, StringComparison.Ordinal);
    }
}
