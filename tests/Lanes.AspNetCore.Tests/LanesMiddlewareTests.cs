using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore.Tests;

public sealed record LaneSeen(string? Lane, string Source, string? ActivityLane, string? ActivitySource);

public class LanesMiddlewareTests
{
    private static Task<RunningServer> StartAsync(IDictionary<string, string?> configuration)
        => TestServers.StartAsync(
            b => b.Services.AddLanes(),
            app =>
            {
                app.UseLanes();
                app.MapGet("/lane", (ILogger<LanesMiddlewareTests> logger) =>
                {
                    logger.LogInformation("handling");
                    var activity = Activity.Current;
                    return new LaneSeen(
                        LaneContext.Current,
                        LaneContext.CurrentSource.ToString(),
                        activity?.GetTagItem("lane") as string,
                        activity?.GetTagItem("lane.source") as string);
                });
            },
            configuration);

    private static Dictionary<string, string?> MSpider(params (string Key, string Value)[] extra)
    {
        var config = new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" };
        foreach (var (key, value) in extra)
        {
            config[key] = value;
        }

        return config;
    }

    private static async Task<HttpResponseMessage> GetAsync(RunningServer server, params (string Name, string Value)[] headers)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/lane");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request);
    }

    [Theory]
    [InlineData("x-mspider-lane", "yellow", "yellow", "Header", "header")]
    [InlineData("x-mspider-laneid", "yellow", "yellow", "Alias", "alias")]
    [InlineData("x-other", "yellow", "green", "Default", "default")]
    [InlineData("x-mspider-lane", "not a lane!", "green", "Default", "default")]
    [InlineData("x-mspider-lane", "yellow,green", "green", "Default", "default")]
    [InlineData("baggage", "userId=alice, x-mspider-lane=yellow", "yellow", "Baggage", "baggage")]
    [InlineData("baggage", "x-mspider-lane=yellow,x-mspider-lane=red", "green", "Default", "default")]
    public async Task Invoke_ResolvesLane_IntoContextAndActivityTags(string header, string value, string lane, string source, string tagSource)
    {
        await using var server = await StartAsync(MSpider());

        using var response = await GetAsync(server, (header, value));
        var seen = await response.Content.ReadFromJsonAsync<LaneSeen>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new LaneSeen(lane, source, lane, tagSource), seen);
    }

    [Fact]
    public async Task Invoke_CountsRequestsOnTheLanesMeterOfTheHost()
    {
        await using var server = await StartAsync(MSpider());
        using var recorder = new MeasurementRecorder(server.App.Services.GetRequiredService<Lanes.Diagnostics.LanesMetrics>().Meter);

        using (await GetAsync(server, ("x-mspider-lane", "yellow")))
        using (await GetAsync(server, ("baggage", "x-mspider-lane=blue")))
        using (await GetAsync(server, ("x-mspider-lane", "bad lane!")))
        {
        }

        var inbound = recorder.Of(LanesDiagnostics.InboundInstrument).Select(static m => $"{m.Tag("lane.name")}/{m.Tag("lane.source")}").ToArray();
        Assert.Equal(["yellow/header", "blue/baggage", "green/default"], inbound);
        Assert.Equal("invalid-character", Assert.Single(recorder.Of(LanesDiagnostics.InvalidInstrument)).Tag("lane.invalid.reason"));
    }

    [Fact]
    public async Task Invoke_NoLaneAndNoDefault_LeavesContextEmptyAndNoTags()
    {
        await using var server = await StartAsync(new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" });

        using var response = await GetAsync(server);
        var seen = await response.Content.ReadFromJsonAsync<LaneSeen>();

        Assert.Equal(new LaneSeen(null, "None", null, null), seen);
    }

    [Fact]
    public async Task Invoke_LogLinesInRequest_CarryLaneInScope()
    {
        await using var server = await StartAsync(MSpider());

        using var response = await GetAsync(server, ("x-mspider-laneid", "yellow"));

        var record = Assert.Single(server.Logs.Records, r => r.Message == "handling");
        Assert.Contains(new KeyValuePair<string, object?>("Lane", "yellow"), record.Scope);
        Assert.Contains(new KeyValuePair<string, object?>("LaneSource", "alias"), record.Scope);
    }

    [Fact]
    public async Task Invoke_SequentialRequestsOnOneConnection_LaneDoesNotLeak()
    {
        await using var server = await StartAsync(new Dictionary<string, string?> { ["Lanes:Preset"] = "nsf" });
        using var client = server.CreateClient();

        var seen = new List<string?>();
        foreach (var lane in new[] { "dev1", null, "dev2", null })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/lane");
            if (lane is not null)
            {
                request.Headers.Add("x-nsf-mark", lane);
            }

            using var response = await client.SendAsync(request);
            seen.Add((await response.Content.ReadFromJsonAsync<LaneSeen>())!.Lane);
        }

        Assert.Equal(["dev1", null, "dev2", null], seen);
    }

    public static TheoryData<string, string, string, string> Rejections => new()
    {
        { "Lanes:InvalidLanePolicy", "Reject", "<script>alert(1)</script>", "Invalid lane" },
        { "Lanes:UnknownLanePolicy", "Reject", "purple-secret-lane", "Unknown lane" },
        { "Lanes:RequireLane", "true", "", "Lane required" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task Invoke_PolicyRejects_Answers400ProblemJsonWithoutEchoingValue(string key, string value, string sent, string title)
    {
        var config = new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "nsf",
            ["Lanes:KnownLanes:0"] = "dev1",
            [key] = value,
        };
        await using var server = await StartAsync(config);

        using var response = sent.Length == 0 ? await GetAsync(server) : await GetAsync(server, ("x-nsf-mark", sent));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"title\":\"{title}\"", body, StringComparison.Ordinal);
        Assert.Contains("x-nsf-mark", body, StringComparison.Ordinal);
        if (sent.Length > 0)
        {
            Assert.DoesNotContain(sent, body, StringComparison.Ordinal);
            Assert.DoesNotContain("script", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Invoke_KnownLaneWithRejectPolicies_IsServed()
    {
        await using var server = await StartAsync(new Dictionary<string, string?>
        {
            ["Lanes:Preset"] = "nsf",
            ["Lanes:KnownLanes:0"] = "dev1",
            ["Lanes:UnknownLanePolicy"] = "Reject",
            ["Lanes:RequireLane"] = "true",
        });

        using var response = await GetAsync(server, ("x-nsf-mark", "dev1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task StartAsync_InvalidConfiguration_FailsStartupWithActionableMessage()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(new Dictionary<string, string?> { ["Lanes:DefaultLane"] = "not valid" }));

        Assert.Contains("Lanes:DefaultLane 'not valid' is not a valid lane: use 1 to 63 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseLanes_WithoutAddLanes_ThrowsActionableMessage()
    {
        var builder = WebApplication.CreateBuilder();
        using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.UseLanes());

        Assert.Contains("services.AddLanes()", error.Message, StringComparison.Ordinal);
    }
}
