using Lanes.Testing;

namespace Lanes.EndToEnd.Tests;

/// <summary>A -> B -> WireMock C, two real Lanes services on Kestrel (DESIGN 4: every hop).</summary>
public sealed class ChainTests
{
    private static async Task<(string? Canonical, string? Alias)> RunChainAsync(
        IDictionary<string, string?> configuration, string canonical, string? alias, params (string Name, string Value)[] sent)
    {
        using var c = Upstreams.Start();
        await using var b = await LaneService.StartAsync(new Uri(c.Url!), configuration);
        await using var a = await LaneService.StartAsync(b.Address, configuration);

        using var client = a.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hop");
        foreach (var (name, value) in sent)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (
            Assert.Single(c.ReceivedHeader("/hop", canonical)),
            alias is null ? null : Assert.Single(c.ReceivedHeader("/hop", alias)));
    }

    private static Dictionary<string, string?> Preset(string preset) => new() { ["Lanes:Preset"] = preset };

    [Fact]
    public async Task MSpider_AliasYellowAtA_ReachesCAsCanonicalYellow()
    {
        var seen = await RunChainAsync(Preset("mspider"), "x-mspider-lane", "x-mspider-laneid", ("x-mspider-laneid", "yellow"));

        Assert.Equal(("yellow", (string?)null), seen);
    }

    [Fact]
    public async Task MSpider_NoHeaderAtA_ReachesCAsGreen()
    {
        var seen = await RunChainAsync(Preset("mspider"), "x-mspider-lane", null);

        Assert.Equal("green", seen.Canonical);
    }

    [Fact]
    public async Task Nsf_NoHeaderAtA_NoMarkAtC()
    {
        var seen = await RunChainAsync(Preset("nsf"), "x-nsf-mark", null);

        Assert.Null(seen.Canonical);
    }

    [Fact]
    public async Task Nsf_UndeclaredDev3AtA_Dev3AtC()
    {
        var config = Preset("nsf");
        config["Lanes:KnownLanes:0"] = "dev1";
        config["Lanes:KnownLanes:1"] = "dev2";

        var seen = await RunChainAsync(config, "x-nsf-mark", null, ("x-nsf-mark", "dev3"));

        Assert.Equal("dev3", seen.Canonical);
    }

    [Theory]
    [InlineData("buid", "wicph", "wicph")]
    [InlineData("bu", "wtchk", "wtchk")]
    [InlineData(null, null, "wtchk")]
    public async Task BuByHand_AliasBuid_ReachesCAsBu(string? header, string? value, string expected)
    {
        var config = new Dictionary<string, string?>
        {
            ["Lanes:Header"] = "bu",
            ["Lanes:Aliases:0"] = "buid",
            ["Lanes:DefaultLane"] = "wtchk",
        };

        var seen = header is null
            ? await RunChainAsync(config, "bu", "buid")
            : await RunChainAsync(config, "bu", "buid", (header, value!));

        Assert.Equal((expected, (string?)null), seen);
    }
}
