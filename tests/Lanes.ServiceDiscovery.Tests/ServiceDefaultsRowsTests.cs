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
/// One fleet and one client application wired like Aspire's ServiceDefaults (service discovery plus the standard
/// resilience handler on every client), shared by the DESIGN 6 rows: green, yellow and unlabelled instances up, red
/// declared with its only instance down, blue declared with none, for HTTP (<c>details-*</c>) and gRPC (<c>reviews-*</c>).
/// </summary>
public sealed class ServiceDefaultsFleet : IAsyncLifetime
{
    private readonly List<WireMockServer> _http = [];
    private readonly List<RunningServer> _grpc = [];

    internal ServiceDefaultsHost Host { get; private set; } = null!;

    internal WireMockServer Catalog { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var green = Add(Fleet.Http("green"));
        var yellow = Add(Fleet.Http("yellow"));
        var plain = Add(Fleet.Http("unlabelled"));
        Catalog = Add(Fleet.Http("catalog"));
        var grpcGreen = await AddAsync(Fleet.GrpcAsync("green"));
        var grpcYellow = await AddAsync(Fleet.GrpcAsync("yellow"));
        var grpcPlain = await AddAsync(Fleet.GrpcAsync("unlabelled"));

        var config = new Dictionary<string, string?>(Fleet.NsfLanes)
        {
            // A service only service discovery's configuration provider knows: no lanes, still resolved.
            ["Services:catalog:http:0"] = Catalog.Url,
        };
        foreach (var policy in new[] { "Strict", "Permissive", "Declared" })
        {
            Fleet.Service(config, $"details-{policy.ToLowerInvariant()}", policy, "green,yellow,red,blue",
                ("green", green.Url!, "green"), ("yellow", yellow.Url!, "yellow"), ("plain", plain.Url!, null), ("red", Fleet.Dead(), "red"));
            Fleet.Service(config, $"reviews-{policy.ToLowerInvariant()}", policy, "green,yellow,red,blue",
                ("green", grpcGreen.Address.ToString(), "green"), ("yellow", grpcYellow.Address.ToString(), "yellow"),
                ("plain", grpcPlain.Address.ToString(), null), ("red", Fleet.Dead(), "red"));
        }

        Host = await ServiceDefaultsHost.StartAsync(
            new ConfigurationBuilder().AddInMemoryCollection(config).Build(),
            static services =>
            {
                services.AddHttpClient("routed").AddLaneRouting().CountAttempts();
                services.AddHttpClient("plain").CountAttempts();
                foreach (var policy in new[] { "strict", "permissive", "declared" })
                {
                    services.AddGrpcClient<Echo.EchoClient>(policy, o => o.Address = new Uri($"lanes:///reviews-{policy}"))
                        .AddGrpcLaneRouting()
                        .CountAttempts();
                }
            });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        foreach (var server in _http)
        {
            server.Stop();
        }

        foreach (var server in _grpc)
        {
            await server.DisposeAsync();
        }
    }

    private WireMockServer Add(WireMockServer server)
    {
        _http.Add(server);
        return server;
    }

    private async Task<RunningServer> AddAsync(Task<RunningServer> start)
    {
        var server = await start;
        _grpc.Add(server);
        return server;
    }
}

/// <summary>Every DESIGN 6 row for Strict, Permissive and Declared, over HTTP and gRPC, in an Aspire-shaped application.</summary>
[Collection(nameof(ServiceDefaultsRowsTests))]
public sealed class ServiceDefaultsRowsTests(ServiceDefaultsFleet fleet) : IClassFixture<ServiceDefaultsFleet>
{
    private ServiceDefaultsHost Host => fleet.Host;

    [Theory]
    [MemberData(nameof(Design6Rows.Rows), MemberType = typeof(Design6Rows))]
    public async Task Http_DesignTableRow_IsServedByTheDocumentedInstance_InOneAttempt(string policy, string? lane, string expected)
    {
        // red's instance is down: the first call finds out (connection refused), ejects it and re-picks, inside one
        // attempt of the resilience handler. The local 503 is answered outside it: one attempt, never retried.
        for (var i = 0; i < 3; i++)
        {
            var before = Host.Attempts["routed"];
            Assert.Equal(expected, await HttpAnsweredAsync(policy, lane));
            Assert.Equal(1, Host.Attempts["routed"] - before);
        }
    }

