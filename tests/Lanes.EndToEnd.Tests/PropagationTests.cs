using System.Net;
using Lanes.Testing;
using WireMock.Server;

namespace Lanes.EndToEnd.Tests;

/// <summary>Real Kestrel service with Lanes, WireMock.Net upstream: the headers the upstream received.</summary>
public sealed class PropagationTests : IAsyncLifetime
{
    private readonly WireMockServer _upstream = Upstreams.Start();
    private RunningServer _mspider = null!;
    private RunningServer _nsf = null!;

    public async Task InitializeAsync()
    {
        var upstream = new Uri(_upstream.Url!);
        _mspider = await LaneService.StartAsync(upstream, new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });
        _nsf = await LaneService.StartAsync(upstream, new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" });
    }

    public async Task DisposeAsync()
    {
        await _mspider.DisposeAsync();
        await _nsf.DisposeAsync();
        _upstream.Stop();
    }

    private static async Task<HttpStatusCode> CallAsync(RunningServer service, string path, params (string Name, string Value)[] headers)
    {
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(path.StartsWith("/background", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private string? LastReceived(string path, string header) => _upstream.ReceivedHeader(path, header)[^1];

    [Fact]
    public async Task AliasIn_CanonicalOut()
    {
        var status = await CallAsync(_mspider, "/named", ("x-mspider-laneid", "yellow"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("yellow", LastReceived("/named", "x-mspider-lane"));
        Assert.Null(LastReceived("/named", "x-mspider-laneid"));
    }

    [Fact]
    public async Task CanonicalIn_CanonicalOut()
    {
        await CallAsync(_nsf, "/typed", ("x-nsf-mark", "dev1"));

        Assert.Equal("dev1", LastReceived("/typed", "x-nsf-mark"));
    }

    [Fact]
    public async Task NothingIn_DefaultOut()
    {
        await CallAsync(_mspider, "/hop");

        Assert.Equal("green", LastReceived("/hop", "x-mspider-lane"));
    }

    [Theory]
    [InlineData("not valid!")]
    [InlineData("yellow,blue")]
    [InlineData("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy")] // 64 characters
    public async Task InvalidIn_DefaultOutAnd200(string invalid)
    {
        var status = await CallAsync(_mspider, "/typed", ("x-mspider-lane", invalid));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("green", LastReceived("/typed", "x-mspider-lane"));
    }

    [Fact]
    public async Task InvalidInWithoutDefault_NoHeaderOutAnd200()
    {
        var status = await CallAsync(_nsf, "/typed", ("x-nsf-mark", "bad value!"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(LastReceived("/typed", "x-nsf-mark"));
    }

    [Fact]
    public async Task TypedAndNamedClients_BothCarryLane()
    {
        await CallAsync(_nsf, "/named", ("x-nsf-mark", "dev2"));
        var named = LastReceived("/named", "x-nsf-mark");
        await CallAsync(_nsf, "/typed", ("x-nsf-mark", "dev2"));
        var typed = LastReceived("/typed", "x-nsf-mark");

        Assert.Equal(("dev2", "dev2"), (named, typed));
    }

    [Fact]
    public async Task FireAndForgetTaskRun_StartedInRequest_CarriesRequestLane()
    {
        var status = await CallAsync(_nsf, "/taskrun", ("x-nsf-mark", "dev1"));
        await _upstream.WaitForRequestsAsync("/taskrun");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("dev1", Assert.Single(_upstream.ReceivedHeader("/taskrun", "x-nsf-mark")));
    }

    [Fact]
    public async Task BackgroundService_LaneContextBegin_CarriesScopeLane()
    {
        await CallAsync(_nsf, "/background/feature-42");
        await _upstream.WaitForRequestsAsync("/background");

        Assert.Equal("feature-42", Assert.Single(_upstream.ReceivedHeader("/background", "x-nsf-mark")));
    }

    [Fact]
    public async Task NoLane_NoHeader()
    {
        await CallAsync(_nsf, "/hop");

        Assert.Null(LastReceived("/hop", "x-nsf-mark"));
    }

    [Fact]
    public async Task ExplicitlySetHeader_IsKept()
    {
        await CallAsync(_mspider, "/explicit", ("x-mspider-lane", "yellow"));

        Assert.Equal("blue", LastReceived("/explicit", "x-mspider-lane"));
    }
}
