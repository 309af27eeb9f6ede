using System.Net;
using System.Net.Http.Json;
using Bookinfo;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// The demo's scenarios in-process with the real gateway and real services (HTTP and gRPC hops, client-side lane
/// routing): each row of the demo table asserted from the JSON tree, plus baggage-only, invalid values and a
/// ratings instance stopped mid-test. Expectations are written out here, independently of the demo's own.
/// </summary>
public sealed class BookinfoDemoTests
{
    private static async Task<(HttpStatusCode Status, HopResult? Tree)> GetAsync(BookinfoCluster cluster, params (string Name, string Value)[] headers)
    {
        using var client = new HttpClient { BaseAddress = cluster.GatewayAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, cluster.Scenario.EntryPath);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        var tree = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<HopResult>(HopResult.Json) : null;
        return (response.StatusCode, tree);
    }

    /// <summary>Asserts productpage → [details, reviews → [ratings]] with each hop's (instance lane, request lane).</summary>
    private static void AssertChain(HopResult? tree, (string, string) productpage, (string, string) details, (string, string) reviews, (string, string) ratings)
    {
        Assert.NotNull(tree);
        Assert.Equal("productpage", tree.Service);
        Assert.Equal(productpage, (tree.Lane, tree.RequestLane));
        Assert.Equal(2, tree.Calls.Count);
        var detailsHop = tree.Calls[0];
        var reviewsHop = tree.Calls[1];
        Assert.Equal("details", detailsHop.Service);
        Assert.Equal(details, (detailsHop.Lane, detailsHop.RequestLane));
        Assert.Empty(detailsHop.Calls);
        Assert.Equal("reviews", reviewsHop.Service);
        Assert.Equal(reviews, (reviewsHop.Lane, reviewsHop.RequestLane));
        var ratingsHop = Assert.Single(reviewsHop.Calls);
        Assert.Equal("ratings", ratingsHop.Service);
        Assert.Null(ratingsHop.Error);
        Assert.Equal(ratings, (ratingsHop.Lane, ratingsHop.RequestLane));
    }

    [Fact]
    public async Task MSpider_DemoRows_AndBaggageOnly_AndInvalidValue()
    {
        await using var cluster = await BookinfoCluster.StartAsync(Scenario.MSpider);

        // Yellow: yellow productpage and details, the green reviews (no yellow reviews: Permissive fallback), and
        // yellow ratings again: the lane survives a baseline hop, over gRPC.
        var (status, yellow) = await GetAsync(cluster, ("x-mspider-laneid", "yellow"));
        Assert.Equal(HttpStatusCode.OK, status);
        AssertChain(yellow, ("yellow", "yellow"), ("yellow", "yellow"), ("green", "yellow"), ("yellow", "yellow"));

        var (_, green) = await GetAsync(cluster, ("x-mspider-laneid", "green"));
        AssertChain(green, ("green", "green"), ("green", "green"), ("green", "green"), ("green", "green"));

        var (_, canonical) = await GetAsync(cluster, ("x-mspider-lane", "yellow"));
        AssertChain(canonical, ("yellow", "yellow"), ("yellow", "yellow"), ("green", "yellow"), ("yellow", "yellow"));

        var (_, none) = await GetAsync(cluster);
        AssertChain(none, ("green", "green"), ("green", "green"), ("green", "green"), ("green", "green"));

        var (_, baggage) = await GetAsync(cluster, ("baggage", "x-mspider-lane=yellow,userId=alice"));
        AssertChain(baggage, ("yellow", "yellow"), ("yellow", "yellow"), ("green", "yellow"), ("yellow", "yellow"));

        var (invalidStatus, invalid) = await GetAsync(cluster, ("x-mspider-laneid", "yellow;rm -rf"), ("baggage", "x-mspider-lane=a%0Ab"));
        Assert.Equal(HttpStatusCode.OK, invalidStatus);
        AssertChain(invalid, ("green", "green"), ("green", "green"), ("green", "green"), ("green", "green"));
    }

    [Fact]
    public async Task MSpider_YellowRatingsStoppedMidTest_PassiveHealthFallsBackToGreenRatings()
    {
        await using var cluster = await BookinfoCluster.StartAsync(Scenario.MSpider);
        var (_, before) = await GetAsync(cluster, ("x-mspider-laneid", "yellow"));
        AssertChain(before, ("yellow", "yellow"), ("yellow", "yellow"), ("green", "yellow"), ("yellow", "yellow"));

        await cluster.StopAsync("ratings-yellow");

        // reviews' call to the stopped instance fails to connect: the instance is ejected and the call re-picked;
        // Permissive sends the yellow request to the green ratings, which still sees lane yellow.
        for (var i = 0; i < 3; i++)
        {
            var (status, after) = await GetAsync(cluster, ("x-mspider-laneid", "yellow"));
            Assert.Equal(HttpStatusCode.OK, status);
            AssertChain(after, ("yellow", "yellow"), ("yellow", "yellow"), ("green", "yellow"), ("green", "yellow"));
        }

        var (_, green) = await GetAsync(cluster, ("x-mspider-laneid", "green"));
        AssertChain(green, ("green", "green"), ("green", "green"), ("green", "green"), ("green", "green"));
    }

