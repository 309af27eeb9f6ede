using System.Net;
using Lanes.EndToEnd.Tests.Samples;

namespace Lanes.Kubernetes.Tests;

/// <summary>samples/KubernetesGateway with <c>--labels mspider</c>: the mspider seed's rows from pods labelled <c>lane</c>.</summary>
public sealed class KubernetesGatewayMspiderTests
{
    [Fact]
    public async Task MspiderLabels_TheSeedsRows()
    {
        var directory = Directory.CreateTempSubdirectory("lanes-k8s-").FullName;
        await using var api = await FakeKubernetes.StartAsync();
        await using var pods = await PodServers.StartAsync("productpage-green", "productpage-yellow");
        api.Apply(Objects.Service("productpage", ports: ("http", 9080)));
        api.Apply(Objects.Pod("productpage-green", "green", label: "lane"));
        api.Apply(Objects.Pod("productpage-yellow", "yellow", label: "lane"));
        api.Apply(Objects.Slice("productpage-x", "productpage", pods.Port, [pods.Endpoint("productpage-green"), pods.Endpoint("productpage-yellow")]));

        using var gateway = SampleProcess.Start(
            "KubernetesGateway",
            new Dictionary<string, string> { ["KUBECONFIG"] = api.WriteKubeconfig(directory) },
            "--port", "0", "--labels", "mspider");
        try
        {
            var listening = await gateway.WaitForOutputAsync(@"listening on (http://127\.0\.0\.1:\d+)");
            using var client = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value) };
            async Task<string> GetAsync(string? header, string? lane)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/productpage");
                if (header is not null)
                {
                    request.Headers.Add(header, lane);
                }

                using var response = await client.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return (await response.Content.ReadAsStringAsync()).Split(' ')[0];
            }

            Assert.Equal("productpage-yellow", await GetAsync("x-mspider-laneid", "yellow"));   // the alias
            Assert.Equal("productpage-yellow", await GetAsync("x-mspider-lane", "yellow"));
            Assert.Equal("productpage-green", await GetAsync("x-mspider-laneid", "green"));
            Assert.Equal("productpage-green", await GetAsync(null, null));                     // the default lane
            Assert.Equal("productpage-green", await GetAsync("x-mspider-lane", "blue"));       // Permissive: the baseline
        }
        finally
        {
            gateway.Signal(SampleProcess.SigInt);
            Assert.Equal(0, (await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10)))?.ExitCode);   // Ctrl+C stops it
            Directory.Delete(directory, recursive: true);
        }
    }
}
