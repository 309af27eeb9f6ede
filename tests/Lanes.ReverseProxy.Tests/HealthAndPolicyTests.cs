using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Tests;

/// <summary>Subset selection after YARP's health filtering: the same fleet under Permissive and Strict when yellow fails active health checks.</summary>
public sealed class HealthAndPolicyTests
{
    [Fact]
    public async Task ActiveHealthCheckFailsYellow_PermissiveFallsBackToGreen_StrictAnswers503()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        yellow.Healthy = false;
        var config = new GatewayConfig().Lanes("Preset", "mspider").Lanes("DebugHeaders", "true");
        foreach (var (cluster, policy) in new[] { ("permissive", "Permissive"), ("strict", "Strict") })
        {
            config.Route(cluster, cluster, $"/{cluster}/{{**rest}}")
                .Cluster(cluster, ("lanePolicy", policy))
                .ActiveHealthChecks(cluster, "00:00:00.200")
                .Destination(cluster, $"{cluster}-green", green, "green")
                .Destination(cluster, $"{cluster}-yellow", yellow, "yellow");
        }

        await using var gateway = await Gateway.StartAsync(config);
        await WaitForHealthAsync(gateway, "permissive-yellow", DestinationHealth.Unhealthy);
        await WaitForHealthAsync(gateway, "strict-yellow", DestinationHealth.Unhealthy);

        var (permissive, permissiveEcho) = await gateway.SendAsync("/permissive/x", ("x-mspider-lane", "yellow"));
        var (strict, _) = await gateway.SendAsync("/strict/x", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.OK, permissive.StatusCode);
        Assert.Equal("green", permissiveEcho!.Instance);
        Assert.Equal("yellow", permissiveEcho.Header("x-mspider-lane")); // the lane survives the baseline hop
        Assert.Equal("lane-unavailable", permissive.Headers.GetValues("x-lane-fallback").Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, strict.StatusCode);
        Assert.Equal("no healthy upstream", (await strict.ProblemAsync()).GetProperty("title").GetString());
        Assert.DoesNotContain(yellow.Paths, static p => !p.StartsWith("/health", StringComparison.Ordinal));

        // Health comes back: both policies serve yellow from yellow again, without a restart.
        yellow.Healthy = true;
        await WaitForHealthAsync(gateway, "strict-yellow", DestinationHealth.Healthy);
        await WaitForHealthAsync(gateway, "permissive-yellow", DestinationHealth.Healthy);
        var (_, back) = await gateway.SendAsync("/strict/x", ("x-mspider-lane", "yellow"));
        Assert.Equal("yellow", back!.Instance);
    }

    [Fact]
    public async Task AllHealthyDestinations_GreenAndNoLaneNeverReachYellow()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig().Lanes("Preset", "mspider")
            .Route("pp", "pp").Cluster("pp", ("lanePolicy", "Strict"))
            .Destination("pp", "g", green, "green").Destination("pp", "y", yellow, "yellow");
        await using var gateway = await Gateway.StartAsync(config);

        for (var i = 0; i < 20; i++)
        {
            var (_, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", i % 2 == 0 ? "green" : "yellow"));
            Assert.Equal(i % 2 == 0 ? "green" : "yellow", echo!.Instance);
        }
    }

    [Fact]
    public async Task ClusterWithoutLaneMetadata_IsNotFiltered()
    {
        await using var a = await Upstream.StartAsync("a");
        var config = new GatewayConfig().Lanes("Preset", "mspider").Route("plain", "plain").Destination("plain", "a", a);
        await using var gateway = await Gateway.StartAsync(config);

        // The default lane green has no instance here, but the cluster does not use lanes: YARP balances as usual.
        var (response, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a", echo!.Instance);
        Assert.Equal("yellow", echo.Header("x-mspider-lane"));
    }

    [Fact]
    public async Task ProxyPipelineWithoutUseLaneSubsets_LaneAwareCluster_GatewayDoesNotStart()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig().Lanes("Preset", "mspider")
            .Route("pp", "pp").Destination("pp", "g", green, "green").Destination("pp", "y", yellow, "yellow");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Gateway.StartAsync(config, withSubsetStep: false));

        Assert.Contains("Cluster 'pp' uses lanes", error.Message, StringComparison.Ordinal);
        Assert.Contains("proxy.UseLaneSubsets()", error.Message, StringComparison.Ordinal);
        Assert.Empty(green.Paths);
    }

    [Fact]
    public async Task ProxyPipelineWithoutUseLaneSubsets_NoLaneAwareCluster_StartsAndProxies()
    {
        await using var plain = await Upstream.StartAsync("plain");
        var config = new GatewayConfig().Lanes("Preset", "mspider").Route("pp", "pp").Destination("pp", "p", plain, lane: null);
        await using var gateway = await Gateway.StartAsync(config, withSubsetStep: false);

        var (response, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("plain", echo!.Instance);
        Assert.Equal("yellow", echo.Header("x-mspider-lane"));
    }

    internal static Task WaitForHealthAsync(RunningServer gateway, string destinationId, DestinationHealth health)
    {
        var lookup = gateway.App.Services.GetRequiredService<IProxyStateLookup>();
        return Wait.UntilAsync(
            () => lookup.GetClusters().Any(c => c.Destinations.TryGetValue(destinationId, out var d) && d.Health.Active == health),
            $"destination '{destinationId}' to become {health}",
            () => string.Join(", ", lookup.GetClusters().SelectMany(static c => c.Destinations.Values).Select(static d => $"{d.DestinationId}={d.Health.Active}")));
    }
}

/// <summary>Everything after the lane step (affinity, load balancing, a retry that re-picks) sees only the subset.</summary>
public sealed class SubsetVisibilityTests
{
    [Fact]
    public async Task StepsAfterUseLanes_SeeOnlyTheChosenSubset_SoARetryStaysInTheLane()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow1 = await Upstream.StartAsync("yellow1");
        await using var yellow2 = await Upstream.StartAsync("yellow2");
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var config = new GatewayConfig().Lanes("Preset", "mspider")
            .Route("pp", "pp").Destination("pp", "g", green, "green")
            .Destination("pp", "y1", yellow1, "yellow").Destination("pp", "y2", yellow2, "yellow");
        await using var gateway = await Gateway.StartAsync(config, afterLanes: proxy => proxy.Use(async (context, next) =>
        {
            var feature = context.GetReverseProxyFeature();
            seen.Enqueue(string.Join(",", feature.AvailableDestinations.Select(static d => d.DestinationId).Order(StringComparer.Ordinal)));
            await next();
        }));

        for (var i = 0; i < 10; i++)
        {
            var (_, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));
            Assert.StartsWith("yellow", echo!.Instance, StringComparison.Ordinal);
        }

        Assert.All(seen, static ids => Assert.Equal("y1,y2", ids));
    }
}
