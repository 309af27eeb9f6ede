// Lanes.Kubernetes at scale: a generated cluster (N pods across S services, one EndpointSlice per 100 endpoints, a
// quarter of the pods in each of three lanes, the rest unlabelled) served by the tests' fake API server over real list
// and watch; the real KubernetesClient and provider read it.
//
//   dotnet run -c Release --project benchmarks/KubernetesScale -- [--pods 10000] [--services 100]
//   dotnet run -c Release --project benchmarks/KubernetesScale -- --churn [--pods 20000 --services 1000 --seconds 30 --rate 250]
//
// Prints, for the same cluster in the same process:
//   - time to first route: host start to the first service's instances and lane subsets (includes listing every pod),
//     and to all S services resolved;
//   - memory held by the provider (managed heap after a full GC, minus before), against the baseline a user would write
//     without it: the same lists held as KubernetesClient objects (V1PodList + V1EndpointSliceList + V1ServiceList);
//   - the time for one pod relabel to reach its service's snapshot;
//   - with --churn, then: a steady stream of events (pod relabels, readiness flips of slice endpoints, endpoint address
//     changes, in turn) at --rate per second for --seconds, each timed from the moment it is sent to the API server to
//     the moment its service's snapshot (LaneServiceEndpoints.Changed) shows it; one line starting with "churn:" gives
//     events/s, p50/p99/max event-to-snapshot, CPU time per event and managed memory before/after. Exits non-zero when
//     an event never reaches its snapshot.
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
var churn = false;
var seconds = 30;
var rate = 250;
var podsGiven = false;
var servicesGiven = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--pods" when i + 1 < args.Length:
            pods = int.Parse(args[++i], CultureInfo.InvariantCulture);
            podsGiven = true;
            break;
        case "--services" when i + 1 < args.Length:
            services = int.Parse(args[++i], CultureInfo.InvariantCulture);
            servicesGiven = true;
            break;
        case "--churn":
            churn = true;
            break;
        case "--seconds" when i + 1 < args.Length:
            seconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--rate" when i + 1 < args.Length:
            rate = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--serve":
            serve = true;
            break;
        default:
            Console.Error.WriteLine("usage: KubernetesScale [--pods N] [--services S] [--churn [--seconds T] [--rate R]]");
            return 2;
    }
}

if (churn)
{
    pods = podsGiven ? pods : 20_000;
    services = servicesGiven ? services : 1_000;
}

const string Label = "lane";
if (!serve)
{
    return await MeasureAsync(pods, services, churn ? new Churn(seconds, rate) : null);
}

// The API server runs in a child process, so its buffers and objects are not in the measured heap.
string[] lanes = ["dev1", "dev2", "dev3"];
await using var api = await FakeKubernetes.StartAsync();
var sliceOf = new Dictionary<string, (V1EndpointSlice Slice, V1Endpoint Endpoint)>(StringComparer.Ordinal);
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
        var slice = new V1EndpointSlice
        {
            ApiVersion = "discovery.k8s.io/v1",
            Kind = "EndpointSlice",
            AddressType = "IPv4",
            Metadata = new V1ObjectMeta { Name = $"{service}-{index}", NamespaceProperty = FakeKubernetes.Namespace, Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service } },
            Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080 }],
            Endpoints = chunk,
        };
        api.Apply(slice);
        foreach (var endpoint in chunk)
        {
            sliceOf[endpoint.TargetRef.Name] = (slice, endpoint);
        }
    }
}

Console.WriteLine($"cluster: {pods:N0} pods, {services} services, {api.Version - 100:N0} objects; .NET {Environment.Version}, {Environment.ProcessorCount} cores");
Console.WriteLine($"api {api.Address}");

// Commands from the measuring process: "relabel POD LANE" ("-": no lane), "ready POD 0|1" (the endpoint's readiness
// in its slice), "move POD ADDRESS" (the endpoint's address in its slice).
while (Console.ReadLine() is { } command)
{
    var parts = command.Split(' ');
    switch (parts)
    {
        case ["relabel", var pod, var lane]:
            api.Apply(new V1Pod
            {
                ApiVersion = "v1",
                Kind = "Pod",
                Metadata = new V1ObjectMeta { Name = pod, NamespaceProperty = FakeKubernetes.Namespace, Labels = lane == "-" ? new Dictionary<string, string>() : new Dictionary<string, string> { [Label] = lane } },
            });
            break;
        case ["ready", var pod, var ready]:
        {
            var (slice, endpoint) = sliceOf[pod];
            endpoint.Conditions = new V1EndpointConditions { Ready = ready == "1", Serving = ready == "1", Terminating = false };
            api.Apply(slice);
            break;
        }

        case ["move", var pod, var address]:
        {
            var (slice, endpoint) = sliceOf[pod];
            endpoint.Addresses = [address];
            api.Apply(slice);
            break;
        }
    }
}

