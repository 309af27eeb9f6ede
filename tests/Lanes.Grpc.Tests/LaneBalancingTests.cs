using Grpc.Core;
using Grpc.Net.ClientFactory;
using Lanes.Grpc.Tests.Protos;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.Grpc.Tests;

/// <summary>
/// Client-side lane balancing through real calls to three real servers (green, yellow, unlabelled) plus a
/// declared lane whose only instance is down (red) and a declared lane with no instance (blue). Every row of
/// DESIGN 6 for Strict, Permissive and Declared is asserted by the instance that answered.
/// </summary>
public sealed class LaneBalancingTests : IAsyncLifetime
{
    private RunningServer _green = null!;
    private RunningServer _yellow = null!;
    private RunningServer _unlabelled = null!;
    private ServiceProvider _client = null!;

    public async Task InitializeAsync()
    {
        var lanes = new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" };
        _green = await GrpcServers.StartEchoAsync("green", lanes);
        _yellow = await GrpcServers.StartEchoAsync("yellow", lanes);
        _unlabelled = await GrpcServers.StartEchoAsync("unlabelled", lanes);
        var deadPort = ClosedPorts.Next();

        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" };
        foreach (var policy in new[] { "Strict", "Permissive", "Declared" })
        {
            var service = $"Lanes:Services:reviews-{policy.ToLowerInvariant()}";
            config[$"{service}:Metadata:lanePolicy"] = policy;
            config[$"{service}:Metadata:lanes"] = "green,yellow,red,blue";
            config[$"{service}:Instances:green:Address"] = _green.Address.ToString();
            config[$"{service}:Instances:green:Metadata:lane"] = "green";
            config[$"{service}:Instances:yellow:Address"] = _yellow.Address.ToString();
            config[$"{service}:Instances:yellow:Metadata:lane"] = "yellow";
            config[$"{service}:Instances:plain:Address"] = _unlabelled.Address.ToString();
            config[$"{service}:Instances:red:Address"] = $"http://127.0.0.1:{deadPort}";
            config[$"{service}:Instances:red:Metadata:lane"] = "red";
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(config).Build());
        services.AddLanes();
        foreach (var policy in new[] { "strict", "permissive", "declared" })
        {
            services.AddGrpcClient<Echo.EchoClient>(policy, o => o.Address = new Uri($"lanes:///reviews-{policy}")).AddGrpcLaneRouting();
        }

        _client = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _green.DisposeAsync();
        await _yellow.DisposeAsync();
        await _unlabelled.DisposeAsync();
    }

    private Echo.EchoClient Client(string policy)
        => _client.GetRequiredService<GrpcClientFactory>().CreateClient<Echo.EchoClient>(policy);

    /// <summary>The instance that answered a call made in <paramref name="lane"/>, or "503" for Unavailable.</summary>
    private async Task<string> AnsweredAsync(string policy, string? lane)
    {
        using (LaneContext.Begin(lane))
        {
            try
            {
                var reply = await Client(policy).UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                Assert.Equal(lane ?? string.Empty, reply.LaneHeader); // the lane travels even when another lane serves
                return reply.Instance;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                // "503" is the balancer's answer; any other Unavailable is a call that met a dying connection.
                return e.Status.Detail.Contains("no healthy upstream", StringComparison.Ordinal) ? "503" : "unavailable: " + e.Status.Detail;
            }
        }
    }

