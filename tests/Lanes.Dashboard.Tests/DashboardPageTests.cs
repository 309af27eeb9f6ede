using System.Net;
using Bookinfo;
using Deque.AxeCore.Playwright;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Lanes.Dashboard.Tests;

/// <summary>The admin page of the demo's gateway in a real browser, against the engine's own decisions and real requests.</summary>
public sealed class DashboardPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [InlineData("hango")]
    [InlineData("mspider")]
    public async Task Page_LoadsUnderItsCspWithoutConsoleErrors_AndEveryMatrixCellIsTheEnginesDecision(string scenarioName)
    {
        Assert.True(Scenario.TryGet(scenarioName, out var scenario));
        await using var cluster = await BookinfoCluster.StartAsync(scenario);
        await SendRowsAsync(cluster);
        await using var session = await PageSession.OpenAsync(browser.Browser, cluster.DashboardAddress);

        await session.WaitForRefreshesAsync(1);

        Assert.Contains("script-src 'self'", session.ContentSecurityPolicy, StringComparison.Ordinal);
        var routing = cluster.Gateway.Services.GetRequiredService<LaneClusterRouting>();
        var cells = session.Page.Locator("#matrix-table td[data-lane]");
        var count = await cells.CountAsync();
        var expectedCells = 0;
        foreach (var state in routing.Clusters)
        {
            var subsets = routing.GetSubsets(state)!;
            var lanes = (await session.Page.Locator("#matrix-table thead th").AllTextContentsAsync()).Skip(2).ToList();
            foreach (var header in lanes)
            {
                string? lane = header == "(no lane)" ? null : header;
                var choice = subsets.Select(lane);
                var cell = session.Page.Locator($"#matrix-table td[data-cluster=\"{state.ClusterId}\"][data-lane=\"{lane ?? string.Empty}\"]");
                Assert.Equal(LaneRoutingNames.Get(choice.Outcome), await cell.GetAttributeAsync("data-outcome"));
                Assert.Equal(choice.Served ?? string.Empty, await cell.GetAttributeAsync("data-served"));
                Assert.Equal(LaneRoutingNames.Get(choice.Reason) ?? string.Empty, await cell.GetAttributeAsync("data-reason"));
                Assert.Equal(choice.Instances.Length == 0 ? "503" : string.Empty, await cell.GetAttributeAsync("data-status"));
                expectedCells++;
            }
        }

        Assert.Equal(expectedCells, count);
        Assert.True(count >= 3);
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task Page_Hango_ShowsDev1ServedDev2As503_AndFlagsDev3OnceSeen()
    {
        await using var cluster = await BookinfoCluster.StartAsync(Scenario.Hango);
        await using var session = await PageSession.OpenAsync(browser.Browser, cluster.DashboardAddress);
        await session.WaitForRefreshesAsync(1);
        var dev3Row = session.Page.Locator("#lanes-table tr[data-lane=\"dev3\"]");
        Assert.Equal(0, await dev3Row.CountAsync());

        await SendAsync(cluster, ("x-nsf-mark", "dev3"));

        await Expect(dev3Row).ToHaveAttributeAsync("data-undeclared", "true", new() { Timeout = 10_000 });
        await Expect(dev3Row).ToContainTextAsync("declared by no cluster");
        await Expect(dev3Row.Locator("td.from")).ToHaveTextAsync("header 1");   // where the lane came from
        var dev1 = session.Page.Locator("#matrix-table td[data-cluster=\"svc1\"][data-lane=\"dev1\"]");
        var dev2 = session.Page.Locator("#matrix-table td[data-cluster=\"svc1\"][data-lane=\"dev2\"]");
        await Expect(dev1).ToContainTextAsync("served by dev1");
        await Expect(dev1).ToContainTextAsync("1/1 healthy");
        await Expect(dev2).ToContainTextAsync("503 no healthy upstream");
        await Expect(dev2).ToContainTextAsync("0/0 healthy");
        await Expect(session.Page.Locator("#lanes-table tr[data-lane=\"dev1\"]")).ToContainTextAsync("svc1 (cluster metadata)");
        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task Page_TrafficCountersMoveAfterRequests_AndAStoppedUpstreamShowsItsFailures()
    {
        await using var cluster = await BookinfoCluster.StartAsync(Scenario.Hango);
        await SendAsync(cluster, ("x-nsf-mark", "dev1"));
        await using var session = await PageSession.OpenAsync(browser.Browser, cluster.DashboardAddress);
        var lastMinute = session.Page.Locator("#traffic-table tr[data-service=\"svc1\"][data-lane=\"dev1\"][data-outcome=\"matched\"] td[data-window=\"1m\"]");
        await Expect(lastMinute).ToHaveTextAsync("1", new() { Timeout = 10_000 });

        for (var i = 0; i < 3; i++)
        {
            await SendAsync(cluster, ("x-nsf-mark", "dev1"));
        }

        await Expect(lastMinute).ToHaveTextAsync("4", new() { Timeout = 10_000 });
        await cluster.StopAsync("pod1");
        var status = await SendAsync(cluster, ("x-nsf-mark", "dev1"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status.StatusCode);   // dev1's only instance refused: Declared answers 503 (failover)
        await Expect(session.Page.Locator("#instances-table tr[data-destination=\"pod1\"] td[data-failures]")).ToHaveTextAsync("1", new() { Timeout = 10_000 });

        // The Failover section: pod1 ejected (it refused a connection), and what failover did with that attempt.
        var failover = session.Page.Locator("#failover-table tr[data-ejections=\"1\"]");
        await Expect(failover.Locator("span.badge.unhealthy")).ToHaveTextAsync("pod1", new() { Timeout = 10_000 });
        await Expect(failover.Locator("div[data-reason=\"connect-failure\"][data-outcome=\"lane-exhausted\"]")).ToHaveTextAsync("connect-failure → lane-exhausted: 1");
        Assert.Empty(session.Errors);
    }

    [Theory]
    [InlineData("hango", "x-nsf-mark", "dev1")]
    [InlineData("hango", "x-nsf-mark", "dev2")]
    [InlineData("hango", "x-nsf-mark", "dev3")]
    [InlineData("hango", null, null)]
    [InlineData("mspider", "x-mspider-laneid", "yellow")]
    public async Task Tracer_AnswersAsTheGatewayDoesForReal(string scenarioName, string? header, string? lane)
    {
        Assert.True(Scenario.TryGet(scenarioName, out var scenario));
        await using var cluster = await BookinfoCluster.StartAsync(scenario);
        await using var session = await PageSession.OpenAsync(browser.Browser, cluster.DashboardAddress);

        var traced = await session.TraceAsync(scenario.EntryPath, header is null ? string.Empty : $"{header}: {lane}");
        using var real = await SendAsync(cluster, header is null ? [] : [(header, lane!)]);

        Assert.Equal(Header(real, "x-lane-served") ?? "(none)", traced["served"]);
        Assert.Equal(Header(real, "x-lane-fallback") ?? "(none)", traced["reason"]);
        Assert.Equal(real.StatusCode == HttpStatusCode.OK ? "forwarded (the upstream answers)" : ((int)real.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), traced["status"]);
        Assert.Equal(scenario.EntryService, traced["cluster"]);
        if (header == "x-mspider-laneid")
        {
            Assert.Equal("yellow", traced["lane"]);
            Assert.Equal("alias", traced["source"]);
        }

        Assert.Empty(session.Errors);
    }

    [Fact]
    public async Task Page_HasNoSeriousOrCriticalAccessibilityViolation_AndIsPhotographedForTheReadme()
    {
        await using var cluster = await BookinfoCluster.StartAsync(Scenario.Hango);
        await SendRowsAsync(cluster);
        await using var session = await PageSession.OpenAsync(browser.Browser, cluster.DashboardAddress);
        await session.WaitForRefreshesAsync(1);
        await session.TraceAsync("/svc1", "x-nsf-mark: dev3");

        var results = await session.Page.RunAxe();

        var serious = results.Violations.Where(static v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious.Select(static v => $"{v.Impact} {v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(static n => string.Join(" ", n.Target)))})")));
        var png = await session.Page.ScreenshotAsync(new() { FullPage = true });
        Assert.True(png.Length > 10_000, $"the page rendered as a {png.Length}-byte picture");
        Assert.Empty(session.Errors);

        // The README's picture is rewritten only when asked (./test.sh with LANES_UPDATE_DOCS_IMAGES=1), so running the
        // suite leaves the working tree as it was.
        if (Environment.GetEnvironmentVariable("LANES_UPDATE_DOCS_IMAGES") == "1")
        {
            await File.WriteAllBytesAsync(Path.Combine(RepositoryRoot.Path, "docs", "images", "dashboard.png"), png);
        }
    }

    private static async Task SendRowsAsync(BookinfoCluster cluster)
    {
        foreach (var row in cluster.Scenario.Rows)
        {
            using var _ = await SendAsync(cluster, [.. row.Headers.Select(static h => (h.Key, h.Value))]);
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(BookinfoCluster cluster, params (string Name, string Value)[] headers)
    {
        using var client = new HttpClient { BaseAddress = cluster.GatewayAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, cluster.Scenario.EntryPath);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
