using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Lanes.Dashboard.Tests;

/// <summary>The page against a gateway built here: hostile names in configuration and requests, and active health checks.</summary>
public sealed class HostileValuesAndHealthTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string HostileCluster = "<script>window.__xss=1</script>\"'c";
    private const string HostileDestination = "<img src=x onerror=\"window.__xss=2\">'d";
    private const string HostileRuleValue = "\"><script>window.__xss=3</script>";

    [Fact]
    public async Task Page_ValuesCarryingScriptOrQuotes_AreShownAsText_NeverRun()
    {
        var healthy = true;
        await using var upstream = await StartUpstreamAsync(() => healthy);
        await using var gateway = await StartGatewayAsync(new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "nsf",
            ["Lanes:Colouring:0:Lane"] = "dev1",
            ["Lanes:Colouring:0:Header"] = "x-team",
            ["Lanes:Colouring:0:Value"] = HostileRuleValue,
            ["ReverseProxy:Routes:r:ClusterId"] = HostileCluster,
            ["ReverseProxy:Routes:r:Match:Path"] = "/{**catch-all}",
            [$"ReverseProxy:Clusters:{HostileCluster}:Metadata:lanes"] = "dev1",
            [$"ReverseProxy:Clusters:{HostileCluster}:Destinations:{HostileDestination}:Address"] = upstream.Address.ToString(),
            [$"ReverseProxy:Clusters:{HostileCluster}:Destinations:{HostileDestination}:Metadata:lane"] = "dev1",
        });
        using (var client = gateway.CreateClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
            request.Headers.TryAddWithoutValidation("x-nsf-mark", "<script>window.__xss=4</script>");
            using var _ = await client.SendAsync(request);
        }

        await using var session = await PageSession.OpenAsync(browser.Browser, new Uri(gateway.Address, "/lanes/ui"));
        await session.WaitForRefreshesAsync(1);
        var traced = await session.TraceAsync("/<script>window.__xss=5</script>", "x-team: " + HostileRuleValue);

        Assert.Equal("undefined", await session.Page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(1, await session.Page.Locator("script").CountAsync());
        Assert.Equal(0, await session.Page.Locator("img").CountAsync());
        Assert.Equal(HostileCluster, await session.Page.Locator("#matrix-table tbody th").First.TextContentAsync());
        Assert.Equal(HostileDestination, await session.Page.Locator("#instances-table tbody th").First.TextContentAsync());
        await Expect(session.Page.Locator("#rules-table")).ToContainTextAsync(HostileRuleValue);
        Assert.Equal(HostileCluster, traced["cluster"]);
        Assert.Equal("dev1", traced["lane"]);
        Assert.Equal("colouring", traced["source"]);
        Assert.Equal(0, await session.Page.Locator("#lanes-table tr[data-lane*=\"script\"]").CountAsync());
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task Page_InstanceMadeUnhealthyByActiveHealthChecks_ShowsWithinAFewRefreshes()
    {
        var healthy = true;
        await using var green = await StartUpstreamAsync(() => true);
        await using var yellow = await StartUpstreamAsync(() => Volatile.Read(ref healthy));
        await using var gateway = await StartGatewayAsync(new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "mspider",
            ["ReverseProxy:Routes:pp:ClusterId"] = "pp",
            ["ReverseProxy:Routes:pp:Match:Path"] = "/{**catch-all}",
            ["ReverseProxy:Clusters:pp:Metadata:ConsecutiveFailuresHealthPolicy.Threshold"] = "1",
            ["ReverseProxy:Clusters:pp:HealthCheck:Active:Enabled"] = "true",
            ["ReverseProxy:Clusters:pp:HealthCheck:Active:Interval"] = "00:00:00.500",
            ["ReverseProxy:Clusters:pp:HealthCheck:Active:Timeout"] = "00:00:02",
            ["ReverseProxy:Clusters:pp:HealthCheck:Active:Policy"] = "ConsecutiveFailures",
            ["ReverseProxy:Clusters:pp:HealthCheck:Active:Path"] = "/health",
            ["ReverseProxy:Clusters:pp:Destinations:g:Address"] = green.Address.ToString(),
            ["ReverseProxy:Clusters:pp:Destinations:g:Metadata:lane"] = "green",
            ["ReverseProxy:Clusters:pp:Destinations:y:Address"] = yellow.Address.ToString(),
            ["ReverseProxy:Clusters:pp:Destinations:y:Metadata:lane"] = "yellow",
        });
        await using var session = await PageSession.OpenAsync(browser.Browser, new Uri(gateway.Address, "/lanes/ui"));
        var row = session.Page.Locator("#instances-table tr[data-destination=\"y\"]");
        var yellowCell = session.Page.Locator("#matrix-table td[data-cluster=\"pp\"][data-lane=\"yellow\"]");
        await Expect(row).ToHaveAttributeAsync("data-active", "Healthy", new() { Timeout = 10_000 });
        await Expect(yellowCell).ToHaveAttributeAsync("data-outcome", "matched");

        Volatile.Write(ref healthy, false);

        await Expect(row).ToHaveAttributeAsync("data-active", "Unhealthy", new() { Timeout = 10_000 });
        await Expect(row).ToHaveAttributeAsync("data-available", "false");
        await Expect(yellowCell).ToHaveAttributeAsync("data-outcome", "fallback");
        await Expect(yellowCell).ToContainTextAsync("0/1 healthy");
        await Expect(yellowCell).ToContainTextAsync("fallback to green (lane-unavailable)");
        Assert.Empty(session.Errors);
    }

    private static Task<RunningServer> StartUpstreamAsync(Func<bool> healthy)
        => TestServers.StartAsync(null, app =>
        {
            app.MapGet("/health", () => healthy() ? Results.Ok() : Results.StatusCode(500));
            app.Map("/{**rest}", static () => Results.Ok("upstream"));
        });

    [Fact]
    public async Task Page_ServiceWhoseDiscoveryRefreshFails_ShowsStale_WithTheReasonAsText()
    {
        const string HostileFailure = "<img src=x onerror=\"window.__xss=6\">";
        await using var upstream = await StartUpstreamAsync(() => true);
        using var discovery = new SwitchableDiscoveryProvider("details", upstream.Address.Port, "green");
        await using var gateway = await StartGatewayAsync(
            new Dictionary<string, string?>
            {
                ["Lanes:Preset"] = "mspider",
                ["ReverseProxy:Routes:d:ClusterId"] = "d",
                ["ReverseProxy:Routes:d:Match:Path"] = "/{**catch-all}",
                ["ReverseProxy:Clusters:d:Destinations:details:Address"] = "http://details",
            },
            services => services.AddSingleton<Microsoft.Extensions.ServiceDiscovery.IServiceEndpointProviderFactory>(discovery));
        await using var session = await PageSession.OpenAsync(browser.Browser, new Uri(gateway.Address, "/lanes/ui"));
        var row = session.Page.Locator("#discovery-table tr[data-service=\"details\"]");
        await Expect(row).ToHaveAttributeAsync("data-stale", "false");
        await Expect(row).ToContainTextAsync("current");

        discovery.Fail(HostileFailure);
        await Expect(row).ToHaveAttributeAsync("data-stale", "true");
        await Expect(row).ToContainTextAsync("stale");
        await Expect(row).ToContainTextAsync(HostileFailure);
        Assert.Equal("undefined", await session.Page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(0, await session.Page.Locator("img").CountAsync());
        Assert.Empty(session.Errors);
    }

    /// <summary>
    /// The shadow section: a rule's counts and the field the candidate answers differently, with its example; a field
    /// name that carries markup (the candidate's own JSON) is shown as text.
    /// </summary>
    [Fact]
    public async Task Page_ShadowRule_ShowsTheDifferingFieldAndItsExample_AsText()
    {
        const string HostileField = "<img src=x onerror=\"window.__xss=7\">";
        await using var green = await TestServers.StartAsync(null, static app => app.Map("/{**rest}", static () => Results.Json(new Dictionary<string, object> { ["price"] = 10 })));
        await using var yellow = await TestServers.StartAsync(null, static app => app.Map("/{**rest}", static () => Results.Json(new Dictionary<string, object> { ["price"] = 12, [HostileField] = 1 })));
        await using var gateway = await StartGatewayAsync(new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "mspider",
            ["Lanes:Shadow:book:Cluster"] = "c",
            ["Lanes:Shadow:book:Lane"] = "yellow",
            ["Lanes:Shadow:book:Percent"] = "100",
            ["ReverseProxy:Routes:r:ClusterId"] = "c",
            ["ReverseProxy:Routes:r:Match:Path"] = "/{**catch-all}",
            ["ReverseProxy:Clusters:c:Destinations:g:Address"] = green.Address.ToString(),
            ["ReverseProxy:Clusters:c:Destinations:g:Metadata:lane"] = "green",
            ["ReverseProxy:Clusters:c:Destinations:y:Address"] = yellow.Address.ToString(),
            ["ReverseProxy:Clusters:c:Destinations:y:Metadata:lane"] = "yellow",
        });
        await using var session = await PageSession.OpenAsync(browser.Browser, new Uri(gateway.Address, "/lanes/ui"));
        var row = session.Page.Locator("#shadow-table tr[data-rule=\"book\"]");
        await Expect(row).ToHaveAttributeAsync("data-differing", "0");

        using (var client = gateway.CreateClient())
        {
            for (var i = 0; i < 3; i++)
            {
                using var _ = await client.GetAsync(new Uri("/x", UriKind.Relative));
            }
        }

        await Expect(row).ToHaveAttributeAsync("data-differing", "3");
        await Expect(row.Locator("div[data-path=\"price\"]")).ToHaveTextAsync("price ×3: 10 -> 12");
        await Expect(row).ToContainTextAsync("<img src=x onerror=\\x22window.__xss=7\\x22> ×3: (absent) -> 1");
        await Expect(row).ToContainTextAsync("no secondary");
        Assert.Equal("undefined", await session.Page.EvaluateAsync<string>("() => typeof window.__xss"));
        Assert.Equal(0, await session.Page.Locator("img").CountAsync());
        Assert.Empty(session.Errors);
    }

    private static Task<RunningServer> StartGatewayAsync(Dictionary<string, string?> configuration, Action<IServiceCollection>? services = null)
        => TestServers.StartAsync(
            builder =>
            {
                services?.Invoke(builder.Services);
                builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddLanes();
            },
            static app =>
            {
                app.MapLanesAdmin().AllowAnonymousOnLoopback();
                app.MapReverseProxy(static proxy =>
                {
                    proxy.UseLaneSubsets();
                    proxy.UseLoadBalancing();
                    proxy.UsePassiveHealthChecks();
                });
            },
            configuration);
}