    [Fact]
    public async Task Hango_DemoRows_AndBaggageOnly_AndInvalidValue()
    {
        await using var cluster = await BookinfoCluster.StartAsync(Scenario.Hango);

        var (noneStatus, none) = await GetAsync(cluster);
        var (_, dev1) = await GetAsync(cluster, ("x-nsf-mark", "dev1"));
        var (dev2Status, _) = await GetAsync(cluster, ("x-nsf-mark", "dev2"));
        var (_, dev3) = await GetAsync(cluster, ("x-nsf-mark", "dev3"));
        var (_, baggage) = await GetAsync(cluster, ("baggage", "x-nsf-mark=dev1"));
        var (_, invalid) = await GetAsync(cluster, ("x-nsf-mark", "dev1, dev2"));

        Assert.Equal(HttpStatusCode.OK, noneStatus);
        Assert.Equal(("svc1", string.Empty, string.Empty), (none!.Service, none.Lane, none.RequestLane)); // pod2
        Assert.Equal(("dev1", "dev1"), (dev1!.Lane, dev1.RequestLane));                                     // pod1
        Assert.Equal(HttpStatusCode.ServiceUnavailable, dev2Status);
        Assert.Equal((string.Empty, "dev3"), (dev3!.Lane, dev3.RequestLane));                                // pod2, lane kept
        Assert.Equal(("dev1", "dev1"), (baggage!.Lane, baggage.RequestLane));
        Assert.Equal((string.Empty, string.Empty), (invalid!.Lane, invalid.RequestLane));                    // ambiguous: no lane
    }

    [Theory]
    [InlineData("mspider")]
    [InlineData("hango")]
    public async Task DemoRunner_EveryRowOfTheDemoTableMatches(string name)
    {
        Assert.True(Scenario.TryGet(name, out var scenario));
        await using var cluster = await BookinfoCluster.StartAsync(scenario);

        var results = await DemoRunner.RunAsync(cluster);

        Assert.All(results, static r => Assert.True(r.Matches, $"row '{r.Row.Name}' answered {r.Status}"));
        Assert.Equal(scenario.Rows.Count, results.Count);
        var table = DemoRunner.Format(scenario, results);
        Assert.DoesNotContain("expected:", table, StringComparison.Ordinal);
        Assert.EndsWith(DemoRunner.Legend + "\n", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Scenario_TryGet_IgnoresCaseAndRefusesUnknownNames()
    {
        Assert.True(Scenario.TryGet("HANGO", out var hango));
        Assert.Same(Scenario.Hango, hango);
        Assert.False(Scenario.TryGet("istio", out var none));
        Assert.Null(none);
    }

    [Fact]
    public void DemoRunner_Format_ShowsWhatWasExpectedUnderARowThatDiffers()
    {
        var scenario = Scenario.Hango;
        var dev3 = scenario.Rows[3];                                                    // expected: 200, unlabelled <- dev3
        var wrong = new HopResult("svc1", "dev1", "dev3", []);
        var results = new[] { new DemoRunner.RowResult(scenario.Rows[1], 200, new HopResult("svc1", "dev1", "dev1", []), true), new DemoRunner.RowResult(dev3, 200, wrong, false) };

        var lines = DemoRunner.Format(scenario, results).Split('\n');

        var row = Assert.Single(lines, static l => l.StartsWith("dev3", StringComparison.Ordinal));
        Assert.Contains("dev1 <- dev3", row, StringComparison.Ordinal);
        Assert.EndsWith("NO", row, StringComparison.Ordinal);
        var expected = lines[Array.IndexOf(lines, row) + 1];
        Assert.Matches(@"^\s+expected:\s+200\s+unlabelled <- dev3$", expected);
        Assert.Single(lines, static l => l.Contains("expected:", StringComparison.Ordinal));  // the matching row has none
        Assert.Equal(DemoRunner.Legend, lines[^2]);
    }

    [Fact]
    public void DemoRunner_Matches_RejectsAWrongHop()
    {
        var row = Scenario.MSpider.Rows[0];
        var wrong = new HopResult("productpage", "yellow", "yellow",
        [
            new HopResult("details", "yellow", "yellow", []),
            new HopResult("reviews", "green", "yellow", [new HopResult("ratings", "green", "yellow", [])]),
        ]);

        Assert.False(DemoRunner.Matches(row, 200, wrong));
        Assert.False(DemoRunner.Matches(row, 503, null));
    }
}
