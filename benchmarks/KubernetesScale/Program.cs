// Lanes.Kubernetes at scale: a generated cluster (N pods across S services, one EndpointSlice per 100 endpoints, a
// quarter of the pods in each of three lanes, the rest unlabelled) served by the tests' fake API server over real list
// and watch; the real KubernetesClient and provider read it.
//
//   dotnet run -c Release --project benchmarks/KubernetesScale -- [--pods 10000] [--services 100]
//
// Prints, for the same cluster in the same process:
//   - time to first route: host start to the first service's instances and lane subsets (includes listing every pod),
//     and to all S services resolved;
//   - memory held by the provider (managed heap after a full GC, minus before), against the baseline a user would write
//     without it: the same lists held as KubernetesClient objects (V1PodList + V1EndpointSliceList + V1ServiceList);
//   - the time for one pod relabel to reach its service's snapshot.
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Lanes.Kubernetes.Tests;
using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var pods = 10_000;
var services = 100;
var serve = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--pods" when i + 1 < args.Length:
            pods = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--services" when i + 1 < args.Length:
            services = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--serve":
            serve = true;
            break;
        default:
            Console.Error.WriteLine("usage: KubernetesScale [--pods N] [--services S]");
            return 2;
    }
}

const string Label = "lane";
if (!serve)
{
    return await MeasureAsync(pods, services);
}

// The API server runs in a child process, so its buffers and objects are not in the measured heap.
string[] lanes = ["dev1", "dev2", "dev3"];
await using var api = await FakeKubernetes.StartAsync();
var perService = pods / services;
for (var s = 0; s < services; s++)
{
    var service = $"svc-{s}";
    api.Apply(new V1Service
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = service, NamespaceProperty = FakeKubernetes.Namespace, Annotations = new Dictionary<string, string> { ["lanes"] = "dev1,dev2,dev3" } },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80 }] },
    });
    var endpoints = new List<V1Endpoint>();
    for (var p = 0; p < perService; p++)
    {
        var pod = $"{service}-pod-{p}";
        var lane = p % 4 < 3 && p % 4 != 0 ? lanes[p % 4 - 1] : null;
        api.Apply(new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = pod,
                NamespaceProperty = FakeKubernetes.Namespace,
                Labels = lane is null ? new Dictionary<string, string> { ["app"] = service } : new Dictionary<string, string> { ["app"] = service, [Label] = lane },
            },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "registry.example/app:1.0", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }] }] },
        });
        endpoints.Add(new V1Endpoint
        {
            Addresses = [$"10.{s / 250}.{s % 250}.{p % 250 + 1}"],
            Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false },
            TargetRef = new V1ObjectReference { Kind = "Pod", Name = pod, NamespaceProperty = FakeKubernetes.Namespace },
        });
    }

    foreach (var (chunk, index) in endpoints.Chunk(100).Select(static (c, i) => (c, i)))
    {
        api.Apply(new V1EndpointSlice
        {
            ApiVersion = "discovery.k8s.io/v1",
            Kind = "EndpointSlice",
            AddressType = "IPv4",
            Metadata = new V1ObjectMeta { Name = $"{service}-{index}", NamespaceProperty = FakeKubernetes.Namespace, Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service } },
            Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080 }],
            Endpoints = chunk,
        });
    }
}

Console.WriteLine($"cluster: {pods:N0} pods, {services} services, {api.Version - 100:N0} objects; .NET {Environment.Version}, {Environment.ProcessorCount} cores");
Console.WriteLine($"api {api.Address}");

// Commands from the measuring process: "relabel POD LANE".
while (Console.ReadLine() is { } command)
{
    var parts = command.Split(' ');
    if (parts is ["relabel", var pod, var lane])
    {
        api.Apply(new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = FakeKubernetes.Namespace, Labels = new Dictionary<string, string> { [Label] = lane } },
        });
    }
}

return 0;

static async Task<int> MeasureAsync(int pods, int services)
{
    var perService = pods / services;
    var self = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
    self.ArgumentList.Add(typeof(FakeKubernetes).Assembly.Location);
    foreach (var arg in new[] { "--serve", "--pods", pods.ToString(CultureInfo.InvariantCulture), "--services", services.ToString(CultureInfo.InvariantCulture) })
    {
        self.ArgumentList.Add(arg);
}

using var server = Process.Start(self)!;
string? line;
var address = string.Empty;
while ((line = await server.StandardOutput.ReadLineAsync()) is not null)
{
    Console.WriteLine(line);
    if (line.StartsWith("api ", StringComparison.Ordinal))
    {
        address = line[4..];
        break;
    }
}

var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = address });

