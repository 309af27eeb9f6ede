using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Lanes.ReverseProxy.Tests.Reliability;

/// <summary>
/// Routing under churn: while 32 workers send random lanes to a Permissive, a Strict and a Declared cluster, a churn
/// loop flips instances' active health and reloads the gateway configuration (a destination removed and added back, an
/// invalid edit refused). Every response must be the request's lane, a fallback its policy documents (with the
/// <c>x-lane-fallback</c> reason), or the 503 problem; the upstream must always receive the request's own lane.
/// </summary>
public sealed class RoutingUnderChurnTests(ITestOutputHelper output)
{
    private const int ChurnSteps = 30;
    private static readonly TimeSpan s_churnStep = TimeSpan.FromMilliseconds(150);

    // Lanes sent: served lanes, a lane with no instance that Declared declares (red), an undeclared one (purple), none.
    private static readonly string?[] s_lanes = ["green", "yellow", "blue", "red", "purple", null];
    private static readonly (string Cluster, string Policy)[] s_clusters = [("perm", "Permissive"), ("strict", "Strict"), ("decl", "Declared")];

    [Fact]
    public async Task HealthFlipsAndReloadsUnderLoad_EveryResponseIsTheLaneADocumentedFallbackOrA503()
    {
        // Arrange: g1 (green) stays healthy, so the baseline is never empty; the others flip.
        var upstreams = new Dictionary<string, (Upstream Server, string Lane)>();
        foreach (var (id, lane) in new[] { ("g1", "green"), ("g2", "green"), ("y1", "yellow"), ("y2", "yellow"), ("b1", "blue") })
        {
            upstreams[id] = (await Upstream.StartAsync(id), lane);
        }

        try
        {
            var source = new SwappableConfiguration();
            source.Replace(Document(upstreams, withBlue: true, invalid: false));
            await using var gateway = await Gateway.StartAsync(null, builder => ((IConfigurationBuilder)builder.Configuration).Add(source));
            using var client = gateway.CreateClient();

            var violations = new ConcurrentQueue<string>();
            var outcomes = new ConcurrentDictionary<string, int>();
            using var churnDone = new CancellationTokenSource();

            // Act: load until the churn loop ends.
            var load = Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
            {
                var random = new Random(worker);
                while (!churnDone.IsCancellationRequested)
                {
                    var (cluster, policy) = s_clusters[random.Next(s_clusters.Length)];
                    var lane = s_lanes[random.Next(s_lanes.Length)];
                    var outcome = await SendAndCheckAsync(client, cluster, policy, lane, upstreams, violations);
                    outcomes.AddOrUpdate($"{policy} {lane ?? "(none)"} -> {outcome}", 1, static (_, n) => n + 1);
                }
            })).ToArray();

            var churnRandom = new Random(42);
            var flippable = new[] { "g2", "y1", "y2", "b1" };
            for (var step = 0; step < ChurnSteps; step++)
            {
                var flip = upstreams[flippable[churnRandom.Next(flippable.Length)]].Server;
                flip.Healthy = !flip.Healthy;
                if (step % 3 == 2)
                {
                    // Rotate: blue removed, an invalid edit (refused: the last good configuration stays), blue back.
                    var reload = step / 3 % 3;
                    source.Replace(Document(upstreams, withBlue: reload == 2, invalid: reload == 1));
                }

                await Task.Delay(s_churnStep);
            }

            await churnDone.CancelAsync();
            await Task.WhenAll(load);

            // Assert
            foreach (var (key, count) in outcomes.OrderBy(static o => o.Key, StringComparer.Ordinal))
            {
                output.WriteLine($"{key}: {count}");
            }

            Assert.True(violations.IsEmpty, $"{violations.Count} violations, first: {string.Join(" | ", violations.Take(5))}");
            Assert.True(outcomes.Values.Sum() >= 300, $"only {outcomes.Values.Sum()} requests");