    [Theory]
    [MemberData(nameof(Design6Rows.Rows), MemberType = typeof(Design6Rows))]
    public async Task Grpc_DesignTableRow_IsServedByTheDocumentedInstance(string policy, string? lane, string expected)
    {
        for (var i = 0; i < 3; i++)
        {
            var before = Host.Attempts[policy];
            Assert.Equal(expected, await GrpcAnsweredAsync(policy, lane));

            // The balancer picks before the HttpClient pipeline runs: an Unavailable pick never reaches the resilience
            // handler (no attempt, nothing to retry); a served call is one attempt.
            Assert.Equal(expected == "503" ? 0 : 1, Host.Attempts[policy] - before);
        }
    }

    [Fact]
    public async Task Http_ServiceOnlyServiceDiscoveryConfigurationKnows_IsResolvedByTheRoutedClient_AndByAPlainOne()
    {
        var before = fleet.Catalog.LogEntries.Count;
        using (LaneContext.Begin("yellow"))
        {
            // The routed client resolves through service discovery itself (its own handler was taken out).
            Assert.Equal("catalog", await Host.Http("routed").GetStringAsync("http://catalog/items"));

            // A client without lane routing keeps service discovery's own handler.
            Assert.Equal("catalog", await Host.Http("plain").GetStringAsync("http://catalog/items"));
        }

        var received = fleet.Catalog.LogEntries.Skip(before).ToList();
        Assert.Equal(2, received.Count);
        Assert.All(received, static e => Assert.Equal("/items", e.RequestMessage.Path));
        Assert.Equal("yellow", received[0].RequestMessage.Headers!["x-nsf-mark"].Single()); // the routed client propagates
    }

    [Fact]
    public async Task Http_SynchronousSend_IsRoutedLikeSendAsync_AndAnswersTheLocal503Once()
    {
        var client = Host.Http("routed");
        using (LaneContext.Begin("yellow"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://details-strict/details/1");
            using var response = client.Send(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("yellow", await response.Content.ReadAsStringAsync());
            Assert.Equal(new Uri("http://details-strict/details/1"), request.RequestUri); // the logical address is put back
        }

        using (LaneContext.Begin("purple"))
        {
            var before = Host.Attempts["routed"];
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://details-strict/details/1");
            using var response = client.Send(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(1, Host.Attempts["routed"] - before);
        }
    }

    [Fact]
    public async Task Http_Local503_IsLoggedOnceByLanes_NotAsAnExceptionByTheResiliencePipeline()
    {
        var before = Host.Logs.Records.Count;
        Assert.Equal("503", await HttpAnsweredAsync("strict", "blue"));
        var records = Host.Logs.Records.Skip(before).ToList();

        // Lanes says it, as a warning naming the service, the lane and the policy (once per service and lane in a
        // while: an earlier test of this fleet may have sent the same request, so the whole log is searched).
        var lanes = Host.Logs.Records.Where(static r => r.EventId.Name == "NoHealthyUpstream"
            && r.Message.Contains("'details-strict' and lane 'blue' (policy Strict)", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lanes);
        Assert.All(lanes, static r => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, r.Level));

        // The standard handler's telemetry still reports the attempt (its log is on: the record is there), at Debug;
        // nothing logs the local 503 as an exception at Information or above.
        var polly = records.Where(static r => r.Category.StartsWith("Polly", StringComparison.Ordinal)).ToList();
        Assert.Contains(polly, static r => r.Exception is not null && r.Level == Microsoft.Extensions.Logging.LogLevel.Debug);
        Assert.DoesNotContain(records, static r => r.Exception is not null && r.Level >= Microsoft.Extensions.Logging.LogLevel.Information);
    }

    private async Task<string> HttpAnsweredAsync(string policy, string? lane)
    {
        using (LaneContext.Begin(lane))
        {
            using var response = await Host.Http("routed").GetAsync($"http://details-{policy}/details/1");
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                Assert.Equal("no healthy upstream", problem.GetProperty("title").GetString());
                Assert.Equal($"details-{policy}", problem.GetProperty("cluster").GetString());
                return "503";
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
    }

    private async Task<string> GrpcAnsweredAsync(string policy, string? lane)
    {
        var client = Host.Services.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>(policy);
        using (LaneContext.Begin(lane))
        {
            try
            {
                var reply = await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                Assert.Equal(lane ?? string.Empty, reply.LaneHeader);
                return reply.Instance;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                Assert.StartsWith("no healthy upstream", e.Status.Detail, StringComparison.Ordinal);
                return "503";
            }
        }
    }
}
