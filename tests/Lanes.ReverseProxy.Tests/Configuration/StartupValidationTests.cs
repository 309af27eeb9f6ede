namespace Lanes.ReverseProxy.Tests.Configuration;

/// <summary>Invalid lane configuration stops the gateway from starting, with a message that names what to fix.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("lanePolicy", "Sometimes", "'lanePolicy' must be one of Permissive, Strict, Declared, Any")]
    [InlineData("lanes", "dev1,dev 2", "'lanes' must be a comma-separated list")]
    [InlineData("laneBaseline", "a,b", "'laneBaseline' must be one lane")]
    public async Task InvalidClusterMetadata_GatewayDoesNotStart(string key, string value, string expected)
    {
        await using var a = await Upstream.StartAsync("a");
        var config = new GatewayConfig().Lanes("Preset", "nsf").Route("svc1", "svc1").Cluster("svc1", (key, value)).Destination("svc1", "a", a);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Gateway.StartAsync(config));

        Assert.Contains(expected, Gateway.Flatten(error), StringComparison.Ordinal);
        Assert.Contains("Cluster 'svc1'", Gateway.Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidColouringRule_GatewayDoesNotStart()
    {
        await using var a = await Upstream.StartAsync("a");
        var config = new GatewayConfig().Lanes("Preset", "nsf").Route("svc1", "svc1").Destination("svc1", "a", a)
            .Lanes("Colouring:0:Lane", "dev1").Lanes("Colouring:0:Percentage", "250");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Gateway.StartAsync(config));

        Assert.Contains("Lanes:Colouring:0:Percentage must be between 0 and 100", Gateway.Flatten(error), StringComparison.Ordinal);
    }
}
