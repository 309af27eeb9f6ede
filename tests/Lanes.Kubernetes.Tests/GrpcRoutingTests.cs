using Grpc.Core;
using Grpc.Net.ClientFactory;
using k8s;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// A gRPC client (<c>lanes:///reviews</c>) in a cluster without a mesh: the balancer's instances and lanes come from
/// the same Kubernetes provider, over the Service's first port (named <c>grpc</c>, not <c>http</c>), and follow a relabel.
/// </summary>
public sealed class GrpcRoutingTests
{
    [Fact]
    public async Task LanesScheme_RoutesEachCallToItsLanesPod_AndFollowsARelabel()
    {
        await using var api = await FakeKubernetes.StartAsync();
        await using var pods = await PodServers.StartAsync(grpc: true, "pod1", "pod2");
        api.Apply(Objects.Service("reviews", new Dictionary<string, string> { [Objects.HangoMark] = "dev1,dev2" }, ("grpc", 50051)));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Pod("pod2", null));
        api.Apply(Objects.Slice("reviews-x", "reviews", pods.Port, [pods.Endpoint("pod1"), pods.Endpoint("pod2")], portName: "grpc"));

        using var logs = new InMemoryLoggerProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" });
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<IKubernetes>(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() }));
        builder.Services.AddKubernetesServiceEndpoints(static o => o.UseHango().DefaultPolicy = Lanes.Routing.LanePolicy.Declared);
        builder.Services.AddGrpcClient<Echo.EchoClient>("reviews", static o => o.Address = new Uri("lanes:///reviews")).AddGrpcLaneRouting();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>("reviews");

        async Task<string> CallAsync(string? lane)
        {
            using (LaneContext.Begin(lane))
            {
                try
                {
                    var reply = await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                    return $"{reply.Instance} {reply.CallLane}".TrimEnd();
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    return "503";
                }
            }
        }

        Assert.Equal("pod1 dev1", await CallAsync("dev1"));
        Assert.Equal("pod2", await CallAsync(null));
        Assert.Equal("503", await CallAsync("dev2"));
        Assert.Equal("pod2 dev3", await CallAsync("dev3"));

        api.Apply(Objects.Pod("pod2", "dev2"));
        await Wait.ForAsync(() => CallAsync("dev2"), static a => a == "pod2 dev2", "the gRPC balancer to follow pod2's relabel to dev2");

        await host.StopAsync();
    }
}