// Warm-up: the fake server's and the client's buffer pools grow to what a 10,000-pod list needs (Kestrel keeps its
// blocks), so neither measurement below pays for them.
for (var warm = 0; warm < 2; warm++)
{
    await client.CoreV1.ListNamespacedPodAsync(FakeKubernetes.Namespace);
    await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(FakeKubernetes.Namespace);
    await client.CoreV1.ListNamespacedServiceAsync(FakeKubernetes.Namespace);
}

var before = Settle();

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Services.AddSingleton<IKubernetes>(client);
builder.Services.AddKubernetesServiceEndpoints(static o => o.LaneLabel = Label);
var clock = Stopwatch.StartNew();
using var host = builder.Build();
await host.StartAsync();
var endpointsView = host.Services.GetRequiredService<LaneServiceEndpoints>();

var first = await endpointsView.GetAsync("http", "svc-0", CancellationToken.None) ?? throw new InvalidOperationException("svc-0 unknown");
var firstChoice = Pick(first, "dev1");
var toFirst = clock.Elapsed;
var afterFirst = Settle() - before;
var all = await Task.WhenAll(Enumerable.Range(0, services).Select(s => endpointsView.GetAsync("http", $"svc-{s}", CancellationToken.None).AsTask()));
var toAll = clock.Elapsed;
var instances = all.Sum(static s => s!.Definition.Instances.Count);
if (instances != perService * services || firstChoice.Outcome != LaneRoutingOutcome.Matched)
{
    Console.Error.WriteLine($"wrong result: {instances} instances, first pick {firstChoice.Outcome}");
    return 1;
}

var held = Settle() - before;

// One relabel at this scale: the pod's label reaches its service's snapshot.
var target = all[services / 2]!;
var relabelled = target.Definition.Instances.First(static i => i.Lane is null).Id;
clock.Restart();
await server.StandardInput.WriteLineAsync($"relabel {relabelled} dev1");
await server.StandardInput.FlushAsync();
while ((await endpointsView.GetAsync("http", target.Definition.Name, CancellationToken.None))!.Definition.Instances.First(i => i.Id == relabelled).Lane != "dev1")
{
    await Task.Delay(1);
}

var relabel = clock.Elapsed;
await host.StopAsync();

// Baseline: the same three lists held as the client's objects (what caching whole objects costs).
var baselineBefore = Settle();
var podList = await client.CoreV1.ListNamespacedPodAsync(FakeKubernetes.Namespace);
var sliceList = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(FakeKubernetes.Namespace);
var serviceList = await client.CoreV1.ListNamespacedServiceAsync(FakeKubernetes.Namespace);
var baseline = Settle() - baselineBefore;
GC.KeepAlive(podList);
GC.KeepAlive(sliceList);
GC.KeepAlive(serviceList);

Console.WriteLine($"time to first route (svc-0, dev1): {toFirst.TotalMilliseconds:N0} ms");
Console.WriteLine($"time to all {services} services resolved: {toAll.TotalMilliseconds:N0} ms ({instances:N0} instances)");
Console.WriteLine($"one pod relabelled -> its service's snapshot: {relabel.TotalMilliseconds:N1} ms");
Console.WriteLine($"  of which after the first service (every pod's lane, one service): {afterFirst / 1024.0 / 1024:N1} MiB");
Console.WriteLine($"managed memory held by the provider: {held / 1024.0 / 1024:N1} MiB ({held / (double)pods:N0} B per pod)");
Console.WriteLine($"baseline, the same lists as client objects: {baseline / 1024.0 / 1024:N1} MiB");
Console.WriteLine($"provider / baseline memory ratio: {held / (double)baseline:N2}");
server.StandardInput.Close();
await server.WaitForExitAsync();
return 0;
}

static long Settle()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    return GC.GetTotalMemory(forceFullCollection: true);
}

static LaneChoice<LaneServiceInstance> Pick(LaneServiceSnapshot snapshot, string lane)
{
    var subsets = LaneSubsets.Build(
        [.. snapshot.Definition.Instances.Select(static i => new LaneInstance<LaneServiceInstance>(i, i.Lane, healthy: true))],
        snapshot.Definition.Settings);
    return subsets.Select(lane);
}
