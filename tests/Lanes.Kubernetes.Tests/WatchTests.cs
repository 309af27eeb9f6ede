using k8s;
using Lanes.ServiceDiscovery;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// The provider's list and watch against the fake API server, with the real KubernetesClient: faults of the watch
/// (expiry, dropped and silent connections, bookmarks) and what routing sees through service discovery.
/// </summary>
public sealed class WatchTests : IAsyncLifetime, IDisposable
{
    private FakeKubernetes _api = null!;
    private PodServers _pods = null!;
    private IHost _host = null!;
    private readonly InMemoryLoggerProvider _logs = new();

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetes.StartAsync();
        _pods = await PodServers.StartAsync("pod1", "pod2");
        _api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1,dev2" }));
        _api.Apply(Objects.Pod("pod1", "dev1"));
        _api.Apply(Objects.Pod("pod2", null));
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1"), _pods.Endpoint("pod2")]));
        _host = await StartHostAsync(_api, _logs, o => o.IdleTimeout = TimeSpan.FromSeconds(2));
    }

    public void Dispose() => _logs.Dispose();

    public async Task DisposeAsync()
    {
        await StopAsync(_host);

        await _pods.DisposeAsync();
        await _api.DisposeAsync();
    }

    internal static async Task StopAsync(IHost host)
    {
        await host.StopAsync();
        if (host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    /// <summary>A client host: Lanes (nsf), the Kubernetes provider on the fake server (Hango's keys, Declared), one routed client.</summary>
    internal static async Task<IHost> StartHostAsync(FakeKubernetes api, InMemoryLoggerProvider logs, Action<KubernetesLaneOptions>? configure = null, TimeProvider? time = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" });
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<IKubernetes>(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Address.ToString() }));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddKubernetesServiceEndpoints(o =>
        {
            o.UseHango();
            o.DefaultPolicy = Lanes.Routing.LanePolicy.Declared;
            o.ReconnectDelay = TimeSpan.FromMilliseconds(50);
            o.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
            configure?.Invoke(o);
        });
        builder.Services.AddHttpClient("svc1").AddLaneRouting();
        builder.Services.AddHealthChecks().AddKubernetesLaneReadiness();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    [Fact]
    public async Task Synced_InstancesCarryThePodLabels_AndTheServiceAnnotationDeclaresTheLanes()
    {
        var snapshot = await SnapshotAsync();

        Assert.Equal(["pod1=dev1", "pod2=(none)"], Describe(snapshot));
        Assert.True(snapshot.HasServiceSettings);
        Assert.Equal(Lanes.Routing.LanePolicy.Declared, snapshot.Definition.Settings.Policy);
        Assert.Equal(["dev1", "dev2"], snapshot.Definition.Settings.DeclaredLanes!);
        Assert.Equal(_pods.Addresses["pod1"], snapshot.Definition.Instances[0].Address.Host);
        Assert.Equal(_pods.Port, snapshot.Definition.Instances[0].Address.Port);
    }

    [Fact]
    public async Task DroppedConnection_ResumesFromTheLastVersionSeen_WithoutAList()
    {
        await SnapshotAsync();
        await AllWatchesOpenAsync();
        var seen = _api.Apply(Objects.Pod("pod2", "dev2"));
        await UntilSnapshotAsync(static s => Describe(s).Contains("pod2=dev2"), "pod2 relabelled dev2");

        _api.DropConnections();
        _api.Apply(Objects.Pod("pod1", "dev2"));
        await UntilSnapshotAsync(static s => Describe(s).SequenceEqual(["pod1=dev2", "pod2=dev2"]), "pod1 relabelled dev2 after the dropped connection");

        // The pod watch came back from exactly the version of the last event it had (nothing replayed twice, nothing
        // skipped), and the pods were listed once, at the start.
        var pods = _api.Requests.Where(static r => r.Kind == "Pod").ToArray();
        Assert.Single(pods, static r => !r.Watch);
        Assert.Contains(pods, r => r.Watch && r.ResourceVersion == seen.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("allowWatchBookmarks=true", pods.Last(static r => r.Watch).Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_WhileDisconnected_RelistsAndWhatWasDeletedMeanwhileDisappears()
    {
        using var restarts = new RestartRecorder();
        await SnapshotAsync();
        await AllWatchesOpenAsync();
        _api.Refusing = true;
        _api.DropConnections();

        // While the provider is cut off: pod2 goes, its endpoint goes, and the history expires.
        _api.Delete("Pod", "pod2");
        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1")]));
        _api.Expire();
        var slicesListed = _api.Requests.Count(static r => r.Kind == "EndpointSlice" && !r.Watch);
        _api.Refusing = false;

        await UntilSnapshotAsync(static s => Describe(s).SequenceEqual(["pod1=dev1"]), "pod2 gone after the relist");
        Assert.True(_api.Requests.Count(static r => r.Kind == "EndpointSlice" && !r.Watch) > slicesListed, "no relist after 410");
        Assert.Contains(_logs.Records, static r => r.EventId.Name == "KubernetesWatchExpired");
        Assert.Contains(_logs.Records, static r => r.EventId.Name == "KubernetesWatchFailed");   // the refused reconnects
        Assert.Contains(("endpointslices", "expired"), restarts.Seen);                          // on the Lanes meter
        Assert.Contains(("endpointslices", "dropped"), restarts.Seen);
    }

    /// <summary>Records <c>lanes.kubernetes.watch.restarts</c> from the <c>Lanes</c> meter, as OpenTelemetry's AddMeter("Lanes") would.</summary>
    private sealed class RestartRecorder : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();

        public RestartRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == LanesDiagnostics.MeterName && instrument.Name == "lanes.kubernetes.watch.restarts")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? resource = null, reason = null;
                foreach (var tag in tags)
                {
                    resource = tag.Key == "lane.kubernetes.resource" ? tag.Value as string : resource;
                    reason = tag.Key == "lane.kubernetes.restart.reason" ? tag.Value as string : reason;
                }

                Seen.Add((resource, reason));
            });
            _listener.Start();
        }

        public System.Collections.Concurrent.ConcurrentBag<(string?, string?)> Seen { get; } = [];

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task Bookmark_AdvancesTheVersionTheWatchResumesFrom()
    {
        await SnapshotAsync();
        await _api.WaitForWatchAsync("EndpointSlice");
        _api.Advance(50);                                           // other objects changed; nothing this watch selects
        var bookmark = _api.Bookmark();
        var text = bookmark.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _api.EndWatches();                                          // after the bookmark, as a watch timeout does

        await Wait.UntilAsync(
            () => _api.Requests.Any(r => r.Kind == "EndpointSlice" && r.Watch && r.ResourceVersion == text),
            $"the slice watch to resume from the bookmark's version {text}",
            () => $"{string.Join(", ", _api.Requests.Where(static r => r.Kind == "EndpointSlice").Select(static r => r.ResourceVersion))}\n{string.Join("\n", _logs.Records.Where(static r => r.Level >= LogLevel.Information).Select(static r => r.Message + r.Exception))}");

        Assert.Single(_api.Requests, static r => r.Kind == "EndpointSlice" && !r.Watch);
    }

    [Fact]
    public async Task UndecodableWatchLine_ForcesARelist_AndTheChangeItCarriedArrives()
    {
        await SnapshotAsync();
        await AllWatchesOpenAsync();
        var podLists = _api.Requests.Count(static r => r.Kind == "Pod" && !r.Watch);
        _api.Garbling = true;                                         // pod2's change reaches the watch as garbage
        _api.Apply(Objects.Pod("pod2", "dev2"));
        _api.Garbling = false;
        _api.Apply(Objects.Pod("pod1", "dev1"));                      // a later event moves the version on

        await UntilSnapshotAsync(static s => Describe(s).Contains("pod2=dev2"), "pod2's change, read by a relist");
        Assert.True(_api.Requests.Count(static r => r.Kind == "Pod" && !r.Watch) > podLists, "no relist after the undecodable line: " + string.Join("; ", _logs.Records.Where(static r => r.Level >= LogLevel.Information).Select(static r => $"{r.EventId.Name}: {r.Message} {r.Exception?.GetType().Name} {r.Exception?.Message}")) + " | " + string.Join(", ", _api.Requests.Where(static r => r.Kind == "Pod").Select(static r => $"{(r.Watch ? "watch" : "list")}@{r.ResourceVersion}")));
        Assert.Contains(_logs.Records, static r => r.EventId.Name == "KubernetesWatchBroken");
    }

    [Fact]
    public async Task SilentWatch_IsResumedAfterTheIdleTimeout_AndTheMissedChangeArrives()
    {
        await SnapshotAsync();
        await _api.WaitForWatchAsync("Pod");
        _api.Silent = true;                                          // the connection stays open, nothing comes through
        _api.Apply(Objects.Pod("pod2", "dev2"));

        await UntilSnapshotAsync(static s => Describe(s).Contains("pod2=dev2"), "pod2 relabelled dev2");
        Assert.Contains(_logs.Records, static r => r.EventId.Name == "KubernetesWatchIdle");
        _api.Silent = false;
    }

    [Fact]
    public async Task ClientSideRouting_ReadsTheSameProvider()
    {
        var client = _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("svc1");
        async Task<string> GetAsync(string? lane)
        {
            using (LaneContext.Begin(lane))
            {
                using var response = await client.GetAsync(new Uri("http://svc1/"));
                return response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable ? "503" : await response.Content.ReadAsStringAsync();
            }
        }

        Assert.Equal("pod1 dev1", await GetAsync("dev1"));
        Assert.Equal("pod2", await GetAsync(null));
        Assert.Equal("503", await GetAsync("dev2"));                  // declared by the annotation, no instance
        Assert.Equal("pod2 dev3", await GetAsync("dev3"));

        _api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1", terminating: true), _pods.Endpoint("pod2")]));
        await Wait.ForAsync(() => GetAsync("dev1"), static a => a == "503", "dev1 to answer 503 once pod1 terminates (a terminating endpoint takes no new calls)");
    }

    [Fact]
    public async Task SliceBeforeItsPod_IsHeldUntilThePodArrives_NeverServedUnlabelled_AndReportedAfterTheWait()
    {
        var api = await FakeKubernetes.StartAsync();
        await using var _ = api;
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1" }));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1"), _pods.Endpoint("pod2")]));
        using var logs = new InMemoryLoggerProvider();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var wait = new KubernetesLaneOptions().PodWaitTimeout;
        var host = await StartHostAsync(api, logs, time: time);
        try
        {
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            async Task<string[]> InstancesAsync() => Describe((await endpoints.GetAsync("http", "svc1", CancellationToken.None))!);
            Assert.Equal(["pod1=dev1"], await InstancesAsync());                // pod2's endpoint is held

            // A tick short of the wait nothing is reported; past it the endpoint is reported once (naming RBAC), and
            // still held: its lane is unknown, so it never serves as the unlabelled baseline.
            time.Advance(wait - TimeSpan.FromTicks(1));
            Assert.DoesNotContain(logs.Records, static r => r.EventId.Name == "KubernetesPodNotSeen");
            time.Advance(wait);
            var rebuildDelay = new KubernetesLaneOptions().RebuildDelay;        // the rebuild queue's wait, on this clock too
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(rebuildDelay);
                    return logs.Records.Any(static r => r.EventId.Name == "KubernetesPodNotSeen");
                },
                "the held endpoint to be reported");
            var report = logs.Records.Single(static r => r.EventId.Name == "KubernetesPodNotSeen");
            Assert.Contains("'pod2'", report.Message, StringComparison.Ordinal);
            Assert.Contains("RBAC", report.Message, StringComparison.Ordinal);
            Assert.Equal(["pod1=dev1"], await InstancesAsync());

            // The pod arrives (unlabelled): now the endpoint serves, as the unlabelled instance it is.
            api.Apply(Objects.Pod("pod2", null));
            await Wait.ForAsync(
                () =>
                {
                    time.Advance(rebuildDelay);
                    return InstancesAsync();
                },
                static s => s is ["pod1=dev1", "pod2=(none)"],
                "pod2 to serve once its pod arrived",
                describe: static s => string.Join(", ", s));
        }
        finally
        {
            await StopAsync(host);
        }
    }

    [Fact]
    public async Task NotListedYet_IsNotReady_NeverFallsBackToTheServiceName_ThenServesOnceListed()
    {
        var api = await FakeKubernetes.StartAsync();
        await using var _ = api;
        api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1" }));
        api.Apply(Objects.Pod("pod1", "dev1"));
        api.Apply(Objects.Pod("pod2", null));
        api.Apply(Objects.Slice("svc1-abcde", "svc1", _pods.Port, [_pods.Endpoint("pod1"), _pods.Endpoint("pod2")]));
        api.Refusing = true;                                              // the API server does not answer the lists yet
        using var logs = new InMemoryLoggerProvider();
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var host = await StartHostAsync(api, logs, time: time);
        try
        {
            var health = host.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>();
            var notReadyYet = await health.CheckHealthAsync(static c => c.Tags.Contains("ready"));
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, notReadyYet.Status);
            Assert.Contains("not read yet: services, pods, endpointslices", notReadyYet.Entries["lanes-kubernetes"].Description, StringComparison.Ordinal);
            var endpoints = host.Services.GetRequiredService<LaneServiceEndpoints>();
            var resolving = endpoints.GetAsync("http", "svc1", CancellationToken.None).AsTask();
            var syncTimeout = new KubernetesLaneOptions().SyncTimeout;
            await Wait.UntilAsync(
                () =>
                {
                    time.Advance(syncTimeout);                              // until the wait's timer exists and ran out
                    return resolving.IsCompleted;
                },
                "the first resolution to stop waiting for the lists");

            // Not ready: no instance at all, not pass-through's "svc1" (a virtual IP that would balance every lane over
            // every pod as the baseline). A routed call answers as for a lane with no instance.
            var notReady = (await resolving)!;
            Assert.Empty(notReady.Definition.Instances);
            Assert.True(notReady.HasServiceSettings);
            Assert.Contains(logs.Records, static r => r.EventId.Name == "KubernetesNotSynced");
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("svc1");
            using (var response = await client.GetAsync(new Uri("http://svc1/")))
            {
                Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, response.StatusCode);
            }

            api.Refusing = false;                                             // the lists arrive: the service is ready
            await Wait.ForAsync(
                async () =>
                {
                    time.Advance(new KubernetesLaneOptions().MaxReconnectDelay);   // the reconnect backoff runs on this clock
                    return Describe((await endpoints.GetAsync("http", "svc1", CancellationToken.None))!);
                },
                static s => s is ["pod1=dev1", "pod2=(none)"],
                "svc1's instances once listed",
                describe: static s => string.Join(", ", s));
            var ready = await health.CheckHealthAsync(static c => c.Tags.Contains("ready"));
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, ready.Status);
        }
        finally
        {
            await StopAsync(host);
        }
    }

    [Fact]
    public async Task InvalidAnnotations_AreLoggedWithTheKey_AndTheRestApplies()
    {
        _api.Apply(Objects.Service("svc1", new Dictionary<string, string> { [Objects.HangoMark] = "dev1,Not A Lane", ["lane-policy"] = "Sometimes" }));
        await UntilSnapshotAsync(static s => s.Definition.Settings.DeclaredLanes?.SequenceEqual(["dev1"]) == true, "the valid part of the annotation (dev1) declared");

        var snapshot = await SnapshotAsync();
        Assert.Equal(Lanes.Routing.LanePolicy.Declared, snapshot.Definition.Settings.Policy);   // the configured default
        Assert.Contains(_logs.Records, static r => r.EventId.Name == "KubernetesInvalidAnnotation" && r.Message.Contains("'lane-policy'", StringComparison.Ordinal));
        Assert.Contains(_logs.Records, static r => r.EventId.Name == "KubernetesInvalidAnnotation" && r.Message.Contains(Objects.HangoMark, StringComparison.Ordinal));
    }

    private async Task AllWatchesOpenAsync()
    {
        await _api.WaitForWatchAsync("Service");
        await _api.WaitForWatchAsync("Pod");
        await _api.WaitForWatchAsync("EndpointSlice");
    }

    private static string[] Describe(LaneServiceSnapshot snapshot)
        => [.. snapshot.Definition.Instances.Select(static i => $"{i.Id}={i.Lane ?? "(none)"}")];

    private async Task<LaneServiceSnapshot> SnapshotAsync()
        => await _host.Services.GetRequiredService<LaneServiceEndpoints>().GetAsync("http", "svc1", CancellationToken.None)
           ?? throw new Xunit.Sdk.XunitException("svc1 is not known to discovery");

    private Task<LaneServiceSnapshot> UntilSnapshotAsync(Func<LaneServiceSnapshot, bool> condition, string what)
        => Wait.ForAsync(SnapshotAsync, condition, what, describe: static s => string.Join(", ", Describe(s)));
}
