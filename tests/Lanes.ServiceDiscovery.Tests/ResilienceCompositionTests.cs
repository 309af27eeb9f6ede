using System.Net;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client.Configuration;
using Grpc.Net.ClientFactory;
using Lanes.Grpc.Tests.Protos;
using Lanes.Http.Resilience;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;
using WireMock.Server;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Lane routing under the standard resilience handler of an Aspire-shaped application, with instances that fail or
/// stop mid-test: retries pick again inside the lane's subset, the policy's fallback follows, and one lane's failures
/// open a circuit breaker for that lane only when the pipeline is keyed by lane.
/// </summary>
public sealed class ResilienceCompositionTests : IAsyncLifetime
{
    private readonly List<WireMockServer> _http = [];
    private readonly List<RunningServer> _grpc = [];
    private readonly List<ServiceDefaultsHost> _hosts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        foreach (var server in _http)
        {
            server.Stop();
        }

        foreach (var server in _grpc)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Http_UpstreamError_IsRetriedByTheStandardHandler_OnAnotherInstanceOfTheLane()
    {
        var failing = Http("yellow-a", status: 500);
        var yellow = Http("yellow-b");
        var green = Http("green");
        var plain = Http("unlabelled");
        var host = await HostAsync(config => Fleet.Service(config, "details", "Strict", null,
            ("yellow-a", failing.Url!, "yellow"), ("yellow-b", yellow.Url!, "yellow"), ("green", green.Url!, "green"), ("plain", plain.Url!, null)));

        for (var i = 0; i < 2; i++)
        {
            var before = host.Attempts["details"];
            Assert.Equal("yellow-b", await GetAsync(host, "yellow"));

            // Round robin in the subset: the first attempt of one of the two calls hit yellow-a (500) and the retry
            // went to yellow-b; no attempt ever left the yellow subset.
            Assert.InRange(host.Attempts["details"] - before, 1, 2);
        }

        Assert.Equal(2, yellow.LogEntries.Count);
        Assert.InRange(failing.LogEntries.Count, 1, 2);
        Assert.Empty(green.LogEntries);
        Assert.Empty(plain.LogEntries);
        Assert.All(failing.LogEntries.Concat(yellow.LogEntries), static e => Assert.Equal("yellow", e.RequestMessage.Headers!["x-nsf-mark"].Single()));
    }

    [Theory]
    [InlineData("standard-retries")]
    [InlineData("lanes-connection-retry")]
    [InlineData("lanes-registered-before-the-defaults")]
    public async Task Http_EveryAttemptOfARetriedCall_CarriesTheLaneInBaggage(string retries)
    {
        // Arrange: a yellow instance that answers 500 twice (the standard handler retries), or a dead yellow instance
        // first (Lanes' own retry after a connection failure), or an application that registers Lanes' propagation
        // for every client before its service defaults (a plain client, 500 twice). The caller's Activity has other
        // baggage (userId=7).
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var calls = 0;
        var fails = retries != "lanes-connection-retry";
        await using var yellow = await TestServers.StartAsync(null, app => app.MapGet("/{**rest}", (Microsoft.AspNetCore.Http.HttpContext context) =>
        {
            seen.Enqueue($"lane={context.Request.Headers["x-nsf-mark"]} baggage={context.Request.Headers.Baggage}");
            return Microsoft.AspNetCore.Http.Results.StatusCode(fails && Interlocked.Increment(ref calls) <= 2 ? 500 : 200);
        }));
        var host = await HostAsync(
            config => Fleet.Service(config, "details", "Strict", null, retries == "lanes-connection-retry"
                ? [("dead", Fleet.Dead(), "yellow"), ("yellow", yellow.Address.ToString(), "yellow")]
                : [("yellow", yellow.Address.ToString(), "yellow")]),
            resilience: static s => s.Configure(static o =>
            {
                o.Retry.Delay = TimeSpan.FromMilliseconds(1);
                o.Retry.UseJitter = false;
            }),
            beforeDefaults: retries == "lanes-registered-before-the-defaults" ? static s => s.AddLanes().AddHttpClientFactoryPropagation() : null);

        // Act
        using (var activity = new System.Diagnostics.Activity("inbound").Start())
        {
            activity.AddBaggage("userId", "7");
            if (retries == "lanes-registered-before-the-defaults")
            {
                using (LaneContext.Begin("yellow"))
                {
                    using var response = await host.Http("plain").GetAsync(new Uri(yellow.Address, "/details/1"));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }
            }
            else
            {
                Assert.Equal(string.Empty, await GetAsync(host, "yellow"));
            }
        }

        // Assert: every attempt that reached the instance carried the lane as header and as the first baggage member.
        Assert.Equal(fails ? 3 : 1, seen.Count);
        Assert.All(seen, static attempt => Assert.Equal("lane=yellow baggage=x-nsf-mark=yellow,userId=7", attempt));
    }

