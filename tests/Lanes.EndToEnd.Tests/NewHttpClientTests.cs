using Lanes.Testing;

namespace Lanes.EndToEnd.Tests;

/// <summary><c>new HttpClient()</c> inside a request, through <c>AddDiagnosticsPropagation()</c>.</summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class NewHttpClientTests
{
    [Theory]
    [InlineData("x-mspider-laneid", "yellow", "yellow")]
    [InlineData(null, null, "green")]
    public async Task NewHttpClientInRequest_CarriesRequestLane(string? header, string? value, string expected)
    {
        using var upstream = Upstreams.Start();
        await using var service = await LaneService.StartAsync(new Uri(upstream.Url!), new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" }, diagnosticsHook: true);
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/new");
        if (header is not null)
        {
            request.Headers.Add(header, value);
        }

        using var response = await client.SendAsync(request);

        response.EnsureSuccessStatusCode();
        Assert.Equal(expected, Assert.Single(upstream.ReceivedHeader("/new", "x-mspider-lane")));
        Assert.NotNull(Assert.Single(upstream.ReceivedHeader("/new", "traceparent")));
    }
}
