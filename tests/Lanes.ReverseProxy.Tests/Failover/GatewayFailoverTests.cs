using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Routing;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Tests.Failover;

/// <summary>
/// Gateway failover (docs/behaviour.md, "Failover"; docs/reliability.md): an instance that dies, hangs or stops under
/// load costs no request a retry within its lane can save, and no request leaves its lane for it. Upstreams that are
/// killed or stopped run in child processes (<see cref="ChildUpstream"/>, tests/Shared); the others are Kestrel in this process.
/// </summary>
public sealed class GatewayFailoverTests
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    [Theory]
    [InlineData(SampleProcess.SigKill)]
    [InlineData(SampleProcess.SigTerm)]
    public async Task InstanceKilledOrStoppedUnderLoad_EveryYellowGetIsAnsweredByYellow(int signal)
    {
        using var yellowA = await ChildAsync("yellow-a");
        using var yellowB = await ChildAsync("yellow-b");
        using var green = await ChildAsync("green");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Cluster("pp", ("lanePolicy", "Permissive"))
            .Destination("pp", "ya", yellowA.Address, "yellow")
            .Destination("pp", "yb", yellowB.Address, "yellow")
            .Destination("pp", "g", green.Address, "green");
        await using var gateway = await Gateway.StartAsync(config);
        using var client = gateway.CreateClient();

        // 8 callers, 600 GETs in all; the first yellow instance gets the signal once 150 have been answered.
        const int total = 600;
        var answers = new ConcurrentQueue<(HttpStatusCode Status, string? Instance)>();
        var sent = 0;
        var signalled = new TaskCompletionSource();
        var callers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= total)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/productpage");
                request.Headers.Add("x-mspider-lane", "yellow");
                using var response = await client.SendAsync(request);
                var echo = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<Echo>(Gateway.JsonOptions) : null;
                answers.Enqueue((response.StatusCode, echo?.Instance));
                if (answers.Count == 150 && signalled.TrySetResult())
                {
                    yellowA.Process.Signal(signal);
                }
            }
        })).ToArray();
        await Task.WhenAll(callers);

        Assert.True(signalled.Task.IsCompleted);
        var failed = answers.Where(static a => a.Status != HttpStatusCode.OK).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {total} answers were not 200: {string.Join(", ", failed.Select(static f => (int)f.Status).Distinct())}");
        Assert.All(answers, static a => Assert.StartsWith("yellow-", a.Instance, StringComparison.Ordinal));
        Assert.Contains(answers, static a => a.Instance == "yellow-b");

        // The instance is out of the yellow subset after it went away (a SIGTERMed Kestrel stops accepting at once).
        var ya = Destination(gateway, "pp", "ya");
        await Wait.UntilAsync(() => ya.Health.Passive == DestinationHealth.Unhealthy || signal == SampleProcess.SigTerm, "ya ejected");
    }

    [Fact]
    public async Task HungInstance_IsEjectedAfterConsecutiveTimeouts_AndItsLanesCallsAreAnsweredByTheOtherInstance()
    {
        using var yellowA = await ChildAsync("yellow-a");
        using var yellowB = await ChildAsync("yellow-b");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var config = Yellow2(yellowA.Address, yellowB.Address)
            .Lanes("Failover:AttemptTimeout", "00:00:02")
            .Lanes("Failover:ConsecutiveFailures", "2")
            .Lanes("Failover:EjectionPeriod", "01:00:00");
        await using var gateway = await Gateway.StartAsync(config, builder => builder.Services.AddSingleton<TimeProvider>(time));
        using var recorder = new MeasurementRecorder(gateway.App.Services.GetRequiredService<LaneTelemetry>().Meter);
        using var client = gateway.CreateClient();
        yellowA.Process.Signal(SigStop);
        try
        {
            var ya = Destination(gateway, "pp", "ya");
            for (var i = 0; i < 20; i++)
            {
                var call = SendYellowAsync(client);

                // A call waiting on the stopped instance is released by the attempt timeout: move the clock when one is.
                await Wait.UntilAsync(
                    () =>
                    {
                        if (!call.IsCompleted && ya.ConcurrentRequestCount > 0)
                        {
                            time.Advance(TimeSpan.FromSeconds(2));
                        }

                        return call.IsCompleted;
                    },
                    $"call {i} answered");
                var (status, instance) = await call;
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("yellow-b", instance);
            }

            Assert.Equal(DestinationHealth.Unhealthy, ya.Health.Passive);
            var timeouts = recorder.Of(LanesDiagnostics.RetriesInstrument).Where(static m => m.Tag(LanesDiagnostics.RetryReasonAttribute) == "timeout").ToList();
            Assert.Equal(2, timeouts.Sum(static m => m.Value));
            Assert.All(timeouts, static m => Assert.Equal("retried", m.Tag(LanesDiagnostics.RetryOutcomeAttribute)));
            Assert.Single(recorder.Of(LanesDiagnostics.EjectionsInstrument), static m => m.Tag(LanesDiagnostics.RetryReasonAttribute) == "consecutive-failures");
        }
        finally
        {
            yellowA.Process.Signal(SigCont);
        }
    }

    [Fact]
    public async Task PostWhoseBodyReachedTheInstance_IsNotRetried_AndTheLogSaysWhy()
    {
        var received = 0;
        await using var resetA = await ResettingAsync(() => Interlocked.Increment(ref received));
        await using var resetB = await ResettingAsync(() => Interlocked.Increment(ref received));
        await using var gateway = await Gateway.StartAsync(Yellow2(resetA.Address, resetB.Address));
        using var client = gateway.CreateClient();

        using var post = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent("{\"item\":1}", Encoding.UTF8, "application/json") };
        post.Headers.Add("x-mspider-lane", "yellow");
        using var answer = await client.SendAsync(post);

        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal(1, received);
        Assert.Contains(gateway.Logs.Records, static e => e.Message.Contains("was not retried: not-idempotent", StringComparison.Ordinal));

        // The same failure on a GET is retried (twice: the other instance, then the first again, since a reset instance
        // is still the lane's); it fails each time and the last answer stands: 1 POST + 3 GETs received, never a fallback.
        var (status, _) = await SendYellowAsync(client);
        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal(4, received);
    }

    [Fact]
    public async Task PostToARefusingInstance_IsRetried_WithItsBody()
    {
        await using var live = await Upstream.StartAsync("yellow-live");
        var dead = new Uri($"http://127.0.0.1:{ClosedPorts.Next()}/");
        var bodies = new ConcurrentQueue<string>();
        await using var echoing = await TestServers.StartAsync(null, app => app.MapPost("/{**rest}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            bodies.Enqueue(await reader.ReadToEndAsync());
            return Results.Json(new Echo("yellow-live", []));
        }));
        await using var gateway = await Gateway.StartAsync(Yellow2(dead, echoing.Address));
        using var client = gateway.CreateClient();

        // Small (buffered) and large (streamed, never read before the refusal) bodies alike.
        foreach (var size in new[] { 10, 200_000 })
        {
            for (var i = 0; i < 5; i++)
            {
                var body = new string('x', size);
                using var post = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent(body) };
                post.Headers.Add("x-mspider-lane", "yellow");
                using var answer = await client.SendAsync(post);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.True(bodies.TryDequeue(out var got));
                Assert.Equal(body.Length, got.Length);
            }
        }

        Assert.Equal(DestinationHealth.Unhealthy, Destination(gateway, "pp", "ya").Health.Passive);
    }

    [Fact]
    public async Task RetryBudget_CapsRetries_WhenEveryInstanceFails()
    {
        var received = 0;
        await using var a = await ResettingAsync(() => Interlocked.Increment(ref received));
        await using var b = await ResettingAsync(() => Interlocked.Increment(ref received));
        await using var c = await ResettingAsync(() => Interlocked.Increment(ref received));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);           // frozen: every request is in one budget window
        var config = Yellow2(a.Address, b.Address)
            .Destination("pp", "yc", c.Address, "yellow")
            .Lanes("Failover:MinRetriesPerSecond", "0")
            .Lanes("Failover:RetryBudgetPercent", "20")
            .Lanes("Failover:ConsecutiveFailures", "1000");
        await using var gateway = await Gateway.StartAsync(config, builder => builder.Services.AddSingleton<TimeProvider>(time));
        using var recorder = new MeasurementRecorder(gateway.App.Services.GetRequiredService<LaneTelemetry>().Meter);
        using var client = gateway.CreateClient();

        for (var i = 0; i < 50; i++)
        {
            var (status, _) = await SendYellowAsync(client);
            Assert.Equal(HttpStatusCode.BadGateway, status);
        }

        // Without the budget: 50 requests x 3 attempts = 150. With it: 50 + at most 20 % of 50.
        Assert.InRange(received, 51, 60);
        Assert.Contains(recorder.Of(LanesDiagnostics.RetriesInstrument), static m => m.Tag(LanesDiagnostics.RetryOutcomeAttribute) == "budget-exhausted");
    }

    [Theory]
    [InlineData("Strict")]
    [InlineData("Declared")]
    public async Task LaneWhoseOnlyInstanceRefuses_IsAnswered503_NeverByTheBaseline(string policy)
    {
        await using var green = await Upstream.StartAsync("green");
        var dead = new Uri($"http://127.0.0.1:{ClosedPorts.Next()}/");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Cluster("pp", ("lanePolicy", policy))
            .Destination("pp", "y", dead, "yellow")
            .Destination("pp", "g", green, "green");
        await using var gateway = await Gateway.StartAsync(config);

        var (response, _) = await gateway.SendAsync("/yellow-call", ("x-mspider-lane", "yellow"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Equal("no healthy upstream", problem.GetProperty("title").GetString());
        Assert.Equal("yellow", problem.GetProperty("lane").GetString());

        // Sentinel: a green call after it; green saw that one only.
        var (greenResponse, _) = await gateway.SendAsync("/green-call", ("x-mspider-lane", "green"));
        Assert.Equal(HttpStatusCode.OK, greenResponse.StatusCode);
        Assert.Equal(["/green-call"], green.Paths.ToArray());
    }

    [Fact]
    public async Task PermissiveLaneWhoseInstancesAllRefuse_FallsBackToTheBaseline_WithTheSameLaneAndBaggage()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = TwoRefusingYellowsAndGreen(green).Lanes("DebugHeaders", "true");
        await using var gateway = await Gateway.StartAsync(config);

        var (response, echo) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"), ("baggage", "user=alice"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", echo!.Instance);
        Assert.Equal("yellow", echo.Header("x-mspider-lane"));
        Assert.Equal("x-mspider-lane=yellow,user=alice", echo.Header("baggage"));
        Assert.Equal("green", response.Headers.GetValues("x-lane-served").Single());
        Assert.Equal("lane-unavailable", response.Headers.GetValues("x-lane-fallback").Single());
    }

    /// <summary>
    /// The same refusals for a shadow copy (a trusted marker under Accept): failover does not take it to the baseline
    /// once every instance of its lane refused; it is answered 503 and green receives nothing (a plain yellow request
    /// after it, the sentinel, is the one green serves).
    /// </summary>
    [Fact]
    public async Task ShadowCopyWhoseLaneInstancesAllRefuse_Is503_NeverTheBaseline()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = TwoRefusingYellowsAndGreen(green);
        await using var gateway = await Gateway.StartAsync(config);

        var (shadow, _) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"), ("x-lanes-shadow", "1"));
        var (plain, echo) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, shadow.StatusCode);
        Assert.Contains("shadow copy", (await shadow.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("green", echo!.Instance);
        Assert.Single(green.Paths);
    }

    [Fact]
    public async Task FailoverOff_LeavesTheFailureToTheCaller_AsPlainYarp()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Lanes("Failover:Enabled", "false")
            .Route("pp", "pp")
            .Cluster("pp", ("lanePolicy", "Permissive"))
            .Destination("pp", "y", new Uri($"http://127.0.0.1:{ClosedPorts.Next()}/"), "yellow")
            .Destination("pp", "g", green, "green");
        await using var gateway = await Gateway.StartAsync(config);

        var (response, _) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Empty(green.Paths);
    }

    [Fact]
    public async Task ClusterMetadata_laneRetries0_TurnsRetriesOffForThatCluster()
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Cluster("pp", ("lanePolicy", "Permissive"), ("laneRetries", "0"))
            .Destination("pp", "y", new Uri($"http://127.0.0.1:{ClosedPorts.Next()}/"), "yellow")
            .Destination("pp", "g", green, "green");
        await using var gateway = await Gateway.StartAsync(config);

        var (response, _) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);

        // Ejection still works: the refused instance left the subset, so the next yellow call falls back to green.
        var y = Destination(gateway, "pp", "y");
        await Wait.UntilAsync(() => y.Health.Passive == DestinationHealth.Unhealthy, "y ejected");
        var (next, echo) = await gateway.SendAsync("/p", ("x-mspider-lane", "yellow"));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("green", echo!.Instance);
    }

    [Theory]
    [InlineData("laneRetries", "eleven", "'laneRetries' must be a whole number from 0 to 10 (got 'eleven')")]
    [InlineData("laneAttemptTimeout", "soon\r\nX: 1", "'laneAttemptTimeout' must be a time span")]
    public async Task InvalidFailoverMetadata_IsRefusedAtStartUp_NamingTheKey_NeverEchoingRaw(string key, string value, string expected)
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig().Route("pp", "pp").Cluster("pp", (key, value)).Destination("pp", "g", green, "green");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Gateway.StartAsync(config));

        var text = Gateway.Flatten(error);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\nX: 1", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Retries", "11", "Lanes:Failover:Retries must be between 0 and 10")]
    [InlineData("AttemptTimeout", "-00:00:01", "Lanes:Failover:AttemptTimeout must be a positive time span")]
    [InlineData("RetryBudgetPercent", "150", "Lanes:Failover:RetryBudgetPercent must be between 0 and 100")]
    [InlineData("ConsecutiveFailures", "0", "Lanes:Failover:ConsecutiveFailures must be 1 or more")]
    public async Task InvalidFailoverSettings_AreRefusedAtStartUp_SayingWhatToWrite(string key, string value, string expected)
    {
        await using var green = await Upstream.StartAsync("green");
        var config = new GatewayConfig().Lanes("Failover:" + key, value).Route("pp", "pp").Destination("pp", "g", green, "green");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => Gateway.StartAsync(config));

        Assert.Contains(expected, Gateway.Flatten(error), StringComparison.Ordinal);
    }

    private static GatewayConfig Yellow2(Uri first, Uri second) => new GatewayConfig()
        .Lanes("Preset", "mspider")
        .Route("pp", "pp")
        .Cluster("pp", ("lanePolicy", "Strict"))
        .Destination("pp", "ya", first, "yellow")
        .Destination("pp", "yb", second, "yellow");

    private static async Task<(HttpStatusCode Status, string? Instance)> SendYellowAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/productpage");
        request.Headers.Add("x-mspider-lane", "yellow");
        using var response = await client.SendAsync(request);
        var echo = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<Echo>(Gateway.JsonOptions) : null;
        return (response.StatusCode, echo?.Instance);
    }

    /// <summary>An in-process upstream that reads each request's body, calls <paramref name="received"/>, then drops the connection before answering.</summary>
    private static Task<RunningServer> ResettingAsync(Action received) => TestServers.StartAsync(null, app => app.Map("/{**rest}", async (HttpContext context) =>
    {
        using var reader = new StreamReader(context.Request.Body);
        await reader.ReadToEndAsync();
        received();
        context.Abort();
    }));

    private static DestinationState Destination(RunningServer gateway, string cluster, string destination)
    {
        var lookup = gateway.App.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster(cluster, out var state));
        return state.Destinations[destination];
    }

    private static Task<ChildUpstream.Child> ChildAsync(string name) => ChildUpstream.StartAsync(name);

    /// <summary>A Permissive cluster whose two yellow instances refuse every connection (closed ports) and a live green baseline.</summary>
    private static GatewayConfig TwoRefusingYellowsAndGreen(Upstream green)
        => new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("pp", "pp")
            .Cluster("pp", ("lanePolicy", "Permissive"))
            .Destination("pp", "y", new Uri($"http://127.0.0.1:{ClosedPorts.Next()}/"), "yellow")
            .Destination("pp", "y2", new Uri($"http://127.0.0.1:{ClosedPorts.Next()}/"), "yellow")
            .Destination("pp", "g", green, "green");
}
