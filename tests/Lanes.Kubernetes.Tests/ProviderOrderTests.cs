using k8s;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// Routing uses the cluster's pods for a Service, whether <c>AddServiceDiscovery()</c> was called before or after the
/// Kubernetes provider: a <c>Services:svc1</c> entry of service discovery's configuration does not shadow them (the
/// provider is placed before the first provider that is not Lanes', found by assembly, not by type name; and endpoints
/// without a lane feature are left out of a service whose provider speaks for its lanes).
/// </summary>
public sealed class ProviderOrderTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServiceAlsoInServiceDiscoveryConfiguration_IsRoutedToItsPods(bool serviceDiscoveryFirst)
    {
        // Arrange
        var api = await FakeKubernetes.StartAsync();
        await using var _ = api;
        await using var pods = await PodServers.StartAsync("pod1");
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1" }));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Slice("svc1-abcde", "svc1", pods.Port, [pods.Endpoint("pod1")]));
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "nsf",
            ["Services:svc1:http:0"] = "http://10.9.9.9:1",
        });
        builder.Services.AddSingleton<IKubernetes>(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() }));
        if (serviceDiscoveryFirst)
        {
            builder.Services.AddServiceDiscovery();
        }

        builder.Services.AddKubernetesServiceEndpoints(static o => o.UseHango());
        if (!serviceDiscoveryFirst)
        {
            builder.Services.AddServiceDiscovery();
        }

        using var host = builder.Build();
        await host.StartAsync();

        // Act
        var snapshot = await host.Services.GetRequiredService<LaneServiceEndpoints>().GetAsync("http", "svc1", CancellationToken.None);

        // Assert
        var instance = Assert.Single(snapshot!.Definition.Instances);
        Assert.Equal(("pod1", "dev1"), (instance.Id, instance.Lane));
        await host.StopAsync();
    }
}