    [Fact]
    public async Task Http_InstanceStoppedMidTest_RetriesRePickInTheSubset_ThenThePolicysFallbackApplies()
    {
        var yellowA = Http("yellow-a");
        var yellowB = Http("yellow-b");
        var plain = Http("unlabelled");
        var host = await HostAsync(config =>
        {
            foreach (var policy in new[] { "Strict", "Permissive" })
            {
                Fleet.Service(config, $"details-{policy.ToLowerInvariant()}", policy, null,
                    ("yellow-a", yellowA.Url!, "yellow"), ("yellow-b", yellowB.Url!, "yellow"), ("plain", plain.Url!, null));
            }
        });

        Assert.Equal("yellow-a", await GetAsync(host, "yellow", "details-permissive"));
        await Fleet.StopAsync(yellowA);

        // Every call still succeeds in the lane: the dead instance is found (connection refused), ejected, and the
        // same call is sent to the other yellow instance; after that the ejected instance is not tried at all.
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("yellow-b", await GetAsync(host, "yellow", "details-permissive"));
        }

        Assert.Equal("yellow-b", await PostAsync(host, "yellow", "details-strict"));

        // The lane's last instance goes: the fallback is the policy's, answered at once.
        // (WireMock's Stop returns before its listener and kept-alive connections are gone: a call may still reach it.)
        yellowB.Stop();
        await Wait.ForAsync(() => GetAsync(host, "yellow", "details-permissive"), static answer => answer switch
        {
            "unlabelled" => true,
            "yellow-b" => false,
            var other => throw new Xunit.Sdk.XunitException($"a call failed across the stop: {other}"),
        }, "yellow calls to fall back to the unlabelled baseline once yellow-b stopped");
        var before = host.Attempts["details"];
        Assert.Equal("503", await GetAsync(host, "yellow", "details-strict"));
        Assert.Equal(1, host.Attempts["details"] - before);
        Assert.Contains(host.Logs.Records, static r => r.EventId.Name == "InstanceEjected" && r.Message.Contains("'yellow-a'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Grpc_InstanceStoppedMidTest_NoCallFailsOrLeavesTheLane_ThenThePolicysFallbackApplies()
    {
        var yellowA = await GrpcAsync("yellow-a");
        var yellowB = await GrpcAsync("yellow-b");
        var plain = await GrpcAsync("unlabelled");
        var host = await HostAsync(
            config =>
            {
                foreach (var policy in new[] { "Strict", "Permissive" })
                {
                    Fleet.Service(config, $"reviews-{policy.ToLowerInvariant()}", policy, null,
                        ("yellow-a", yellowA.Address.ToString(), "yellow"), ("yellow-b", yellowB.Address.ToString(), "yellow"),
                        ("plain", plain.Address.ToString(), null));
                }
            },
            grpc: true);

        var seen = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add(await CallAsync(host, "yellow", "permissive"));
        }

        Assert.Equal(["yellow-a", "yellow-b"], seen.Order());
        await yellowA.App.StopAsync();

        // The balancer sees the connection close and takes the instance out of the subset; a call that still finds it
        // gone is retried by the gRPC retry policy, picking again in the subset: no call fails, none leaves the lane.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("yellow-b", await CallAsync(host, "yellow", "permissive"));
            Assert.Equal("yellow-b", await CallAsync(host, "yellow", "strict"));
        }

        await yellowB.App.StopAsync();
        await Wait.ForAsync(() => CallAsync(host, "yellow", "permissive"), static a => a == "unlabelled", "CallAsync(host, yellow, permissive) to answer unlabelled");
        await Wait.ForAsync(() => CallAsync(host, "yellow", "strict"), static a => a == "503", "CallAsync(host, yellow, strict) to answer 503");
    }

