using System.Diagnostics;
using System.Net.Http.Json;
using Lanes.EndToEnd.Tests.Samples;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Lanes.EndToEnd.Tests.Polyglot;

/// <summary>
/// A lane across a Node.js hop (issue 40, docs/polyglot.md): a .NET entry service with Lanes and OpenTelemetry tracing →
/// a real Node.js service instrumented with OpenTelemetry JS as its team configured it (it knows nothing about lanes)
/// → a .NET service that answers the lane it resolved and where it came from. Node.js and the pinned OpenTelemetry JS
/// packages (tests/polyglot/package-lock.json) are installed by ./test.sh.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class PolyglotChainTests
{
    private const string Every = "header, baggage, tracecontext, jaeger, ottrace";

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new(System.Text.Json.JsonSerializerDefaults.Web);

    public static TheoryData<string, string> Hops => new()
    {
        { "w3c", "baggage" },
        { "tracecontext", "tracestate" },
        { "jaeger", "jaeger" },
        { "ottrace", "ottrace" },
    };

    [Theory]
    [MemberData(nameof(Hops))]
    public async Task EveryCarrierConfigured_TheLaneCrossesTheNodeHop(string nodePropagators, string source)
    {
        var seen = await RunChainAsync(nodePropagators, Every);

        Assert.Equal(new LaneSeen("yellow", source), seen);
    }

    [Theory]
    [InlineData("w3c", "yellow")]
    [InlineData("tracecontext", null)]
    [InlineData("jaeger", null)]
    [InlineData("ottrace", null)]
    public async Task DefaultCarriers_OnlyAW3CBaggageHopCarriesTheLane(string nodePropagators, string? lane)
    {
        // The issue's starting point, and the proof that the hop forwards only what its tracer understands.
        var seen = await RunChainAsync(nodePropagators, propagators: null);

        Assert.Equal(lane, seen.Lane);
    }

    [Fact]
    public async Task NodeAsTheOrigin_ItsOwnBaggageLane_IsTheLaneOfTheDotNetService()
    {
        await using var last = await StartLastAsync(Every);
        using var hop = await StartHopAsync("w3c", new Uri(last.Address, "/lane"), ("HOP_ORIGIN_LANE", "yellow"), ("HOP_LANE_KEY", "x-mspider-lane"));
        using var client = new HttpClient();

        var seen = await client.GetFromJsonAsync<LaneSeen>(hop.Address);

        Assert.Equal(new LaneSeen("yellow", "baggage"), seen);
    }

    private static async Task<LaneSeen> RunChainAsync(string nodePropagators, string? propagators)
    {
        await using var last = await StartLastAsync(propagators);
        using var hop = await StartHopAsync(nodePropagators, new Uri(last.Address, "/lane"));
        await using var entry = await StartEntryAsync(hop.Address, propagators);
        using var client = entry.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");
        request.Headers.Add("x-mspider-lane", "yellow");

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}\nnode stderr: {hop.Process.Stderr}");
        return System.Text.Json.JsonSerializer.Deserialize<LaneSeen>(body, JsonOptions)!;
    }

    private static Task<RunningServer> StartEntryAsync(Uri hop, string? propagators)
        => TestServers.StartAsync(
            b =>
            {
                AddLanesAndTracing(b, propagators);
                b.Services.AddHttpClient("hop", c => c.BaseAddress = hop).AddLanePropagation();
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/call", async (IHttpClientFactory factory) =>
                    Results.Text(await factory.CreateClient("hop").GetStringAsync("/"), "application/json"));
            });

    private static Task<RunningServer> StartLastAsync(string? propagators)
        => TestServers.StartAsync(
            b => AddLanesAndTracing(b, propagators),
            app =>
            {
                app.UseLanes();
                app.MapGet("/lane", () => new LaneSeen(LaneContext.Current, LanesDiagnostics.GetSourceName(LaneContext.CurrentSource)));
            });

    /// <summary>As the issue's user set up each .NET service: AddLanes(), WithLanes(), ASP.NET Core and HttpClient instrumentation.</summary>
    private static void AddLanesAndTracing(WebApplicationBuilder builder, string? propagators)
    {
        builder.Services.AddLanes(o =>
        {
            o.UsePreset("mspider");
            o.DefaultLane = string.Empty;                   // no default: "none" must mean the lane did not arrive
            o.TraceCacheSize = 0;
            o.Propagators = propagators;
        });
        builder.Services.AddOpenTelemetry().WithLanes()
            .WithTracing(t => t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddInMemoryExporter(new List<Activity>()));
    }

    private static async Task<NodeHop> StartHopAsync(string propagators, Uri downstream, params (string Name, string Value)[] extra)
    {
        var script = Path.Combine(RepositoryRoot.Path, "tests", "polyglot", "hop.js");
        Assert.True(
            Directory.Exists(Path.Combine(RepositoryRoot.Path, "tests", "polyglot", "node_modules", "@opentelemetry")),
            "tests/polyglot/node_modules is missing: ./test.sh installs it (npm ci in tests/polyglot)");
        var environment = new Dictionary<string, string> { ["HOP_PROPAGATORS"] = propagators, ["HOP_DOWNSTREAM"] = downstream.ToString() };
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        var process = SampleProcess.StartNode(script, environment);
        var match = await process.WaitForOutputAsync(@"^listening (\d+)$");
        return new NodeHop(process, new Uri($"http://127.0.0.1:{match.Groups[1].Value}/"));
    }

    private sealed record LaneSeen(string? Lane, string Source);

    private sealed record NodeHop(SampleProcess Process, Uri Address) : IDisposable
    {
        public void Dispose() => Process.Dispose();
    }
}
