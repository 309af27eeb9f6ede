using Lanes.ServiceDiscovery;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// Mode ServicePerLane: one Service per lane (<c>reviews</c>, <c>reviews-dev1</c>), each labelled with the logical
/// service and its lane; the EndpointSlice controller copies those labels onto the slices, so the provider reads slices
/// only: no access to Pods or Services is needed (or used).
/// </summary>
public sealed class ServicePerLaneTests
{
    [Fact]
    public async Task LanesComeFromTheSlicesLabels_AndNoPodOrServiceIsRead()
    {
        await using var api = await FakeKubernetes.StartAsync();
        await using var pods = await PodServers.StartAsync("pod1", "pod2");
        api.Apply(Objects.Slice("reviews-x1", "reviews", pods.Port, [pods.Endpoint("pod2")],
            labels: new Dictionary<string, string> { ["kubernetes.io/service-name"] = "reviews", ["app"] = "reviews" }));
        api.Apply(Objects.Slice("reviews-dev1-x2", "reviews-dev1", pods.Port, [pods.Endpoint("pod1")],
            labels: new Dictionary<string, string> { ["kubernetes.io/service-name"] = "reviews-dev1", ["app"] = "reviews", [Objects.HangoMark] = "dev1" }));
        using var logs = new InMemoryLoggerProvider();
        var host = await WatchTests.StartHostAsync(api, logs, static o => o.Mode = KubernetesLaneMode.ServicePerLane);
        try
        {
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            var snapshot = await endpoints.GetAsync("http", "reviews", CancellationToken.None);

            Assert.NotNull(snapshot);
            Assert.Equal(["pod1=dev1", "pod2=(none)"], snapshot.Definition.Instances.Select(static i => $"{i.Id}={i.Lane ?? "(none)"}"));
            Assert.Equal(Lanes.Routing.LanePolicy.Declared, snapshot.Definition.Settings.Policy);     // the configured default
            Assert.DoesNotContain(api.Requests, static r => r.Kind is "Pod" or "Service");
            Assert.All(api.Requests, static r => Assert.Contains("labelSelector=app", r.Query, StringComparison.Ordinal));     // the slices carrying the service label
        }
        finally
        {
            await WatchTests.StopAsync(host);
        }
    }
}
