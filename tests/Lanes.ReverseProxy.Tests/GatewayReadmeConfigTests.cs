using System.Text;
using System.Text.RegularExpressions;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;

namespace Lanes.ReverseProxy.Tests;

/// <summary>The README's gateway <c>appsettings.json</c> is configuration that runs: a gateway started with it does what the README says.</summary>
public sealed partial class GatewayReadmeConfigTests
{
    [Fact]
    public async Task ReadmeGatewayAppsettings_RoutesAsTheReadmeSays()
    {
        // Arrange: the README block, with the destinations pointed at two real upstreams.
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        var json = AppsettingsBlock().Match(readme).Groups[1].Value;
        var flat = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().AsEnumerable();
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = new GatewayConfig();
        foreach (var (key, value) in flat)
        {
            config.Set(key, value);
        }

        config.Set("ReverseProxy:Clusters:productpage:Destinations:green:Address", green.Address.ToString());
        config.Set("ReverseProxy:Clusters:productpage:Destinations:yellow:Address", yellow.Address.ToString());
        await using var gateway = await Gateway.StartAsync(config);

        // Act
        var (_, none) = await gateway.SendAsync("/");
        var (_, declared) = await gateway.SendAsync("/", ("x-mspider-lane", "yellow"));
        var (_, undeclared) = await gateway.SendAsync("/", ("x-mspider-lane", "dev9"));
        var (_, coloured) = await gateway.SendAsync("/", ("x-beta-user", "1"));

        // Assert
        Assert.Equal(("green", "green"), (none!.Instance, none.Header("x-mspider-lane")));
        Assert.Equal(("yellow", "yellow"), (declared!.Instance, declared.Header("x-mspider-lane")));
        Assert.Equal(("green", "green"), (undeclared!.Instance, undeclared.Header("x-mspider-lane")));
        Assert.Equal(("yellow", "yellow"), (coloured!.Instance, coloured.Header("x-mspider-lane")));
    }

    [GeneratedRegex(@"<!-- appsettings: gateway\..*?-->\s*```json\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex AppsettingsBlock();
}
