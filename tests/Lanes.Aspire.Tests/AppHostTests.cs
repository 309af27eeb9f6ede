using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bookinfo;
using Lanes.Testing;
using Xunit.Abstractions;

namespace Lanes.Aspire.Tests;

/// <summary>
/// samples/AppHost under Aspire's own test host (DCP starts every bookinfo instance and the gateway as processes on
/// loopback; the dashboard is off): the mspider table through the gateway, the lane on each resource, and a yellow
/// instance stopped through the resource API falling back as its policy says.
/// </summary>
[Collection("AppHost")]
public sealed class AppHostTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Instances =
        ["productpage-green", "productpage-yellow", "details-green", "details-yellow", "ratings-green", "ratings-yellow", "reviews-green"];

    private DistributedApplication _app = null!;

    private OtlpReceiver _traces = null!;

    /// <summary>Until every instance and the gateway answer: DCP reports Running when a process started, not when it listens.</summary>
    private static TimeSpan Startup => TimeSpan.FromMinutes(3);

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--GatewayPort", "0"],
            static (options, _) => options.DisableDashboard = true);

        // The dashboard's OTLP endpoint, played by a receiver this test reads: every instance exports its traces there.
        _traces = await OtlpReceiver.StartAsync();
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", _traces.Address.ToString())
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200");   // export every 200 ms instead of every 5 s
        }

        _app = await builder.BuildAsync();
        await _app.StartAsync();
        foreach (var name in Instances.Append("gateway"))
        {
            await _app.ResourceNotifications.WaitForResourceAsync(name, KnownResourceStates.Running).WaitAsync(Startup);
        }

        output.WriteLine($"app host up (every resource Running) in {clock.Elapsed.TotalSeconds:F1} s");
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _traces.DisposeAsync();
    }

    [Fact]
    public async Task MSpiderTable_ThroughTheGateway_ThenAStoppedYellowInstanceFallsBackToGreen()
    {
        var gateway = _app.GetEndpoint("gateway", "http");
        var clock = Stopwatch.StartNew();
        var rows = await TableServedAsync(gateway);
        output.WriteLine($"table served {clock.Elapsed.TotalSeconds:F1} s after Running");
        output.WriteLine(DemoRunner.Format(Scenario.MSpider, rows));

        // Stop details-yellow through the resource API: a yellow request keeps its lane everywhere else and is served by
        // green details (Permissive), in one answer, with the lane still yellow at ratings after green reviews.
        await _app.ResourceCommands.ExecuteCommandAsync("details-yellow", KnownResourceCommands.StopCommand);
        await _app.ResourceNotifications.WaitForResourceAsync("details-yellow", [KnownResourceStates.Exited, KnownResourceStates.Finished]).WaitAsync(Startup);
        var yellow = new DemoRow("yellow, details-yellow stopped", [new("x-mspider-lane", "yellow")], 200,
            [new("productpage", "yellow", "yellow"), new("details", "green", "yellow"), new("reviews", "green", "yellow"), new("ratings", "yellow", "yellow")]);
        var scenario = new Scenario
        {
            Name = "mspider, details-yellow stopped",
            Header = Scenario.MSpider.Header,
            Lanes = Scenario.MSpider.Lanes,
            Instances = Scenario.MSpider.Instances,
            ServiceMetadata = Scenario.MSpider.ServiceMetadata,
            EntryService = Scenario.MSpider.EntryService,
            EntryPath = Scenario.MSpider.EntryPath,
            Rows = [yellow],
        };
        var after = await DemoRunner.RunAsync(gateway, scenario);
        Assert.True(after.Single().Matches, DemoRunner.Format(scenario, after));
    }

    [Fact]
    public async Task ATraceThroughTheApplication_CarriesTheLaneOnEveryServersSpan()
    {
        Assert.NotEmpty(await TableServedAsync(_app.GetEndpoint("gateway", "http")));

        // The yellow request's trace, as the instances exported it: one server span per hop, each with the lane the
        // request carried (lane = yellow), also at green reviews, which served it as the fallback.
        var hops = await Wait.ForAsync(
            () => Task.FromResult(YellowTrace()),
            static spans => spans.Select(static s => s.Service).Distinct().Count() == 4,
            "server spans of productpage-yellow, details-yellow, reviews-green and ratings-yellow in one trace",
            Startup,
            static spans => string.Join("\n", spans.Select(static s => $"{s.Service} {s.Name} {string.Join(",", s.Attributes)}")));
        Assert.Equal(["details-yellow", "productpage-yellow", "ratings-yellow", "reviews-green"], hops.Select(static s => s.Service).Distinct().Order(StringComparer.Ordinal));
        Assert.All(hops, static s => Assert.Equal("yellow", s.Attributes["lane"]));
    }

    /// <summary>Sends the mspider rows through the gateway until every one is served as the table says (the instances start in parallel).</summary>
    private static Task<IReadOnlyList<DemoRunner.RowResult>> TableServedAsync(Uri gateway)
        => Wait.ForAsync(
            () => DemoRunner.RunAsync(gateway, Scenario.MSpider),
            static results => results.All(static r => r.Matches),
            "every mspider row served as the table says",
            Startup,
            static results => DemoRunner.Format(Scenario.MSpider, results));

    /// <summary>The server spans (kind 2) of the first trace whose productpage-yellow server span has lane yellow.</summary>
    private List<OtlpReceiver.ReceivedSpan> YellowTrace()
    {
        var spans = _traces.Spans.ToList();
        var entry = spans.FirstOrDefault(static s => s.Kind == 2 && s.Service == "productpage-yellow" && s.Attributes.GetValueOrDefault("lane") == "yellow");
        return entry is null ? [] : [.. spans.Where(s => s.Kind == 2 && s.TraceId == entry.TraceId)];
    }

    [Fact]
    public async Task EveryInstance_ShowsItsServiceAndLane_AsResourceProperties()
    {
        foreach (var name in Instances)
        {
            var (service, lane) = (name[..name.IndexOf('-', StringComparison.Ordinal)], name[(name.IndexOf('-', StringComparison.Ordinal) + 1)..]);
            var seen = await _app.ResourceNotifications.WaitForResourceAsync(name, e => Property(e, LanesAspireExtensions.LaneProperty) is not null).WaitAsync(Startup);
            Assert.Equal(lane, Property(seen, LanesAspireExtensions.LaneProperty));
            Assert.Equal(service, Property(seen, LanesAspireExtensions.ServiceProperty));
        }

        var details = await _app.ResourceNotifications.WaitForResourceAsync("details", static e => Property(e, "lanes.instances") is { Length: > 0 }).WaitAsync(Startup);
        Assert.Equal("Permissive", Property(details, "lanes.policy"));
        Assert.Equal("details-green (green), details-yellow (yellow)", Property(details, "lanes.instances"));

        // What the dashboard's graph draws: the service links to its instances; no made-up state for a resource
        // without lifetime.
        Assert.Equal(
            ["details-green LaneInstance", "details-yellow LaneInstance"],
            details.Snapshot.Relationships.Select(static r => $"{r.ResourceName} {r.Type}").Order(StringComparer.Ordinal));
        Assert.NotEqual("Declared", details.Snapshot.State?.Text);
    }

    private static string? Property(ResourceEvent e, string name)
        => e.Snapshot.Properties.FirstOrDefault(p => p.Name == name)?.Value?.ToString();
}
