using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.ClientFactory;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// <c>Lanes:Services</c> in a watched JSON file, edited while an Aspire-shaped application sends HTTP and gRPC calls in
/// yellow and green without pause: relabelling an instance from yellow to green moves its traffic, with no failed call
/// across the change, and an invalid edit is refused (logged with the key) and changes nothing.
/// </summary>
public sealed class ReloadUnderLoadTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lanes-reload-").FullName;
    private readonly Dictionary<string, WireMockServer> _http = [];
    private readonly Dictionary<string, RunningServer> _grpc = [];
    private ServiceDefaultsHost _host = null!;

    private string File => Path.Combine(_directory, "appsettings.json");

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "a", "b", "c", "d", "plain" })
        {
            _http[name] = Fleet.Http(name);
            _grpc[name] = await Fleet.GrpcAsync(name);
        }

        Write(bLane: "yellow", bAddressValid: true);
        _host = await ServiceDefaultsHost.StartAsync(
            new ConfigurationBuilder().AddJsonFile(File, optional: false, reloadOnChange: true).Build(),
            static services =>
            {
                services.AddHttpClient("details").AddLaneRouting();
                services.AddGrpcClient<Echo.EchoClient>("reviews", static o => o.Address = new Uri("lanes:///reviews")).AddGrpcLaneRouting();
            });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        foreach (var server in _http.Values)
        {
            server.Stop();
        }

        foreach (var server in _grpc.Values)
        {
            await server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task RelabelledInstance_MovesItsTraffic_WithNoFailedCall_AndAnInvalidEditChangesNothing()
    {
        using var load = new Load(this);
        var running = load.RunAsync();

        // Before: yellow is served by a and b, green by c.
        await load.WaitForAsync(static s => s.Sees("yellow", "a") && s.Sees("yellow", "b") && s.Sees("green", "c"), "yellow served by a and b and green by c, over HTTP and gRPC");
        Assert.Equal(["a", "b"], load.ServedSince(0, "yellow"));
        Assert.Equal(["c"], load.ServedSince(0, "green"));

        // Relabel b from yellow to green: the file watcher reloads the settings, discovery resolves again, and both
        // transports rebuild that service's subsets.
        Write(bLane: "green", bAddressValid: true);
        await load.WaitForAsync(static s => s.Sees("green", "b"), "b relabelled green to serve green over both transports");
        var relabelled = load.Mark();
        await load.WaitForAsync(s => s.CountSince(relabelled) >= 400, "400 calls after the relabel");
        Assert.Equal(["a"], load.ServedSince(relabelled, "yellow"));
        Assert.Equal(["b", "c"], load.ServedSince(relabelled, "green"));

        // An invalid edit (b's address is not an address) is refused, logged with its key; the last good set serves.
        Write(bLane: "yellow", bAddressValid: false);
        await load.WaitForAsync(_ => _host.Logs.Records.Any(static r => r.EventId.Name == "SettingsReloadRefused"
            && r.Message.Contains("Lanes:Services:details:Instances:b:Address", StringComparison.Ordinal)), "the invalid address to be refused, naming its key");
        var refused = load.Mark();
        await load.WaitForAsync(s => s.CountSince(refused) >= 400, "400 calls after the refused edit");
        Assert.Equal(["a"], load.ServedSince(refused, "yellow"));
        Assert.Equal(["b", "c"], load.ServedSince(refused, "green"));

        load.Stop();
        await running;
        Assert.Empty(load.Failures);
        Assert.True(load.Count >= 800, $"{load.Count} calls");
        Assert.Contains(_host.Logs.Records, static r => r.EventId.Name == "ServiceEndpointsRefreshed" && r.Message.Contains("'reviews'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddedAndRemovedInstances_AndAChangedPolicy_ChangeRouting_ForHttpAndGrpc()
    {
        // Green: c, then c and d (added), then d only (c removed).
        Assert.Equal(["c"], await ServedAsync("green"));
        Write(new() { ["a"] = "yellow", ["b"] = "yellow", ["c"] = "green", ["d"] = "green", ["plain"] = null });
        await Wait.ForAsync(() => ServedAsync("green"), static a => a.SequenceEqual(["c", "d"]), "ServedAsync(green) to be [c, d]");
        Write(new() { ["a"] = "yellow", ["b"] = "yellow", ["d"] = "green", ["plain"] = null });
        await Wait.ForAsync(() => ServedAsync("green"), static a => a.SequenceEqual(["d"]), "ServedAsync(green) to be [d]");

        // Strict to Permissive: a lane without instances goes from the local 503 to the baseline.
        Assert.Equal(["503"], await ServedAsync("purple"));
        Write(new() { ["a"] = "yellow", ["b"] = "yellow", ["d"] = "green", ["plain"] = null }, policy: "Permissive");
        await Wait.ForAsync(() => ServedAsync("purple"), static a => a.SequenceEqual(["plain"]), "ServedAsync(purple) to be [plain]");
    }

    /// <summary>Who served 8 HTTP and 8 gRPC calls in <paramref name="lane"/> (both transports must agree), sorted.</summary>
    private async Task<string[]> ServedAsync(string lane)
    {
        var http = new SortedSet<string>(StringComparer.Ordinal);
        var grpc = new SortedSet<string>(StringComparer.Ordinal);
        var client = _host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>("reviews");
        using (LaneContext.Begin(lane))
        {
            for (var i = 0; i < 8; i++)
            {
                using var response = await _host.Http("details").GetAsync("http://details/x");
                http.Add(response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : $"{(int)response.StatusCode}");
                try
                {
                    grpc.Add((await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Instance);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    grpc.Add("503");
                }
            }
        }

        return http.SetEquals(grpc) ? [.. http] : [$"http {string.Join(",", http)} / grpc {string.Join(",", grpc)}"];
    }


    /// <summary>The first fleet, with b relabelled or given an invalid address.</summary>
    private void Write(string bLane, bool bAddressValid)
        => Write(new() { ["a"] = "yellow", ["b"] = bLane, ["c"] = "green", ["plain"] = null }, invalidB: !bAddressValid);

    /// <summary>Rewrites the settings file at once (a new file moved over the old), as a deployment tool does.</summary>
    private void Write(Dictionary<string, string?> instances, string policy = "Strict", bool invalidB = false)
    {
        object Services(Func<string, string> address) => new Dictionary<string, object>
        {
            ["Metadata"] = new Dictionary<string, string> { ["lanePolicy"] = policy },
            ["Instances"] = instances.ToDictionary(
                static i => i.Key,
                i => (object)new Dictionary<string, object>
                {
                    ["Address"] = invalidB && i.Key == "b" ? "not an address" : address(i.Key),
                    ["Metadata"] = i.Value is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["lane"] = i.Value },
                }),
        };

        var settings = new
        {
            Lanes = new
            {
                Preset = "nsf",
                Services = new Dictionary<string, object>
                {
                    ["details"] = Services(n => _http[n].Url!),
                    ["reviews"] = Services(n => _grpc[n].Address.ToString()),
                },
            },
        };
        var next = File + ".next";
        System.IO.File.WriteAllText(next, JsonSerializer.Serialize(settings));
        System.IO.File.Move(next, File, overwrite: true);
    }

    /// <summary>Two HTTP and two gRPC callers, each alternating yellow and green calls until stopped.</summary>
    private sealed class Load(ReloadUnderLoadTests test) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<(long At, string Transport, string Lane, string Served)> _served = new();
        private long _sequence;

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Count => _served.Count;

        public Task RunAsync() => Task.WhenAll(
            Enumerable.Range(0, 2).Select(_ => Task.Run(() => LoopAsync("http", HttpAsync)))
                .Concat(Enumerable.Range(0, 2).Select(_ => Task.Run(() => LoopAsync("grpc", GrpcAsync)))));

        public void Stop() => _stop.Cancel();

        public long Mark() => Interlocked.Increment(ref _sequence);

        /// <summary>Whether both transports had a call in <paramref name="lane"/> served by <paramref name="served"/>.</summary>
        public bool Sees(string lane, string served)
            => _served.Where(s => s.Lane == lane && s.Served == served).Select(static s => s.Transport).Distinct().Count() == 2;

        /// <summary>The calls started after <see cref="Mark"/> returned <paramref name="mark"/>.</summary>
        public int CountSince(long mark) => _served.Count(s => s.At >= mark);

        public string[] ServedSince(long mark, string lane)
            => [.. _served.Where(s => s.At >= mark && s.Lane == lane).Select(static s => s.Served).Distinct().Order(StringComparer.Ordinal)];

        public Task WaitForAsync(Func<Load, bool> condition, string what)
            => Wait.UntilAsync(
                () =>
                {
                    Assert.Empty(Failures);
                    return condition(this);
                },
                what,
                () => $"{_served.Count} calls served");

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
        }

        private async Task LoopAsync(string transport, Func<string, Task<string>> call)
        {
            var lanes = new[] { "yellow", "green" };
            for (var i = 0; !_stop.IsCancellationRequested; i++)
            {
                var lane = lanes[i % 2];
                var at = Interlocked.Read(ref _sequence);
                try
                {
                    var served = await call(lane);
                    _served.Enqueue((at, transport, lane, served));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Failures.Enqueue($"{transport} {lane}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        private async Task<string> HttpAsync(string lane)
        {
            using (LaneContext.Begin(lane))
            {
                using var response = await test._host.Http("details").GetAsync("http://details/x");
                return response.StatusCode == HttpStatusCode.OK
                    ? await response.Content.ReadAsStringAsync()
                    : throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
            }
        }

        private async Task<string> GrpcAsync(string lane)
        {
            var client = test._host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>("reviews");
            using (LaneContext.Begin(lane))
            {
                return (await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Instance;
            }
        }
    }
}
