using System.Net;
using Microsoft.Extensions.Configuration;

namespace Lanes.ReverseProxy.Tests;

/// <summary>samples/Gateway's appsettings.json, as shipped, with only the destination addresses pointed at test upstreams.</summary>
public sealed class GatewaySampleTests
{
    private static readonly string SampleSettings = Path.Combine(AppContext.BaseDirectory, "Samples", "Gateway.appsettings.json");

    [Theory]
    [InlineData("x-mspider-laneid", "yellow", null, "yellow", "yellow")]
    [InlineData("x-mspider-laneid", "green", null, "green", "green")]
    [InlineData(null, null, null, "green", "green")] // default lane
    [InlineData(null, null, "lane=yellow", "yellow", "yellow")] // colouring rule
    [InlineData("x-mspider-laneid", "blue", null, "green", "blue")] // Permissive fallback; the lane itself flows on
    public async Task SampleConfig_RoutesTheMspiderSeed(string? header, string? lane, string? cookie, string expected, string expectedLaneHeader)
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(null, builder =>
        {
            builder.Configuration.AddJsonFile(SampleSettings, optional: false, reloadOnChange: false);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ReverseProxy:Clusters:productpage:Destinations:productpage-green:Address"] = green.Address.ToString(),
                ["ReverseProxy:Clusters:productpage:Destinations:productpage-yellow:Address"] = yellow.Address.ToString(),
                ["Urls"] = null,
            });
        });
        var headers = new List<(string, string)>();
        if (header is not null)
        {
            headers.Add((header, lane!));
        }

        if (cookie is not null)
        {
            headers.Add(("Cookie", cookie));
        }

        var (response, echo) = await gateway.SendAsync("/productpage", [.. headers]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, echo!.Instance);
        Assert.Equal(expectedLaneHeader, echo.Header("x-mspider-lane"));
        Assert.True(response.Headers.Contains("x-lane-served"));
    }
}
