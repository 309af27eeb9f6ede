using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using Bookinfo;
using Xunit.Abstractions;

namespace Lanes.EndToEnd.Tests.Reliability;

/// <summary>
/// Isolation under load: random lanes out of 8, 64 requests in flight, through the real YARP gateway and the bookinfo
/// chain (productpage → details over HTTP, productpage → reviews over gRPC → ratings over HTTP), every hop routed by
/// lane on the client and reporting the lane it received. No hop may see another lane, and every hop must be served
/// by its lane's instance or, where the service has none, by the baseline (green), as Permissive documents.
/// </summary>
/// <remarks>
/// CI sends <see cref="CiRequests"/>; <c>LANES_SOAK=1 dotnet test Lanes.Sdk.sln --filter "FullyQualifiedName~IsolationUnderLoad"</c>
/// sends <see cref="SoakRequests"/> (or <c>LANES_SOAK_REQUESTS</c> when set).
/// </remarks>
public sealed class IsolationUnderLoadTests(ITestOutputHelper output)
{
    public const int CiRequests = 2_000;
    public const int SoakRequests = 20_000;
    public const int Concurrency = 64;

    private static readonly string[] s_lanes = ["green", "yellow", "blue", "red", "dev1", "dev2", "f-123", "v2"];

    /// <summary>Which lanes each service runs; green (the default lane) runs everywhere and is the baseline.</summary>
    private static readonly Dictionary<string, string[]> s_lanesOf = new()
    {
        ["productpage"] = s_lanes,
        ["details"] = ["green", "yellow", "blue", "red", "dev1"],
        ["reviews"] = ["green", "yellow", "dev2", "v2"],
        ["ratings"] = ["green", "blue", "red", "dev2", "f-123"],
    };

    internal static Scenario EightLanes { get; } = new()
    {
        Name = "eight-lanes",
        Header = "x-mspider-lane",
        Lanes = new Dictionary<string, string?> { ["Preset"] = "mspider" },
        Instances = [.. s_lanesOf.SelectMany(static s => s.Value.Select(lane => new InstanceSpec(s.Key, lane, $"{s.Key}-{lane}")))],
        ServiceMetadata = s_lanesOf.Keys.ToDictionary(
            static s => s,
            static IReadOnlyDictionary<string, string> (_) => new Dictionary<string, string> { ["lanePolicy"] = "Permissive" }),
        EntryService = "productpage",
        EntryPath = "/productpage",
        Rows = [],
    };

    internal static int RequestCount()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("LANES_SOAK_REQUESTS"), NumberStyles.None, CultureInfo.InvariantCulture, out var requests) && requests > 0)
        {
            return requests;
        }

        return Environment.GetEnvironmentVariable("LANES_SOAK") == "1" ? SoakRequests : CiRequests;
    }

    /// <summary>The instance lane that should serve <paramref name="service"/> for <paramref name="lane"/>: its own, else the baseline.</summary>
    internal static string Expected(string service, string lane) => s_lanesOf[service].Contains(lane) ? lane : "green";

    [Fact]
    public async Task RandomLanes_64Concurrent_ThroughGatewayAndHttpGrpcChain_NoHopSeesAnotherLane()
    {
        // Arrange
        await using var cluster = await BookinfoCluster.StartAsync(EightLanes);
        using var client = new HttpClient { BaseAddress = cluster.GatewayAddress, Timeout = TimeSpan.FromSeconds(60) };
        var total = RequestCount();
        var seed = Environment.TickCount;
        var next = -1;
        var mismatches = new ConcurrentQueue<string>();
        var perLane = new ConcurrentDictionary<string, int>();
        var hops = 0;

        // Act: 64 workers take request numbers until the total is sent; each picks a lane and an entry form.
        var workers = Enumerable.Range(0, Concurrency).Select(async worker =>
        {
            var random = new Random(seed + worker);
            while (Interlocked.Increment(ref next) < total)
            {
                var lane = s_lanes[random.Next(s_lanes.Length)];
                using var request = new HttpRequestMessage(HttpMethod.Get, "/productpage");
                switch (random.Next(3))
                {
                    case 0: request.Headers.Add("x-mspider-lane", lane); break;
                    case 1: request.Headers.Add("x-mspider-laneid", lane); break;
                    default: request.Headers.Add("baggage", $"userId=u{worker},x-mspider-lane={lane}"); break;
                }

                using var response = await client.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    mismatches.Enqueue($"{lane}: status {(int)response.StatusCode}");
                    continue;
                }

                var tree = await response.Content.ReadFromJsonAsync<HopResult>(HopResult.Json);
                Interlocked.Add(ref hops, Check(tree!, lane, mismatches));
                perLane.AddOrUpdate(lane, 1, static (_, n) => n + 1);
            }
        });
        await Task.WhenAll(workers);

        // Assert
        output.WriteLine($"{total} requests, {hops} hops checked, seed {seed}; per lane: {string.Join(", ", perLane.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => $"{p.Key} {p.Value}"))}");
        Assert.True(mismatches.IsEmpty, $"{mismatches.Count} mismatches (seed {seed}), first: {string.Join(" | ", mismatches.Take(5))}");
        Assert.Equal(total * 4, hops);
        Assert.Equal(s_lanes.Length, perLane.Count);
    }

    /// <summary>Checks every hop of the tree against the lane sent; returns the number of hops checked.</summary>
    internal static int Check(HopResult hop, string lane, ConcurrentQueue<string> mismatches)
    {
        var count = 1;
        if (hop.Error is not null)
        {
            mismatches.Enqueue($"{lane}: {hop.Service} failed: {hop.Error}");
        }
        else if (hop.RequestLane != lane || hop.Lane != Expected(hop.Service, lane))
        {
            mismatches.Enqueue($"{lane}: {hop.Service} instance {hop.Lane} saw {hop.RequestLane}, expected instance {Expected(hop.Service, lane)}");
        }

        foreach (var call in hop.Calls)
        {
            count += Check(call, lane, mismatches);
        }

        return count;
    }
}
