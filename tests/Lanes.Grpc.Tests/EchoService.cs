using Grpc.Core;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc.Tests;

/// <summary>Answers every call type with what the server saw.</summary>
internal sealed class EchoService(EchoService.Identity identity, LanePropagator propagator) : Echo.EchoBase
{
    internal sealed record Identity(string Name);

    public override Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) => Task.FromResult(Reply(context, 1));

    public override async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
    {
        var count = 0;
        await foreach (var _ in requestStream.ReadAllAsync(context.CancellationToken))
        {
            count++;
        }

        return Reply(context, count);
    }

    public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        for (var i = 1; i <= 2; i++)
        {
            await responseStream.WriteAsync(Reply(context, i));
        }
    }

    public override async Task Duplex(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
    {
        var count = 0;
        await foreach (var _ in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(Reply(context, ++count));
        }
    }

    private EchoReply Reply(ServerCallContext context, int messages)
    {
        var reply = Build(context, messages);
        foreach (var entry in context.RequestHeaders)
        {
            reply.Headers[entry.Key] = reply.Headers.TryGetValue(entry.Key, out var earlier) ? earlier + "\n" + entry.Value : entry.Value;
        }

        return reply;
    }

    private EchoReply Build(ServerCallContext context, int messages) => new()
    {
        ContextSource = LanesDiagnostics.GetSourceName(LaneContext.CurrentSource),
        Instance = identity.Name,
        CallLane = context.GetLane() ?? string.Empty,
        ContextLane = LaneContext.Current ?? string.Empty,
        LaneHeader = string.Join(",", context.RequestHeaders.Where(e => e.Key == propagator.HeaderName).Select(static e => e.Value)),
        Baggage = string.Join(",", context.RequestHeaders.Where(static e => e.Key == "baggage").Select(static e => e.Value)),
        Custom = context.RequestHeaders.GetValue("x-custom") ?? string.Empty,
        DeadlineSeconds = context.Deadline == DateTime.MaxValue ? -1 : (context.Deadline - DateTime.UtcNow).TotalSeconds,
        Messages = messages,
    };
}

internal static class GrpcServers
{
    /// <summary>A gRPC server over h2c on 127.0.0.1 behind <c>app.UseLanes()</c>, with the given lane options.</summary>
    public static Task<RunningServer> StartEchoAsync(string name, IDictionary<string, string?>? lanes = null)
        => TestServers.StartAsync(
            builder =>
            {
                builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = HttpProtocols.Http2));
                builder.Services.AddLanes();
                builder.Services.AddGrpc();
                builder.Services.AddSingleton(new EchoService.Identity(name));
            },
            static app =>
            {
                app.UseLanes();
                app.MapGrpcService<EchoService>();
            },
            lanes ?? new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider", ["Lanes:DefaultLane"] = string.Empty });
}
