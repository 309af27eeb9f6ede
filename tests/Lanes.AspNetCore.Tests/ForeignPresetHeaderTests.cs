using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore.Tests;

/// <summary>
/// A gateway and a service configured with different headers lose the lane without a word unless the service says so:
/// a lane under a known preset's header this service does not read is logged once per header, as a warning naming the
/// preset to configure.
/// </summary>
public sealed class ForeignPresetHeaderTests
{
    private static async Task<(RunningServer Server, InMemoryLoggerProvider Logs)> StartAsync(Dictionary<string, string?> configuration)
    {
        var logs = new InMemoryLoggerProvider();
        var server = await TestServers.StartAsync(
            b =>
            {
                b.Logging.AddProvider(logs);
                b.Services.AddLanes();
            },
            static app =>
            {
                app.UseLanes();
                app.MapGet("/lane", static () => LaneContext.Current ?? "-");
            },
            configuration);
        return (server, logs);
    }

    private static async Task<string> GetAsync(RunningServer server, string header, string value)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/lane");
        request.Headers.Add(header, value);
        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task ServiceOnTheDefaults_ReceivingMspiderAndNsfHeaders_WarnsOncePerHeader_AndIgnoresTheLane()
    {
        var (server, logs) = await StartAsync([]);
        await using var _ = server;
        using var __ = logs;

        var lanes = new[]
        {
            await GetAsync(server, "x-mspider-lane", "yellow"),
            await GetAsync(server, "x-mspider-lane", "blue"),
            await GetAsync(server, "x-nsf-mark", "dev1"),
            await GetAsync(server, "x-lane", "green"),
        };

        Assert.Equal(["-", "-", "-", "green"], lanes);
        var warnings = logs.Records.Where(static r => r.EventId.Name == "ForeignPresetHeader").ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, static w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Contains(warnings, static w => w.Message.Contains("'x-mspider-lane'", StringComparison.Ordinal) && w.Message.Contains("Lanes:Preset 'mspider'", StringComparison.Ordinal) && w.Message.Contains("'x-lane'", StringComparison.Ordinal));
        Assert.Contains(warnings, static w => w.Message.Contains("'x-nsf-mark'", StringComparison.Ordinal) && w.Message.Contains("'nsf'", StringComparison.Ordinal));
        Assert.DoesNotContain("yellow", string.Join("\n", warnings.Select(static w => w.Message)), StringComparison.Ordinal);

        // And the start-up line said what this service reads.
        var inForce = Assert.Single(logs.Records, static r => r.EventId.Name == "LaneSettingsInForce");
        Assert.Equal(LogLevel.Information, inForce.Level);
        Assert.StartsWith("Lanes: this service reads the lane from 'x-lane' (aliases: none; baggage key: x-lane), default lane none.", inForce.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceOnMspider_ReceivingItsAlias_DoesNotWarn()
    {
        var (server, logs) = await StartAsync(new() { ["Lanes:Preset"] = "mspider" });
        await using var _ = server;
        using var __ = logs;

        Assert.Equal("yellow", await GetAsync(server, "x-mspider-laneid", "yellow"));
        Assert.Equal("green", await GetAsync(server, "x-other", "yellow"));

        Assert.DoesNotContain(logs.Records, static r => r.EventId.Name == "ForeignPresetHeader");
    }
}
