using System.Globalization;
using System.Diagnostics.Metrics;
using Lanes.ServiceDiscovery;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// Events reach a service's instances through one de-duplicating rebuild queue (docs/behaviour.md, "Kubernetes"): a
/// burst for one service is a handful of rebuilds of that service and of no other, and a pod label selector narrows the
/// pod watch without ever moving an instance into another lane.
/// </summary>
public sealed class RebuildTests
{
    [Fact]
    public async Task BurstOfAThousandPodEvents_ForOneService_RebuildsThatServiceOnce_AndNoOther()
    {
        await using var api = await FakeKubernetes.StartAsync();
        const int Services = 10, PodsPerService = 10;
        for (var s = 0; s < Services; s++)
        {
            api.Apply(Objects.Service($"svc{s}", new Dictionary<string, string> { [Objects.HangoMark] = "dev1,dev2,dev3" }));
            var endpoints = new List<Objects.Endpoint>();
            for (var p = 0; p < PodsPerService; p++)
            {
                api.Apply(Objects.Pod($"svc{s}-pod{p}", "dev1"));
                endpoints.Add(new Objects.Endpoint($"10.0.{s}.{p + 1}", $"svc{s}-pod{p}"));
            }

            api.Apply(Objects.Slice($"svc{s}-abcde", $"svc{s}", 8080, endpoints));
        }

        using var logs = new InMemoryLoggerProvider();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var delay = new KubernetesLaneOptions().RebuildDelay;
        var host = await WatchTests.StartHostAsync(api, logs, time: time);
        try
        {
            using var rebuilds = new RebuildCounter(host.Services.GetRequiredService<IMeterFactory>());
            var watches = host.Services.GetRequiredService<KubernetesLaneWatches>();
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            for (var s = 0; s < Services; s++)
            {
                Assert.Equal(PodsPerService, (await endpoints.GetAsync("http", $"svc{s}", CancellationToken.None))!.Definition.Instances.Count);
            }

            await api.WaitForWatchAsync("Pod");
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(delay);                                 // whatever the first lists queued runs now
                    return watches.RebuildsDone;
                },
                "the rebuilds queued by the first lists to finish");
            var before = Enumerable.Range(0, Services).Select(s => watches.Get($"svc{s}").Rebuilds).ToArray();
            var counted = rebuilds.Count;

            // 1,000 relabels of svc0's pods (blocks of ten alternating dev1 and dev2, the last block dev3), all read by
            // the pod watch before the clock moves: they wait in one round.
            long last = 0;
            for (var i = 0; i < 1000; i++)
            {
                last = api.Apply(Objects.Pod($"svc0-pod{i % PodsPerService}", i >= 990 ? "dev3" : (i / PodsPerService) % 2 == 0 ? "dev1" : "dev2"));
            }

