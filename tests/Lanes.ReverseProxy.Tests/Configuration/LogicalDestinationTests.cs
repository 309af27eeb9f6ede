using System.Net;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests.Configuration;

/// <summary>
/// A YARP cluster that names a logical destination (<c>http://productpage</c>) which service discovery expands into
/// instances, each keeping its lane as destination metadata: the mspider seed's rows through the gateway, with the
/// instances and lanes the service clients read too (DESIGN 9).
/// </summary>
public sealed class LogicalDestinationTests
{
    /// <summary>The seed's rows: the alias header picks the subset, the canonical one does too, none goes to green.</summary>
    public static TheoryData<string?, string?, string> MspiderRows => new()
    {
        { "x-mspider-laneid", "green", "green" },
        { "x-mspider-laneid", "yellow", "yellow" },
        { "x-mspider-lane", "yellow", "yellow" },
        { null, null, "green" },
    };

    [Theory]
    [MemberData(nameof(MspiderRows))]
    public async Task LanesServicesInstances_BehindOneLogicalDestination_ServeTheSeedsRows(string? header, string? value, string expected)
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Set("ReverseProxy:Clusters:pp:Destinations:productpage:Address", "http://productpage")
            .Lanes("Services:productpage:Instances:g:Address", green.Address.ToString())
            .Lanes("Services:productpage:Instances:g:Metadata:lane", "green")
            .Lanes("Services:productpage:Instances:y:Address", yellow.Address.ToString())
            .Lanes("Services:productpage:Instances:y:Metadata:lane", "yellow");
        await using var gateway = await Gateway.StartAsync(config);

        await AssertRowAsync(gateway, header, value, expected);
    }

    [Theory]
    [MemberData(nameof(MspiderRows))]
    public async Task ServiceDiscoveryConfiguration_ExpandsEachLanesDestination_IntoItsInstances(string? header, string? value, string expected)
    {
        // Aspire's shape: each version is its own resource (productpage-green, productpage-yellow) with instances in
        // service discovery's configuration; the destination gives the lane, every instance it expands to keeps it.
        await using var green1 = await Upstream.StartAsync("green");
        await using var green2 = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Destination("pp", "g", green1, "green")
            .Set("ReverseProxy:Clusters:pp:Destinations:g:Address", "http://productpage-green")
            .Destination("pp", "y", yellow, "yellow")
            .Set("ReverseProxy:Clusters:pp:Destinations:y:Address", "http://productpage-yellow")
            .Set("Services:productpage-green:http:0", green1.Address.ToString())
            .Set("Services:productpage-green:http:1", green2.Address.ToString())
            .Set("Services:productpage-yellow:http:0", yellow.Address.ToString())
            .Set("ReverseProxy:Clusters:pp:LoadBalancingPolicy", "RoundRobin");
        await using var gateway = await Gateway.StartAsync(config, static b => b.Services.AddServiceDiscovery());

        await AssertRowAsync(gateway, header, value, expected);
        if (expected == "green")
        {
            // Both green instances serve the green subset (round robin).
            for (var i = 0; i < 4; i++)
            {
                await AssertRowAsync(gateway, header, value, expected);
            }

            Assert.NotEmpty(green1.Paths);
            Assert.NotEmpty(green2.Paths);
        }
    }

    [Fact]
    public async Task RelabelledInstance_TheGatewayFollowsServiceDiscovery_WithoutRestart()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        Dictionary<string, string?> Values(string bLane) => new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Set("ReverseProxy:Clusters:pp:Destinations:productpage:Address", "http://productpage")
            .Lanes("Services:productpage:Instances:a:Address", a.Address.ToString())
            .Lanes("Services:productpage:Instances:a:Metadata:lane", "green")
            .Lanes("Services:productpage:Instances:b:Address", b.Address.ToString())
            .Lanes("Services:productpage:Instances:b:Metadata:lane", bLane)
            .Values;
        var source = new SwappableConfiguration();
        source.Replace(Values("yellow"));
        await using var gateway = await Gateway.StartAsync(null, builder => ((IConfigurationBuilder)builder.Configuration).Add(source));

        var (_, echo) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"));
        Assert.Equal("b", echo!.Instance);

        source.Replace(Values("blue"));
        var relabelled = await Wait.ForAsync(
            () => gateway.SendAsync("/p", ("x-mspider-lane", "blue")),
            static r => r.Echo?.Instance == "b",
            "the gateway to follow b's relabel to blue",
            describe: static r => $"{(int)r.Response.StatusCode} from {r.Echo?.Instance ?? "(no echo)"}");

        Assert.Equal(HttpStatusCode.OK, relabelled.Response.StatusCode);
        (_, echo) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"));
        Assert.Equal("a", echo!.Instance);                                  // yellow has no instance now: the baseline (green)
        Assert.Equal("yellow", echo.Header("x-mspider-lane"));                // the request keeps its lane
    }

    private static async Task AssertRowAsync(RunningServer gateway, string? header, string? value, string expected)
    {
        var (response, echo) = header is null
            ? await gateway.SendAsync("/productpage")
            : await gateway.SendAsync("/productpage", (header, value!));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, echo!.Instance);
        Assert.Equal(header is null ? "green" : value, echo.Header("x-mspider-lane"));
        Assert.Null(echo.Header("x-mspider-laneid"));
    }
}
