using System.Collections.Concurrent;
using System.Net;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Failover of client-side HTTP routing (docs/behaviour.md, "Failover"): the same rules as the gateway's, for an
/// HttpClient with <c>AddLaneRouting()</c>, alone and under the standard resilience handler. Upstreams that are killed or
/// stopped run in child processes (<see cref="ChildUpstream"/>).
/// </summary>
public sealed class ClientFailoverTests
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    [Theory]
    [InlineData(SampleProcess.SigKill, false)]
    [InlineData(SampleProcess.SigTerm, false)]
    [InlineData(SampleProcess.SigKill, true)]
    public async Task InstanceKilledOrStoppedUnderLoad_EveryYellowCallIsAnsweredByYellow(int signal, bool serviceDefaults)
    {
        using var yellowA = await ChildUpstream.StartAsync("yellow-a");
        using var yellowB = await ChildUpstream.StartAsync("yellow-b");
        using var green = await ChildUpstream.StartAsync("green");
        var config = Config(("ya", yellowA.Address, "yellow"), ("yb", yellowB.Address, "yellow"), ("g", green.Address, "green"));
        await using var client = await ClientAsync(config, serviceDefaults);

        const int total = 400;
        var answers = new ConcurrentQueue<string>();
        var sent = 0;
        var signalled = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= total)
            {
                using (LaneContext.Begin("yellow"))
                {
                    try
                    {
                        using var response = await client.Http.GetAsync(new Uri("http://details/productpage"));
                        answers.Enqueue(response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : $"status {(int)response.StatusCode}");
                    }
                    catch (HttpRequestException e)
                    {
                        answers.Enqueue($"{e.GetType().Name}: {e.Message}");
                    }
                }

                if (answers.Count >= 100 && Interlocked.Exchange(ref signalled, 1) == 0)
                {
                    yellowA.Process.Signal(signal);
                }
            }
        })));

        Assert.Equal(1, signalled);
        var wrong = answers.Where(static a => !a.Contains("\"instance\":\"yellow-", StringComparison.Ordinal)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {total} calls were not answered by yellow: {string.Join(" | ", wrong.Distinct().Take(5))}");
        Assert.Contains(answers, static a => a.Contains("\"instance\":\"yellow-b\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HungInstance_CallsAreAnsweredByTheOtherInstanceAfterTheAttemptTimeout_ThenItIsEjected()
    {
        using var yellowA = await ChildUpstream.StartAsync("yellow-a");
        using var yellowB = await ChildUpstream.StartAsync("yellow-b");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var config = Config(("ya", yellowA.Address, "yellow"), ("yb", yellowB.Address, "yellow"));
        config["Lanes:Failover:AttemptTimeout"] = "00:00:02";
        config["Lanes:Failover:ConsecutiveFailures"] = "2";
        config["Lanes:PassiveHealthPeriod"] = "01:00:00";
        var wire = new InFlightHandler();
        await using var client = await ClientAsync(config, serviceDefaults: false, time, wire);
        yellowA.Process.Signal(SigStop);
        try
        {
            var timeouts = 0;
            for (var i = 0; i < 20; i++)
            {
                Task<string> call;
                using (LaneContext.Begin("yellow"))
                {
                    call = client.Http.GetStringAsync(new Uri("http://details/p"));
                }

                var advanced = 0;
                await Wait.UntilAsync(
                    () =>
                    {
                        // An attempt waiting on the stopped instance is released by the attempt timeout: move the clock when one is.
                        if (!call.IsCompleted && wire.InFlight(yellowA.Address.Port) > 0)
                        {
                            time.Advance(TimeSpan.FromSeconds(2));
                            advanced++;
                        }

                        return call.IsCompleted;
                    },
                    $"call {i} answered");
                Assert.Contains("\"instance\":\"yellow-b\"", await call, StringComparison.Ordinal);
                timeouts += advanced > 0 ? 1 : 0;
            }

            // yellow-a was picked until its second timeout ejected it; every call after that went straight to yellow-b.
            Assert.Equal(2, timeouts);
            Assert.Contains(client.Logs.Records, static r => r.EventId.Name == "InstanceEjected" && r.Message.Contains("'ya'", StringComparison.Ordinal) && r.Message.Contains("consecutive-failures", StringComparison.Ordinal));
        }
        finally
        {
            yellowA.Process.Signal(SigCont);
        }
    }

    [Fact]
    public async Task PostWhoseBodyReachedTheInstance_IsNotRetried()
    {
        var received = 0;
        await using var a = await ResettingAsync(() => Interlocked.Increment(ref received));
        await using var b = await ResettingAsync(() => Interlocked.Increment(ref received));
        await using var client = await ClientAsync(Config(("ya", a.Address, "yellow"), ("yb", b.Address, "yellow")), serviceDefaults: false);

        using (LaneContext.Begin("yellow"))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.Http.PostAsync(new Uri("http://details/orders"), new StringContent("{}")));
        }

        Assert.Equal(1, received);
        Assert.Contains(client.Logs.Records, static r => r.EventId.Name == "NotRetried" && r.Message.Contains("not-idempotent", StringComparison.Ordinal));

        // The same failure on a GET is retried: the other instance first, then (none left untried) the first again.
        using (LaneContext.Begin("yellow"))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => client.Http.GetAsync(new Uri("http://details/orders")));
        }

        Assert.Equal(4, received);                                     // the other instance, then the first again: still the lane's
    }

    [Fact]
    public async Task PostToARefusingInstance_IsRetried_WithItsBody_AndStrictNeverFallsBack()
    {
        var bodies = new ConcurrentQueue<string>();
        await using var live = await TestServers.StartAsync(null, app => app.MapPost("/{**rest}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            bodies.Enqueue(await reader.ReadToEndAsync());
            return Results.Text("yellow-live");
        }));
        await using var green = await TestServers.StartAsync(null, app => app.Map("/{**rest}", () => Results.Text("green")));
        var dead = new Uri(Fleet.Dead() + "/");
        var config = Config(("ya", dead, "yellow"), ("yb", live.Address, "yellow"), ("g", green.Address, "green"));
        await using var client = await ClientAsync(config, serviceDefaults: false);

        for (var i = 0; i < 4; i++)
        {
            using (LaneContext.Begin("yellow"))
            {
                using var response = await client.Http.PostAsync(new Uri("http://details/orders"), new StringContent("order " + i));
                Assert.Equal("yellow-live", await response.Content.ReadAsStringAsync());
            }
        }

        Assert.Equal(["order 0", "order 1", "order 2", "order 3"], bodies.ToArray());

        // With yb gone too, Strict answers the local 503; green is never called.
        await live.DisposeAsync();
        using (LaneContext.Begin("yellow"))
        {
            using var response = await client.Http.GetAsync(new Uri("http://details/orders"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }
    }

    [Fact]
    public async Task UnderTheStandardResilienceHandler_AttemptsDoNotMultiply()
    {
        // Both yellow instances refuse: one immediate re-pick by Lanes, then the pipeline's retry finds the lane used up
        // and the Strict service answers the local 503, which is not retried. Two HTTP attempts, not 4 x 3.
        var config = Config(("ya", new Uri(Fleet.Dead() + "/"), "yellow"), ("yb", new Uri(Fleet.Dead() + "/"), "yellow"));
        await using var client = await ClientAsync(config, serviceDefaults: true);

        using (LaneContext.Begin("yellow"))
        {
            using var response = await client.Http.GetAsync(new Uri("http://details/p"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Equal(2, client.Attempts);
    }

    private static Dictionary<string, string?> Config(params (string Id, Uri Address, string Lane)[] instances)
    {
        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" };
        Fleet.Service(config, "details", "Strict", null, [.. instances.Select(static i => (i.Id, i.Address.ToString().TrimEnd('/'), (string?)i.Lane))]);
        return config;
    }

    /// <summary>An in-process upstream that reads each request's body, calls <paramref name="received"/>, then drops the connection before answering.</summary>
    private static Task<RunningServer> ResettingAsync(Action received) => TestServers.StartAsync(null, app => app.Map("/{**rest}", async (HttpContext context) =>
    {
        using var reader = new StreamReader(context.Request.Body);
        await reader.ReadToEndAsync();
        received();
        context.Abort();
    }));

    private static async Task<Client> ClientAsync(Dictionary<string, string?> config, bool serviceDefaults, TimeProvider? time = null, InFlightHandler? wire = null)
    {
        if (serviceDefaults)
        {
            var host = await ServiceDefaultsHost.StartAsync(
                new ConfigurationBuilder().AddInMemoryCollection(config).Build(),
                static s => s.AddHttpClient("details").AddLaneRouting().CountAttempts(),
                resilience: static r => r.Configure(static o => o.Retry.Delay = TimeSpan.FromMilliseconds(10)));
            return new Client(host.Http("details"), host.Logs, () => host.Attempts["details"], host);
        }

        var logs = new InMemoryLoggerProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddSingleton<Attempts>();
        builder.Services.AddLanes();
        var http = builder.Services.AddHttpClient("details").AddLaneRouting().CountAttempts();
        if (wire is not null)
        {
            http.ConfigurePrimaryHttpMessageHandler(() => wire);
        }

        var app = builder.Build();
        await app.StartAsync();
        var attempts = app.Services.GetRequiredService<Attempts>();
        return new Client(app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("details"), logs, () => attempts["details"], (IAsyncDisposable)app);
    }

    /// <summary>The client's primary handler: counts attempts in flight per instance port (the routed address).</summary>
    private sealed class InFlightHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly ConcurrentDictionary<int, int> _inFlight = new();

        public int InFlight(int port) => _inFlight.TryGetValue(port, out var count) ? count : 0;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var port = request.RequestUri!.Port;
            _inFlight.AddOrUpdate(port, 1, static (_, c) => c + 1);
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            finally
            {
                _inFlight.AddOrUpdate(port, 0, static (_, c) => c - 1);
            }
        }
    }

    private sealed class Client(HttpClient http, InMemoryLoggerProvider logs, Func<int> attempts, IAsyncDisposable owner) : IAsyncDisposable
    {
        public HttpClient Http { get; } = http;

        public InMemoryLoggerProvider Logs { get; } = logs;

        public int Attempts => attempts();

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await owner.DisposeAsync();
        }
    }
}
