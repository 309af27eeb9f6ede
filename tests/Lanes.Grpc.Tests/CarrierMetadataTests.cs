using System.Diagnostics;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc.Tests;

/// <summary>
/// <c>Lanes:Propagators</c> over gRPC (docs/polyglot.md): a call carries the lane in every configured carrier, once each,
/// as metadata a Java or Go server's tracer reads; the server resolves it from whichever carrier arrived.
/// </summary>
public sealed class CarrierMetadataTests
{
    private const string Every = "header, baggage, tracecontext, jaeger, ottrace";

    [Fact]
    public async Task EveryConfiguredCarrier_IsSentOnce_AsMetadata()
    {
        await using var server = await GrpcServers.StartEchoAsync("echo");
        await using var client = Client(server, Every);
        using var activity = new Activity("grpc-carrier-test").SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "congo=t61rcWkgMzE";
        activity.Start();

        EchoReply reply;
        using (LaneContext.Begin("yellow"))
        {
            reply = await client.GetRequiredService<Echo.EchoClient>().UnaryAsync(new EchoRequest());
        }

        Assert.Equal("yellow", reply.Headers["x-mspider-lane"]);
        Assert.Equal("x-mspider-lane=yellow", reply.Headers["baggage"]);
        Assert.Equal("x-mspider-lane=yellow,congo=t61rcWkgMzE", reply.Headers["tracestate"]);
        Assert.Equal("yellow", reply.Headers["uberctx-x-mspider-lane"]);
        Assert.Equal("yellow", reply.Headers["ot-baggage-x-mspider-lane"]);
        Assert.Equal(activity.TraceId.ToHexString()[16..], reply.Headers["ot-tracer-traceid"]);
    }

    [Theory]
    [InlineData("uberctx-x-mspider-lane", "yellow", "jaeger")]
    [InlineData("ot-baggage-x-mspider-lane", "yellow", "ottrace")]
    public async Task TheServer_ResolvesTheLaneFromAConfiguredCarrier(string key, string value, string source)
    {
        await using var server = await GrpcServers.StartEchoAsync(
            "echo", new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider", ["Lanes:DefaultLane"] = string.Empty, ["Lanes:Propagators"] = Every });
        await using var client = Client(server, "header");

        var reply = await client.GetRequiredService<Echo.EchoClient>().UnaryAsync(new EchoRequest(), new global::Grpc.Core.Metadata { { key, value } });

        Assert.Equal("yellow", reply.ContextLane);
        Assert.Equal(source, reply.ContextSource);
    }

    private static ServiceProvider Client(RunningServer server, string propagators)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLanes(o =>
        {
            o.UsePreset("mspider").DefaultLane = string.Empty;
            o.EnableBaggage = propagators.Contains("baggage", StringComparison.Ordinal);
            o.Propagators = propagators;
        });
        services.AddGrpcClient<Echo.EchoClient>(o => o.Address = server.Address).AddGrpcLanePropagation();
        return services.BuildServiceProvider();
    }
}
