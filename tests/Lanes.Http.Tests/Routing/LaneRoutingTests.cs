using System.Net;
using System.Text.Json;
using Lanes.Configuration;
using Lanes.ServiceDiscovery.Routing;
using Lanes.Routing;
using Lanes.ServiceDiscovery;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Lanes.Http.Tests.Routing;

/// <summary>
/// Client-side HTTP lane routing through real calls to real upstreams (green, yellow, unlabelled), a declared lane
/// whose only instance is down (red) and a declared lane with none (blue): every DESIGN 6 row for Strict,
/// Permissive and Declared, passive health, pass-through and the local 503.
/// </summary>
public sealed class LaneRoutingTests : IAsyncLifetime, IDisposable
{
    private readonly WireMockServer _green = Named("green");
    private readonly WireMockServer _yellow = Named("yellow");
    private readonly WireMockServer _unlabelled = Named("unlabelled");
    private readonly ManualTime _time = new();
    private readonly InMemoryLoggerProvider _logs = new();
    private readonly ServiceProvider _services;

    public LaneRoutingTests()
    {
        var dead = ClosedPorts.Next();
        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" };
        foreach (var policy in new[] { "Strict", "Permissive", "Declared" })
        {
            var service = $"Lanes:Services:details-{policy.ToLowerInvariant()}";
            config[$"{service}:Metadata:lanePolicy"] = policy;
            config[$"{service}:Metadata:lanes"] = "green,yellow,red,blue";
            config[$"{service}:Instances:green:Address"] = _green.Url;
            config[$"{service}:Instances:green:Metadata:lane"] = "green";
            config[$"{service}:Instances:yellow:Address"] = _yellow.Url;
            config[$"{service}:Instances:yellow:Metadata:lane"] = "yellow";
            config[$"{service}:Instances:plain:Address"] = _unlabelled.Url + "/base/";
            config[$"{service}:Instances:red:Address"] = $"http://127.0.0.1:{dead}";
            config[$"{service}:Instances:red:Metadata:lane"] = "red";
        }

        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_logs));
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(config).Build());
        services.AddSingleton<TimeProvider>(_time);
        services.AddLanes();
        services.AddHttpClient("routed").AddLaneRouting();
        _services = services.BuildServiceProvider();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose() => _logs.Dispose();

    // Service discovery's resolver is only IAsyncDisposable, so the container is disposed asynchronously.
    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _green.Stop();
        _yellow.Stop();
        _unlabelled.Stop();
    }

    private HttpClient Client => _services.GetRequiredService<IHttpClientFactory>().CreateClient("routed");

    /// <summary>The upstream that answered a GET made in <paramref name="lane"/>, or "503".</summary>
    private async Task<string> AnsweredAsync(string policy, string? lane, string path = "/details/1?x=y")
    {
        using (LaneContext.Begin(lane))
        {
            using var response = await Client.GetAsync($"http://details-{policy}{path}");
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                Assert.Equal("no healthy upstream", problem.GetProperty("title").GetString());
                Assert.Equal($"details-{policy}", problem.GetProperty("cluster").GetString());
                return "503";
            }

            return await response.Content.ReadAsStringAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Design6Rows.Rows), MemberType = typeof(Design6Rows))]
    public async Task Get_DesignTableRow_IsServedByTheDocumentedInstance(string policy, string? lane, string expected)
    {
        // red's instance is down: the first call finds out (connection refused), ejects it and re-picks.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected, await AnsweredAsync(policy, lane));
        }
    }

    [Fact]
    public async Task Get_RebasesPathAndQueryOntoTheInstanceAddress_AndSendsTheLane()
    {
        await AnsweredAsync("strict", "yellow", "/details/42?a=1&b=2");
        await AnsweredAsync("strict", null, "/details/7?q");

        var yellow = _yellow.LogEntries.Single().RequestMessage;
        Assert.Equal("/details/42", yellow.Path);
        Assert.Equal("yellow", yellow.Headers!["x-nsf-mark"].Single());
        Assert.Equal("1", yellow.Query!["a"].Single());
        Assert.Equal("/base/details/7", _unlabelled.LogEntries.Single().RequestMessage.Path);
    }

    [Fact]
    public async Task InstanceStoppedMidTest_IsEjected_AndThePolicysFallbackApplies_UntilThePeriodEnds()
    {
        Assert.Equal("yellow", await AnsweredAsync("permissive", "yellow"));
        _yellow.Stop();

        Assert.Equal("unlabelled", await AnsweredAsync("permissive", "yellow")); // failed, ejected, retried in one call
        Assert.Equal("503", await AnsweredAsync("strict", "yellow"));            // strict: the ejection is per service
        Assert.Equal("unlabelled", await AnsweredAsync("permissive", "yellow"));

        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal("unlabelled", await AnsweredAsync("permissive", "yellow")); // re-admitted, still down: ejected again

        // Each step was logged: the ejection (with the instance, its lane and the period), the fallback, the local
        // 503, the re-admission.
        var events = _logs.Records.Where(static r => r.Category.StartsWith("Lanes.", StringComparison.Ordinal)).ToList();
        var ejected = events.Where(static r => r.EventId.Name == "InstanceEjected").ToList();
        Assert.True(ejected.Count >= 2, $"{ejected.Count} ejections logged");
        Assert.All(ejected, static r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.Contains("'yellow' (lane yellow) of 'details-permissive' out for 00:00:10", ejected[0].Message, StringComparison.Ordinal);
        Assert.Contains(events, static r => r.EventId.Name == "InstanceReadmitted" && r.Message.Contains("'yellow' of 'details-permissive'", StringComparison.Ordinal));
        Assert.Contains(events, static r => r.EventId.Name == "RoutingFellBack" && r.Level == LogLevel.Debug
            && r.Message.Contains("lane 'yellow' for 'details-permissive' to subset '(unlabelled)': fallback (lane-unavailable)", StringComparison.Ordinal));
        Assert.Contains(events, static r => r.EventId.Name == "NoHealthyUpstream" && r.Level == LogLevel.Warning
            && r.Message.Contains("'details-strict' and lane 'yellow' (policy Strict)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RoutingDecision_IsAnEventOnTheCurrentActivity()
    {
        using var activity = new System.Diagnostics.Activity("caller") { ActivityTraceFlags = System.Diagnostics.ActivityTraceFlags.Recorded }.Start();

        await AnsweredAsync("permissive", "blue");                                        // declared, no instance: fallback
        await AnsweredAsync("strict", "yellow");                                          // matched

        var routed = activity.Events.Where(static e => e.Name == LaneTelemetry.RoutedEventName).Select(static e => e.Tags.ToDictionary(static t => t.Key, static t => t.Value?.ToString())).ToList();
        Assert.Equal(2, routed.Count);
        Assert.Equal("details-permissive", routed[0]["lane.routing.service"]);
        Assert.Equal("blue", routed[0]["lane.name"]);
        Assert.Equal("fallback", routed[0]["lane.routing.outcome"]);
        Assert.Equal("lane-unavailable", routed[0]["lane.routing.reason"]);
        Assert.Equal("(unlabelled)", routed[0]["lane.routing.served"]);
        Assert.Equal("matched", routed[1]["lane.routing.outcome"]);
        Assert.False(routed[1].ContainsKey("lane.routing.reason"));
    }

    [Fact]
    public async Task Post_ConnectionFailure_IsRetried_AndEjects()
    {
        // Nothing reached the refusing red instance, so the POST goes on (failover: any method on a refused connection);
        // red's only instance is out, so the Permissive service sends red to its baseline.
        using (LaneContext.Begin("red"))
        {
            using var response = await Client.PostAsync("http://details-permissive/details", new StringContent("{}"));
            Assert.Equal("unlabelled", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal("unlabelled", await AnsweredAsync("permissive", "red"));
    }

    [Fact]
    public async Task AppSetLaneHeader_RoutesByThatLane_AndAnInvalidOneRoutesAsNoLane()
    {
        using (LaneContext.Begin("green"))
        {
            using var yellow = new HttpRequestMessage(HttpMethod.Get, "http://details-strict/details");
            yellow.Headers.Add("x-nsf-mark", "yellow");
            using var invalid = new HttpRequestMessage(HttpMethod.Get, "http://details-strict/details");
            invalid.Headers.TryAddWithoutValidation("x-nsf-mark", "yel low");

            Assert.Equal("yellow", await (await Client.SendAsync(yellow)).Content.ReadAsStringAsync());
            Assert.Equal("unlabelled", await (await Client.SendAsync(invalid)).Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task OtherHosts_PassThroughUnrouted()
    {
        using (LaneContext.Begin("yellow"))
        {
            using var response = await Client.GetAsync(_green.Url + "/direct");

            Assert.Equal("green", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Router_EjectionEndsAfterThePeriod()
    {
        var router = _services.GetRequiredService<LaneHttpRouter>();
        var snapshot = await _services.GetRequiredService<LaneServiceEndpoints>().GetAsync("http", "details-strict", CancellationToken.None);
        var yellow = snapshot!.Definition.Instances.Single(static i => i.Lane == "yellow");

        router.Eject(snapshot, yellow);
        var during = router.Pick(snapshot, "yellow", shadow: false, out var duringChoice);
        _time.Advance(TimeSpan.FromSeconds(10));
        var after = router.Pick(snapshot, "yellow", shadow: false, out _);

        Assert.Null(during);
        Assert.Equal(LaneRoutingOutcome.NoUpstream, duringChoice.Outcome);
        Assert.Same(yellow, after);
    }

    [Fact]
    public void PassiveHealthPeriod_OutOfRange_StopsStartUp()
    {
        var options = new LaneOptions { PassiveHealthPeriod = TimeSpan.FromMilliseconds(10) };

        var error = Assert.Throws<ArgumentException>(() => LaneSettings.Create(options));

        Assert.Contains("Lanes:PassiveHealthPeriod", error.Message, StringComparison.Ordinal);
    }

    private static WireMockServer Named(string name)
    {
        var server = WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"] });
        server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody(name));
        return server;
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