    [Fact]
    public async Task Grpc_CallAnInstanceFails_IsRetriedByTheGrpcRetryPolicy_OnAnotherInstanceOfTheLane()
    {
        // gRPC picks outside the HttpClient pipeline (grpc-dotnet's balancer wraps it), so an HTTP-level retry would go
        // back to the same instance; the gRPC retry policy retries the call itself, through the lane picker.
        var failing = new Failing();
        var yellowA = await GrpcAsync("yellow-a", failing);
        var yellowB = await GrpcAsync("yellow-b");
        var green = await GrpcAsync("green");
        var host = await HostAsync(
            config => Fleet.Service(config, "reviews-strict", "Strict", null,
                ("yellow-a", yellowA.Address.ToString(), "yellow"), ("yellow-b", yellowB.Address.ToString(), "yellow"),
                ("green", green.Address.ToString(), "green")),
            grpc: true);

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("yellow-b", await CallAsync(host, "yellow", "strict"));
        }

        // yellow-a was picked (round robin over the subset reaches it within two picks), failed, and every retry re-picked
        // in the subset: at most MaxAttempts - 1 failed attempts per call (the picker restarts its rotation when the
        // balancer rebuilds it, so the exact count depends on when the three connections became ready).
        Assert.InRange(failing.Calls, 1, 6 * 2);
        Assert.All(failing.Lanes, static lane => Assert.Equal("yellow", lane));
        Assert.Equal("green", await CallAsync(host, "green", "strict"));
    }

    [Fact]
    public async Task CircuitBreaker_KeyedByLane_YellowFailuresDoNotRejectGreen_AndUnkeyedTheyDo()
    {
        var yellow = Http("yellow", status: 500);
        var green = Http("green");
        void Services(IDictionary<string, string?> config)
            => Fleet.Service(config, "details", "Strict", null, ("yellow", yellow.Url!, "yellow"), ("green", green.Url!, "green"));

        // A breaker that opens after a few failures and retries without waiting, so the test runs in a second.
        static void Fast(IHttpStandardResiliencePipelineBuilder standard) => standard.Configure(o =>
        {
            o.Retry.Delay = TimeSpan.FromMilliseconds(1);
            o.Retry.UseJitter = false;
            o.CircuitBreaker.MinimumThroughput = 4;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        });

        var keyed = await HostAsync(Services, resilience: s =>
        {
            Fast(s);
            s.SelectPipelineBy(LaneResiliencePipelines.ByLane);
        });
        var unkeyed = await HostAsync(Services, resilience: Fast);

        foreach (var host in new[] { keyed, unkeyed })
        {
            await Assert.ThrowsAsync<BrokenCircuitException>(async () =>
            {
                for (var i = 0; i < 20; i++)
                {
                    await GetAsync(host, "yellow");
                }
            });
        }

        // Keyed by lane, green has a breaker of its own, closed; one pipeline for the client, green is rejected too.
        Assert.Equal("green", await GetAsync(keyed, "green"));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => GetAsync(unkeyed, "green"));
        Assert.Single(green.LogEntries);
    }

    [Fact]
    public void ByLane_KeysTheOutboundLane_AndBoundsTheNumberOfKeys()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.AddLanes();
        using var provider = services.BuildServiceProvider();
        var key = LaneResiliencePipelines.ByLane(provider);

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://details/");
        Assert.Equal(string.Empty, key(request));
        using (LaneContext.Begin("yellow"))
        {
            Assert.Equal("yellow", key(request));
            request.Headers.Add("x-nsf-mark", "green");                 // a header the application set wins (DESIGN 4)
            Assert.Equal("green", key(request));
        }

        // A fresh selector (one per client): the first MaxLanes lanes get a key each, later ones share one.
        var bounded = LaneResiliencePipelines.ByLane(provider);
        using var other = new HttpRequestMessage(HttpMethod.Get, "http://details/");
        var keys = new List<string>();
        for (var i = 0; i < LaneResiliencePipelines.MaxLanes + 10; i++)
        {
            using (LaneContext.Begin($"f-{i}"))
            {
                keys.Add(bounded(other));
            }
        }

        Assert.Equal(Enumerable.Range(0, LaneResiliencePipelines.MaxLanes).Select(static i => $"f-{i}"), keys.Take(LaneResiliencePipelines.MaxLanes));
        Assert.All(keys.Skip(LaneResiliencePipelines.MaxLanes), static k => Assert.Equal(LaneResiliencePipelines.OtherLanesKey, k));
        using (LaneContext.Begin("f-3"))
        {
            Assert.Equal("f-3", bounded(other));                       // a lane keyed once keeps its key
        }
    }

    private static async Task<string> GetAsync(ServiceDefaultsHost host, string? lane, string service = "details")
    {
        using (LaneContext.Begin(lane))
        {
            using var response = await host.Http("details").GetAsync($"http://{service}/details/1");
            return response.StatusCode switch
            {
                HttpStatusCode.OK => await response.Content.ReadAsStringAsync(),
                HttpStatusCode.ServiceUnavailable => "503",
                var status => $"{(int)status}",
            };
        }
    }

    private static async Task<string> PostAsync(ServiceDefaultsHost host, string? lane, string service)
    {
        using (LaneContext.Begin(lane))
        {
            using var content = new StringContent("{}");
            using var response = await host.Http("details").PostAsync($"http://{service}/details", content);
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : $"{(int)response.StatusCode}";
        }
    }

    private static async Task<string> CallAsync(ServiceDefaultsHost host, string? lane, string policy)
    {
        var client = host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>(policy);
        using (LaneContext.Begin(lane))
        {
            try
            {
                return (await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Instance;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && e.Status.Detail.StartsWith("no healthy upstream", StringComparison.Ordinal))
            {
                return "503";
            }
        }
    }


    private WireMockServer Http(string name, int status = 200)
    {
        var server = Fleet.Http(name, status);
        _http.Add(server);
        return server;
    }

    private async Task<RunningServer> GrpcAsync(string name, Failing? failing = null)
    {
        var server = await Fleet.GrpcAsync(name, failing);
        _grpc.Add(server);
        return server;
    }

    private async Task<ServiceDefaultsHost> HostAsync(
        Action<IDictionary<string, string?>> services,
        bool grpc = false,
        Action<IHttpStandardResiliencePipelineBuilder>? resilience = null,
        Action<IServiceCollection>? beforeDefaults = null)
    {
        var config = new Dictionary<string, string?>(Fleet.NsfLanes);
        services(config);
        var host = await ServiceDefaultsHost.StartAsync(
            new ConfigurationBuilder().AddInMemoryCollection(config).Build(),
            s =>
            {
                s.AddHttpClient("details").AddLaneRouting().CountAttempts();
                if (grpc)
                {
                    foreach (var policy in new[] { "strict", "permissive" })
                    {
                        s.AddGrpcClient<Echo.EchoClient>(policy, o => o.Address = new Uri($"lanes:///reviews-{policy}"))
                            .ConfigureChannel(static c => c.ServiceConfig = new ServiceConfig
                            {
                                MethodConfigs =
                                {
                                    new MethodConfig
                                    {
                                        Names = { MethodName.Default },
                                        RetryPolicy = new RetryPolicy
                                        {
                                            MaxAttempts = 3,
                                            InitialBackoff = TimeSpan.FromMilliseconds(20),
                                            MaxBackoff = TimeSpan.FromMilliseconds(100),
                                            BackoffMultiplier = 2,
                                            RetryableStatusCodes = { StatusCode.Unavailable },
                                        },
                                    },
                                },
                            })
                            .AddGrpcLaneRouting();
                    }
                }
            },
            resilience,
            beforeDefaults);
        _hosts.Add(host);
        return host;
    }
}

/// <summary>A server interceptor that fails every call with <c>Unavailable</c> and remembers each call's lane.</summary>
internal sealed class Failing : Interceptor
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public System.Collections.Concurrent.ConcurrentQueue<string?> Lanes { get; } = new();

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Interlocked.Increment(ref _calls);
        Lanes.Enqueue(context.RequestHeaders.GetValue("x-nsf-mark"));
        throw new RpcException(new Status(StatusCode.Unavailable, "instance failing"));
    }
}
