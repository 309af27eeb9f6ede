using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Testing;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// samples/KubernetesGateway, run as a user runs it (a child process, the cluster from <c>KUBECONFIG</c>), against the
/// Hango seed held by a fake API server: Service svc1 annotated <c>dev1,dev2</c>, pod1 labelled <c>dev1</c>, pod2
/// unlabelled, one EndpointSlice. Then the cluster changes under it and the gateway follows.
/// </summary>
public sealed class KubernetesGatewaySampleTests : IAsyncLifetime, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lanes-k8s-").FullName;
    private FakeKubernetes _api = null!;
    private PodServers _pods = null!;
    private SampleProcess _gateway = null!;
    private HttpClient? _client;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetes.StartAsync();
        _pods = await PodServers.StartAsync("pod1", "pod2", "pod3");
        _api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1,dev2" }, ("http", 80)));
        _api.Apply(Objects.Pod("pod1", "dev1"));
        _api.Apply(Objects.Pod("pod2", null));
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1"), _pods.Endpoint("pod2")]));

        _gateway = SampleProcess.Start(
            "KubernetesGateway",
            new Dictionary<string, string> { ["KUBECONFIG"] = _api.WriteKubeconfig(_directory) },
            "--port", "0");
        var listening = await _gateway.WaitForOutputAsync(@"listening on (http://127\.0\.0\.1:\d+)");
        _client = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value) };
    }

    public void Dispose() => _client?.Dispose();

    public async Task DisposeAsync()
    {
        _gateway.Signal(SampleProcess.SigTerm);
        var exit = await _gateway.WaitForExitAsync(TimeSpan.FromSeconds(10));
        _gateway.Dispose();
        await _pods.DisposeAsync();
        await _api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
        Assert.Equal(0, exit?.ExitCode);                              // SIGTERM stops it cleanly
    }

    [Fact]
    public async Task HangoSeed_TheFourCases_ThenTheGatewayFollowsTheCluster()
    {
        // The seed's four cases, from what the API server says.
        Assert.Equal("pod2", await GetAsync(null));                     // no header: the unlabelled instance
        Assert.Equal("pod1 dev1", await GetAsync("dev1"));             // dev1: the dev1 instance, header kept
        Assert.Equal("503", await GetAsync("dev2"));                    // declared, no instance: no healthy upstream
        Assert.Equal("pod2 dev3", await GetAsync("dev3"));             // not declared: the unlabelled instance

        // The admin report names where the instances and the declaration came from.
        var report = await _client!.GetFromJsonAsync<JsonElement>("/lanes");
        var cluster = report.GetProperty("clusters")[0];
        Assert.Equal("service discovery", cluster.GetProperty("declarationSource").GetString());
        Assert.All(cluster.GetProperty("destinations").EnumerateArray(), static d => Assert.Equal("kubernetes", d.GetProperty("origin").GetString()));

        // pod2 relabelled dev2: dev2 is now served by pod2, and nothing is left unlabelled for the baseline.
        _api.Apply(Objects.Pod("pod2", "dev2"));
        await UntilAnswerAsync("dev2", "pod2 dev2");
        Assert.Equal("503", await GetAsync(null));

        // pod1 stops serving (its endpoint says serving=false): dev1 has no healthy instance; Declared answers 503.
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1", ready: false, serving: false), _pods.Endpoint("pod2")]));
        await UntilAnswerAsync("dev1", "503");

        // A slice that names pod3 before pod3 exists: the endpoint is held (not served as unlabelled) until the pod
        // arrives, then joined with its label. The same slice brings pod1 back: once dev1 is served by pod1 again the
        // gateway has the slice (the sentinel), and a request without a lane still finds no baseline.
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1"), _pods.Endpoint("pod2"), _pods.Endpoint("pod3")]));
        await UntilAnswerAsync("dev1", "pod1 dev1");
        Assert.Equal("503", await GetAsync(null));                     // pod3 is held, not the baseline
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1", ready: false, serving: false), _pods.Endpoint("pod2"), _pods.Endpoint("pod3")]));
        _api.Apply(Objects.Pod("pod3", "dev1"));
        await UntilAnswerAsync("dev1", "pod3 dev1");

        // pod2 deleted (its pod and its endpoint): dev2 goes back to 503.
        _api.Delete("Pod", "pod2");
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1", ready: false, serving: false), _pods.Endpoint("pod3")]));
        await UntilAnswerAsync("dev2", "503");
        Assert.Equal("pod3 dev1", await GetAsync("dev1"));
    }

    private async Task<string> GetAsync(string? lane)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/svc1");
        if (lane is not null)
        {
            request.Headers.Add("x-nsf-mark", lane);
        }

        using var response = await _client!.SendAsync(request);
        return response.StatusCode == HttpStatusCode.ServiceUnavailable ? "503" : await response.Content.ReadAsStringAsync();
    }

    private Task<string> UntilAnswerAsync(string? lane, string expected)
        => Wait.ForAsync(() => GetAsync(lane), a => a == expected, $"lane {lane ?? "(none)"} to answer '{expected}'", describe: a => $"'{a}'\n{_gateway.Stdout}\n{_gateway.Stderr}");
}