            // The churn did happen: fallbacks and 503s for the same lane, and YARP refused the invalid edit.
            Assert.Contains(outcomes.Keys, static k => k.StartsWith("Permissive yellow -> fallback", StringComparison.Ordinal));
            Assert.Contains(outcomes.Keys, static k => k.StartsWith("Permissive yellow -> matched", StringComparison.Ordinal));
            Assert.Contains(outcomes.Keys, static k => k.StartsWith("Strict yellow -> 503", StringComparison.Ordinal));
            Assert.Contains(outcomes.Keys, static k => k.StartsWith("Strict blue -> 503", StringComparison.Ordinal));
            Assert.Contains(gateway.Logs.Records, static r => r.Exception is not null && Gateway.Flatten(r.Exception).Contains("invalid lane metadata", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var (server, _) in upstreams.Values)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Sends one request and checks it; returns <c>matched</c>, <c>fallback (reason)</c> or <c>503</c> for the tally.</summary>
    private static async Task<string> SendAndCheckAsync(
        HttpClient client, string cluster, string policy, string? lane, Dictionary<string, (Upstream Server, string Lane)> upstreams, ConcurrentQueue<string> violations)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/{cluster}/x");
        if (lane is not null)
        {
            request.Headers.Add("x-mspider-lane", lane);
        }

        using var response = await client.SendAsync(request);
        var effective = lane ?? "green";
        var what = $"{policy} {lane ?? "(none)"}";
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (problem.GetProperty("title").GetString() != "no healthy upstream" || problem.GetProperty("lane").GetString() != effective)
            {
                violations.Enqueue($"{what}: 503 that is not the lane problem: {problem}");
            }

            // Permissive may answer 503 only if its baseline is empty, which g1 never is.
            if (policy == "Permissive" || effective == "green" || (policy == "Declared" && lane == "purple"))
            {
                violations.Enqueue($"{what}: 503, but the baseline (g1) is always healthy");
            }

            return "503";
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            violations.Enqueue($"{what}: status {(int)response.StatusCode}");
            return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var echo = (await response.Content.ReadFromJsonAsync<Echo>(Gateway.JsonOptions))!;
        var served = upstreams[echo.Instance].Lane;
        if (echo.Header("x-mspider-lane") != effective)
        {
            violations.Enqueue($"{what}: upstream {echo.Instance} received lane {echo.Header("x-mspider-lane")}");
        }

        // No lane: the gateway applies the default lane (green) at the entry, so green is the request's own lane.
        if (served == effective)
        {
            return "matched";
        }

        // Anything else must be a fallback to the baseline the policy documents, and say so.
        var reason = response.Headers.TryGetValues("x-lane-fallback", out var values) ? values.Single() : null;
        var allowed = served == "green" && (policy == "Permissive" || (policy == "Declared" && lane == "purple"));
        if (!allowed || reason is null)
        {
            violations.Enqueue($"{what}: served by {echo.Instance} ({served}), fallback header {reason ?? "(none)"}");
        }

        return $"fallback ({reason})";
    }

    private static Dictionary<string, string?> Document(Dictionary<string, (Upstream Server, string Lane)> upstreams, bool withBlue, bool invalid)
    {
        var config = new GatewayConfig().Lanes("Preset", "mspider").Lanes("DebugHeaders", "true");
        foreach (var (cluster, policy) in s_clusters)
        {
            config.Route(cluster, cluster, $"/{cluster}/{{**rest}}")
                .Cluster(cluster, ("lanePolicy", policy))
                .ActiveHealthChecks(cluster, "00:00:00.100", timeout: "00:00:05");
            if (policy == "Declared")
            {
                config.Cluster(cluster, ("lanes", "green,yellow,blue,red"));
            }

            foreach (var (id, (server, lane)) in upstreams)
            {
                if (id == "b1" && !withBlue)
                {
                    continue;
                }

                config.Destination(cluster, id, server, invalid && id == "y1" ? "not a lane!" : lane);
            }
        }

        return config.Values;
    }
}