            var lastVersion = last.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Wait.UntilAsync(() => watches.PodsVersion == lastVersion, $"the pod watch to read version {lastVersion}", () => $"at {watches.PodsVersion}");
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(delay);
                    return watches.RebuildsDone && watches.Get("svc0").State.Instances.All(static i => i.Lane == "dev3");
                },
                "svc0 rebuilt with every pod in dev3");

            // One rebuild of svc0 for the 1,000 events (before the queue: one per event, of every service), none of the
            // other services, whose pods did not change.
            var after = Enumerable.Range(0, Services).Select(s => watches.Get($"svc{s}").Rebuilds).ToArray();
            Assert.Equal(1, after[0] - before[0]);
            Assert.Equal(before[1..], after[1..]);
            Assert.Equal(1, rebuilds.Count - counted);                   // lanes.kubernetes.rebuilds says the same
            await Wait.ForAsync(
                async () => (await endpoints.GetAsync("http", "svc0", CancellationToken.None))!.Definition.Instances.Select(static i => i.Lane).ToArray(),
                static lanes => lanes.All(static l => l == "dev3"),
                "svc0's snapshot in service discovery to follow",
                describe: static lanes => string.Join(", ", lanes));
        }
        finally
        {
            await WatchTests.StopAsync(host);
        }
    }

    [Fact]
    public async Task PodLabelSelector_NarrowsThePodWatch_AndAnEndpointOfAPodOutsideItIsHeld_NeverServedUnlabelled()
    {
        await using var api = await FakeKubernetes.StartAsync();
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1,dev2" }));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Pod("pod2", null));
        api.Apply(Objects.Slice("svc1-abcde", "svc1", 8080, [new Objects.Endpoint("10.0.0.1", "pod1"), new Objects.Endpoint("10.0.0.2", "pod2")]));
        using var logs = new InMemoryLoggerProvider();
        var host = await WatchTests.StartHostAsync(api, logs, static o =>
        {
            o.PodLabelSelector = Objects.HangoMark;                          // only pods that carry a lane
            o.RebuildDelay = TimeSpan.Zero;
        });
        try
        {
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            Task<string[]> InstancesAsync() => DescribeAsync(endpoints, "svc1");

            // pod2 has no lane label, so the pod watch does not send it: its endpoint is held, not the baseline.
            Assert.Equal(["pod1=dev1"], await InstancesAsync());
            Assert.All(
                api.Requests.Where(static r => r.Kind == "Pod"),
                static r => Assert.Contains("labelSelector=" + Uri.EscapeDataString(Objects.HangoMark), r.Query, StringComparison.Ordinal));

            api.Apply(Objects.Pod("pod2", "dev2"));                          // enters the selection
            await Wait.ForAsync(InstancesAsync, static s => s is ["pod1=dev1", "pod2=dev2"], "pod2 to serve dev2 once it carries a lane", describe: static s => string.Join(", ", s));

            api.Apply(Objects.Pod("pod1", null));                            // leaves it: the watch says DELETED
            await Wait.ForAsync(InstancesAsync, static s => s is ["pod2=dev2"], "pod1 held once it left the selection", describe: static s => string.Join(", ", s));
        }
        finally
        {
            await WatchTests.StopAsync(host);
        }
    }

    [Fact]
    public async Task ViewNobodyResolves_IsDroppedAfterTheIdleTimeout_AndTheNextResolutionBuildsItAgain()
    {
        await using var api = await FakeKubernetes.StartAsync();
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1" }));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Slice("svc1-abcde", "svc1", 8080, [new Objects.Endpoint("10.0.0.1", "pod1")]));
        using var logs = new InMemoryLoggerProvider();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var host = await WatchTests.StartHostAsync(api, logs, static o => o.RebuildDelay = TimeSpan.Zero, time);
        try
        {
            var watches = host.Services.GetRequiredService<KubernetesLaneWatches>();
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            Assert.Equal(["pod1=dev1"], await DescribeAsync(endpoints, "svc1"));
            Assert.Equal(1, watches.ViewCount);

            // Nobody resolves svc1 any more: discovery forgets it, then the provider drops its view (the view's token
            // may first make discovery resolve once more; a later sweep drops it for good).
            var idle = new LaneOptions().ServiceIdleTimeout;
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(idle / 2);
                    return watches.ViewCount == 0;
                },
                "svc1's view to be dropped",
                () => $"{watches.ViewCount} view(s)");

            // Resolved again: a new view, built from the lists the watches kept.
            Assert.Equal(["pod1=dev1"], await DescribeAsync(endpoints, "svc1"));
            Assert.Equal(1, watches.ViewCount);
        }
        finally
        {
            await WatchTests.StopAsync(host);
        }
    }

    [Fact]
    public async Task BusyUnchangedService_KeepsItsViewAndSnapshot_PastTheIdleTimeout()
    {
        await using var api = await FakeKubernetes.StartAsync();
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1" }));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Slice("svc1-abcde", "svc1", 8080, [new Objects.Endpoint("10.0.0.1", "pod1")]));
        using var logs = new InMemoryLoggerProvider();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var host = await WatchTests.StartHostAsync(api, logs, static o => o.RebuildDelay = TimeSpan.Zero, time);
        try
        {
            var watches = host.Services.GetRequiredService<KubernetesLaneWatches>();
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            var first = await endpoints.GetAsync("http", "svc1", CancellationToken.None);
            var view = watches.Get("svc1");
            var rebuilds = view.Rebuilds;

            // Calls keep coming for three idle timeouts; nothing about svc1 changes.
            var idle = new LaneOptions().ServiceIdleTimeout;
            for (var i = 0; i < 12; i++)
            {
                time.Advance(idle / 4);
                Assert.Same(first, await endpoints.GetAsync("http", "svc1", CancellationToken.None));
            }

            Assert.Same(view, watches.Get("svc1"));                      // the provider still holds the same view
            Assert.Equal(rebuilds, view.Rebuilds);                        // never rebuilt
            Assert.False(first!.ChangeToken.HasChanged);                  // and never superseded: ejections stay
        }
        finally
        {
            await WatchTests.StopAsync(host);
        }
    }

    [Fact]
    public async Task Queue_RebuildsEachWaitingNameOnce_AfterTheDelay_OnTheInjectedClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var delay = TimeSpan.FromMilliseconds(50);
        var rebuilt = new System.Collections.Concurrent.ConcurrentQueue<string>();
        RebuildQueue? queue = null;
        queue = new RebuildQueue(
            delay,
            time,
            name =>
            {
                rebuilt.Enqueue(name);
                if (name == "again" && rebuilt.Count(static n => n == "again") == 1)
                {
                    queue!.Add("again");                                   // changed again while being rebuilt
                }
            },
            static (name, ex) => throw new Xunit.Sdk.XunitException($"{name} failed: {ex}"));
        await using var _ = queue;

        for (var i = 0; i < 1000; i++)
        {
            queue.Add("a");
        }

        queue.AddRange(["b", "again"]);
        Assert.Empty(rebuilt);                                              // the clock has not moved: the round waits
        Assert.Equal(3, queue.Waiting);

        // The worker's wait may start after a given Advance (it runs on the thread pool), so each look moves the clock.
        await Wait.UntilAsync(
            () =>
            {
                time.Advance(delay);
                return rebuilt.Count >= 4;
            },
            "two rounds: a, b and again, then again once more",
            () => string.Join(", ", rebuilt));
        Assert.Equal(["a", "again", "again", "b"], rebuilt.Order(StringComparer.Ordinal));
        Assert.Equal("again", rebuilt.Last());
        Assert.Equal(0, queue.Waiting);
    }

    [Fact]
    public async Task Queue_ARebuildThatThrows_IsReported_AndNeitherTheRoundNorLaterRoundsStop()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var rebuilt = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var failed = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var queue = new RebuildQueue(
            TimeSpan.Zero,
            time,
            name =>
            {
                if (name == "broken")
                {
                    throw new InvalidOperationException("a rebuild that throws");
                }

                rebuilt.Enqueue(name);
            },
            (name, ex) => failed.Enqueue($"{name}: {ex.Message}"));
        await using var _ = queue;

        queue.AddRange(["broken", "fine"]);
        await Wait.UntilAsync(() => queue.Idle, "the first round to finish", () => string.Join(", ", rebuilt));
        Assert.Equal(["broken: a rebuild that throws"], failed);
        Assert.Equal(["fine"], rebuilt);                                   // the round went on past the failure

        // The queue still runs: a later name is rebuilt (a worker that died would leave it waiting for good).
        queue.Add("later");
        await Wait.UntilAsync(() => rebuilt.Contains("later"), "a later name to be rebuilt", () => string.Join(", ", rebuilt));
        Assert.True(queue.Idle);
    }

    [Fact]
    public async Task Queue_ARebuildThatThrows_IsAddedAgainAfterADoublingDelay_OnTheClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var tries = 0;
        var queue = new RebuildQueue(
            TimeSpan.Zero,
            time,
            name =>
            {
                if (Interlocked.Increment(ref tries) <= 3)
                {
                    throw new InvalidOperationException("a rebuild that throws");
                }
            },
            static (_, _) => { },
            retryDelay: TimeSpan.FromSeconds(1),
            maxRetryDelay: TimeSpan.FromSeconds(3));
        await using var _ = queue;

        queue.Add("broken");
        await Wait.UntilAsync(() => Volatile.Read(ref tries) == 1 && queue.Idle, "the first try");
        time.Advance(TimeSpan.FromMilliseconds(999));
        var beforeTheDelay = Volatile.Read(ref tries);
        time.Advance(TimeSpan.FromMilliseconds(1));                         // 1 s: the second try
        await Wait.UntilAsync(() => Volatile.Read(ref tries) == 2 && queue.Idle, "the retry after 1 s");
        time.Advance(TimeSpan.FromMilliseconds(1999));
        var beforeTheDoubledDelay = Volatile.Read(ref tries);
        time.Advance(TimeSpan.FromMilliseconds(1));                         // 2 s: the third
        await Wait.UntilAsync(() => Volatile.Read(ref tries) == 3 && queue.Idle, "the retry after 2 s");
        time.Advance(TimeSpan.FromSeconds(3));                              // capped at 3 s: the fourth succeeds
        await Wait.UntilAsync(() => Volatile.Read(ref tries) == 4 && queue.Idle, "the retry after 3 s");

        Assert.Equal(1, beforeTheDelay);
        Assert.Equal(2, beforeTheDoubledDelay);
    }

    [Fact]
    public void ReconnectBackoff_DoublesToTheCap_WithEqualJitter_NeverAboveTheUnjitteredDelay()
    {
        var options = new KubernetesLaneOptions { ReconnectDelay = TimeSpan.FromSeconds(1), MaxReconnectDelay = TimeSpan.FromSeconds(8) };

        Assert.Equal(TimeSpan.FromSeconds(0.5), Reflector<k8s.Models.V1Pod, k8s.Models.V1PodList, int>.Backoff(options, 1, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(1), Reflector<k8s.Models.V1Pod, k8s.Models.V1PodList, int>.Backoff(options, 1, random: 1));
        Assert.Equal(TimeSpan.FromSeconds(3), Reflector<k8s.Models.V1Pod, k8s.Models.V1PodList, int>.Backoff(options, 3, random: 0.5));
        Assert.Equal(TimeSpan.FromSeconds(8), Reflector<k8s.Models.V1Pod, k8s.Models.V1PodList, int>.Backoff(options, 10, random: 1));
    }

    [Fact]
    public async Task Lists_ArePaged_20000PodsInPagesOfTheConfiguredSize()
    {
        await using var api = await FakeKubernetes.StartAsync();
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1" }));
        for (var i = 0; i < 20_000; i++)
        {
            api.Apply(Objects.Pod(string.Create(CultureInfo.InvariantCulture, $"pod{i:D5}"), i == 19_999 ? "dev1" : null));
        }

        api.Apply(Objects.Slice("svc1-abcde", "svc1", 8080, [new Objects.Endpoint("10.0.0.1", "pod19999")]));
        using var logs = new InMemoryLoggerProvider();
        var host = await WatchTests.StartHostAsync(api, logs, static o => o.ListPageSize = 1000);
        try
        {
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();

            Assert.Equal(["pod19999=dev1"], await DescribeAsync(endpoints, "svc1"));   // the last page was read
            var podLists = api.Requests.Where(static r => r.Kind == "Pod" && !r.Watch).ToList();
            Assert.Equal(20, podLists.Count);
            Assert.All(podLists, static r => Assert.Contains("limit=1000", r.Query, StringComparison.Ordinal));
        }
        finally
        {
            await WatchTests.StopAsync(host);
        }
    }

    private static async Task<string[]> DescribeAsync(LaneServiceEndpoints endpoints, string service)
        => [.. (await endpoints.GetAsync("http", service, CancellationToken.None))!.Definition.Instances.Select(static i => $"{i.Id}={i.Lane ?? "(none)"}")];

    /// <summary>Counts <c>lanes.kubernetes.rebuilds</c> from one host's meters (its <see cref="IMeterFactory"/>), so parallel tests do not add to it.</summary>
    private sealed class RebuildCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public RebuildCounter(IMeterFactory meters)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "lanes.kubernetes.rebuilds")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