return 0;

static async Task<int> MeasureAsync(int pods, int services, Churn? churn)
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
var churned = churn is null ? 0 : await ChurnAsync(churn, server.StandardInput, endpointsView, all!);
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
return churned;
}

// A steady stream of events against the resolved services; returns the exit code (1 when an event never arrived).
// A warm-up phase first (its own events, not counted), so "before" is the heap of a provider that has already seen
// churn on every service, and "after" shows whether the measured run left anything behind.
static async Task<int> ChurnAsync(Churn churn, StreamWriter input, LaneServiceEndpoints view, LaneServiceSnapshot?[] all)
{
    var generator = new ChurnGenerator(all, input);

    // Each snapshot's change token is the one signal a newer snapshot of its service is there (as routers follow it).
    void Follow(LaneServiceSnapshot snapshot)
        => snapshot.ChangeToken.RegisterChangeCallback(
            _ => _ = Task.Run(async () =>
            {
                if (await view.GetAsync(snapshot.Scheme, snapshot.Service, CancellationToken.None) is { } next && next.Version > snapshot.Version)
                {
                    generator.Observe(next);
                    Follow(next);
                }
            }),
            null);
    foreach (var snapshot in all)
    {
        if (snapshot is not null)
        {
            Follow(snapshot);
        }
    }

    var memoryStart = Settle();
    var warmUp = await generator.RunAsync(TimeSpan.FromSeconds(Math.Min(5, churn.Seconds)), churn.Rate);
    var memoryBefore = Settle();
    using var self = Process.GetCurrentProcess();
    var cpuBefore = self.TotalProcessorTime;
    var run = await generator.RunAsync(TimeSpan.FromSeconds(churn.Seconds), churn.Rate);
    var cpu = self.TotalProcessorTime - cpuBefore;
    var memoryAfter = Settle();
    var sorted = run.Latencies.Order().ToArray();
    double Percentile(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    Console.WriteLine(
        $"churn: {all.Length:N0} services, {generator.Pods:N0} pods, {run.Events / run.Elapsed.TotalSeconds:N0} events/s for {run.Elapsed.TotalSeconds:N0} s " +
        $"({run.Events:N0} events: {run.Relabels:N0} relabels, {run.Flips:N0} readiness flips, {run.Moves:N0} address changes); " +
        $"event to snapshot p50 {Percentile(0.50):N0} ms, p99 {Percentile(0.99):N0} ms, max {sorted.LastOrDefault():N0} ms; " +
        $"CPU {cpu.TotalMicroseconds / Math.Max(1, run.Events):N0} us per event; " +
        $"managed memory {memoryBefore / 1024.0 / 1024:N1} MiB before, {memoryAfter / 1024.0 / 1024:N1} MiB after " +
        $"({memoryStart / 1024.0 / 1024:N1} MiB before a {warmUp.Elapsed.TotalSeconds:N0} s warm-up of {warmUp.Events:N0} events); " +
        $"never arrived {warmUp.Lost + run.Lost}, skipped (every picked service busy) {run.Busy}");
    return warmUp.Lost + run.Lost == 0 ? 0 : 1;
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
    var subsets = snapshot.Definition.Settings.CreateSubsets(
        [.. snapshot.Definition.Instances.Select(static i => new LaneInstance<LaneServiceInstance>(i, i.Lane, healthy: true))]);
    return subsets.Select(lane);
}

/// <summary>The churn run's length and event rate.</summary>
internal sealed record Churn(int Seconds, int Rate);

/// <summary>
/// Sends events at a steady rate, each to a pod whose service has no event in flight (so each event's effect is told
/// apart from the next one's), and times each from sending to the first snapshot of its service that shows it.
/// </summary>
internal sealed class ChurnGenerator(LaneServiceSnapshot?[] all, StreamWriter input)
{
    private static readonly string?[] s_lanes = ["dev1", "dev2", "dev3", null];
    private readonly ChurnPod[] _pods = [.. all.SelectMany(static s => s!.Definition.Instances.Select(i => new ChurnPod(s.Definition.Name, i.Id, i.Lane)))];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Expected> _pending = new(StringComparer.Ordinal);
    private readonly Random _random = new(42);
    private List<double> _latencies = [];
    private long _sent;
    private int _nextAddress;

    public int Pods => _pods.Length;

    public void Observe(LaneServiceSnapshot snapshot)
    {
        var name = snapshot.Definition.Name;
        if (_pending.TryGetValue(name, out var expected) && expected.Holds(snapshot) && _pending.TryRemove(new(name, expected)))
        {
            var ms = Stopwatch.GetElapsedTime(expected.Sent).TotalMilliseconds;
            lock (this)
            {
                _latencies.Add(ms);
            }
        }
    }

    public async Task<ChurnRun> RunAsync(TimeSpan duration, int rate)
    {
        lock (this)
        {
            _latencies = new List<double>((int)(duration.TotalSeconds * rate));
        }

        var clock = Stopwatch.StartNew();
        long sent = 0, busy = 0;
        int relabels = 0, flips = 0, moves = 0;
        while (clock.Elapsed < duration)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            for (; sent < due; sent++)
            {
                ChurnPod pod;
                var tries = 0;
                do
                {
                    pod = _pods[_random.Next(_pods.Length)];
                }
                while (_pending.ContainsKey(pod.Service) && ++tries < 100);
                if (tries == 100)
                {
                    busy++;
                    continue;
                }

                string command;
                Expected expected;
                var id = pod.Id;
                switch (!pod.Ready ? 1 : (int)(_sent++ % 3))
                {
                    case 0:
                        var lane = s_lanes[(Array.IndexOf(s_lanes, pod.Lane) + 1 + _random.Next(s_lanes.Length - 1)) % s_lanes.Length];
                        pod.Lane = lane;
                        command = $"relabel {id} {lane ?? "-"}";
                        expected = new Expected(Stopwatch.GetTimestamp(), s => s.Definition.Instances.Any(i => i.Id == id && i.Lane == lane));
                        relabels++;
                        break;
                    case 1:
                        pod.Ready = !pod.Ready;
                        var ready = pod.Ready;
                        command = $"ready {id} {(ready ? 1 : 0)}";
                        expected = new Expected(Stopwatch.GetTimestamp(), s => s.Definition.Instances.Any(i => i.Id == id) == ready);
                        flips++;
                        break;
                    default:
                        var n = _nextAddress++;
                        var address = $"172.{16 + n / 62_500 % 16}.{n / 250 % 250}.{n % 250 + 1}";
                        command = $"move {id} {address}";
                        expected = new Expected(Stopwatch.GetTimestamp(), s => s.Definition.Instances.Any(i => i.Id == id && i.Address.Host == address));
                        moves++;
                        break;
                }

                _pending[pod.Service] = expected;
                await input.WriteLineAsync(command);
            }

            await input.FlushAsync();
            await Task.Delay(2);
        }

        var elapsed = clock.Elapsed;
        var drain = Stopwatch.StartNew();
        while (!_pending.IsEmpty && drain.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        var lost = _pending.Count;
        _pending.Clear();
        lock (this)
        {
            return new ChurnRun(elapsed, relabels + flips + moves, relabels, flips, moves, busy, lost, [.. _latencies]);
        }
    }
}

/// <summary>One phase of the churn: how long, what was sent, what never arrived, and each event's time to its snapshot (ms).</summary>
internal sealed record ChurnRun(TimeSpan Elapsed, int Events, int Relabels, int Flips, int Moves, long Busy, int Lost, double[] Latencies);

/// <summary>A pod as the churn generator last set it.</summary>
internal sealed class ChurnPod(string service, string id, string? lane)
{
    public string Service { get; } = service;

    public string Id { get; } = id;

    public string? Lane { get; set; } = lane;

    public bool Ready { get; set; } = true;
}

/// <summary>An event in flight: when it was sent, and what its service's snapshot shows once it arrived.</summary>
internal sealed record Expected(long Sent, Func<LaneServiceSnapshot, bool> Holds);