    // Rows of DESIGN 6: no lane; yellow has a healthy instance; red is declared and its only instance is down;
    // blue is declared with no instance; purple is not declared and has no instance. Baseline: unlabelled.
    [Theory]
    [MemberData(nameof(Design6Rows.Rows), MemberType = typeof(Design6Rows))]
    public async Task Call_DesignTableRow_IsServedByTheDocumentedInstance(string policy, string? lane, string expected)
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected, await AnsweredAsync(policy, lane));
        }
    }

    [Theory]
    [InlineData("strict")]
    [InlineData("permissive")]
    public async Task Call_LaneTheCallerPutInTheCallsMetadata_IsSentAndRoutedBy(string policy)
    {
        // Ambient lane green, but this call carries x-nsf-mark: yellow in its own metadata: the balancer routes by the
        // lane the call is sent with (the one outbound rule), not by the ambient one.
        using (LaneContext.Begin("green"))
        {
            for (var i = 0; i < 3; i++)
            {
                var reply = await Client(policy).UnaryAsync(
                    new EchoRequest(), new Metadata { { "x-nsf-mark", "yellow" } }, deadline: DateTime.UtcNow.AddSeconds(10));

                Assert.Equal("yellow", reply.LaneHeader);
                Assert.Equal("yellow", reply.Instance);
            }

            // And without it, the ambient lane: green.
            Assert.Equal("green", (await Client(policy).UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Instance);
        }
    }

    [Fact]
    public async Task Call_InvalidLaneInTheCallsMetadata_IsRoutedAsACallWithoutALane()
    {
        using (LaneContext.Begin("yellow"))
        {
            var reply = await Client("permissive").UnaryAsync(
                new EchoRequest(), new Metadata { { "x-nsf-mark", "not a lane!" } }, deadline: DateTime.UtcNow.AddSeconds(10));

            Assert.Equal("unlabelled", reply.Instance);
        }
    }

    [Fact]
    public async Task HandMadeChannel_ForService_RoutesByLane_WithOnlyAddLaneServiceEndpointsRegistered()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(_client.GetRequiredService<IConfiguration>());
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();

        var (channel, invoker) = LaneGrpcChannel.ForService(provider, "reviews-strict");
        using (channel)
        {
            var client = new Echo.EchoClient(invoker);
            foreach (var lane in new[] { "yellow", "green", "yellow" })
            {
                using (LaneContext.Begin(lane))
                {
                    var reply = await client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                    Assert.Equal(lane, reply.Instance);
                    Assert.Equal(lane, reply.LaneHeader);
                }
            }
        }
    }

    [Fact]
    public async Task HandMadeChannel_ForService_WithoutServiceEndpoints_SaysWhichCallIsMissing()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(_client.GetRequiredService<IConfiguration>());
        services.AddLanes();
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => LaneGrpcChannel.ForService(provider, "reviews-strict"));
        Assert.Contains("AddLaneServiceEndpoints()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GreenAndYellowCalls_NeverCross()
    {
        for (var i = 0; i < 20; i++)
        {
            var lane = i % 2 == 0 ? "green" : "yellow";
            Assert.Equal(lane, await AnsweredAsync("strict", lane));
        }
    }

    [Fact]
    public async Task InstanceStoppedMidTest_BecomesUnavailable_AndThePolicysFallbackApplies()
    {
        Assert.Equal("yellow", await AnsweredAsync("permissive", "yellow"));
        Assert.Equal("yellow", await AnsweredAsync("strict", "yellow"));

        await _yellow.App.StopAsync();

        // The first calls after the stop may fail while the connection is found dead; then the policy decides.
        await Wait.ForAsync(() => AnsweredAsync("permissive", "yellow"), static a => a == "unlabelled", "AnsweredAsync(permissive, yellow) to answer unlabelled");
        await Wait.ForAsync(() => AnsweredAsync("strict", "yellow"), static a => a == "503", "AnsweredAsync(strict, yellow) to answer 503");
        Assert.Equal("unlabelled", await AnsweredAsync("declared", "purple"));
        Assert.Equal("green", await AnsweredAsync("strict", "green"));

        // Last row: the baseline goes too, so the chosen set is empty for every policy.
        await _unlabelled.App.StopAsync();
        await Wait.ForAsync(() => AnsweredAsync("permissive", null), static a => a == "503", "AnsweredAsync(permissive, null) to answer 503");
        Assert.Equal("503", await AnsweredAsync("permissive", "purple"));
        await Wait.ForAsync(() => AnsweredAsync("declared", null), static a => a == "503", "AnsweredAsync(declared, null) to answer 503");
    }

}
