using Lanes.Configuration;
using Lanes.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lanes.Tests.Routing;

/// <summary>The client-side routing registry, <c>Lanes:Services</c>: binding, defaults and start-up validation.</summary>
public sealed class LaneServiceDefinitionTests
{
    private static LaneSettings Bind(Dictionary<string, string?> values)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddLogging();
        services.AddLanes();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<LanePropagator>().Settings;
    }

    [Fact]
    public void Services_BoundFromConfiguration_CarryInstancesLanesAndPolicy()
    {
        var settings = Bind(new()
        {
            ["Lanes:Preset"] = "mspider",
            ["Lanes:Services:details:Metadata:lanePolicy"] = "Strict",
            ["Lanes:Services:details:Instances:d-green:Address"] = "http://10.0.0.5:9080",
            ["Lanes:Services:details:Instances:d-green:Metadata:lane"] = "green",
            ["Lanes:Services:details:Instances:d-plain:Address"] = "https://10.0.0.6:9443/",
        });

        var details = settings.Services["DETAILS"]; // names are case-insensitive, like hosts

        Assert.Equal(LanePolicy.Strict, details.Settings.Policy);
        Assert.Equal("green", details.Settings.BaselineLane); // the default lane of the preset
        Assert.Equal(["d-green", "d-plain"], details.Instances.Select(static i => i.Id));
        Assert.Equal("green", details.Instances[0].Lane);
        Assert.Null(details.Instances[1].Lane);
        Assert.Equal(new Uri("https://10.0.0.6:9443/"), details.Instances[1].Address);
    }

    [Theory]
    [InlineData("Address", "not a uri", "Lanes:Services:details:Instances:d1:Address must be an absolute http or https address")]
    [InlineData("Address", "ftp://10.0.0.5", "Lanes:Services:details:Instances:d1:Address must be an absolute http or https address")]
    [InlineData("Metadata:lane", "a,b", "Lanes:Services:details:Instances:d1:Metadata 'lane' must be one lane")]
    public void InvalidInstance_StopsStartUpNamingTheKey(string key, string value, string expected)
    {
        var values = new Dictionary<string, string?> { ["Lanes:Services:details:Instances:d1:Address"] = "http://10.0.0.5:9080" };
        values[$"Lanes:Services:details:Instances:d1:{key}"] = value;

        var error = Assert.Throws<OptionsValidationException>(() => Bind(values));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidPolicyOrNoInstances_StopsStartUpNamingTheKey()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind(new()
        {
            ["Lanes:Services:details:Metadata:lanePolicy"] = "Lenient",
        }));

        Assert.Contains("Lanes:Services:details:Metadata 'lanePolicy' must be one of", error.Message, StringComparison.Ordinal);
        Assert.Contains("Lanes:Services:details:Instances is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoServices_IsEmpty()
        => Assert.Empty(LaneSettings.Create(new LaneOptions()).Services);
}
