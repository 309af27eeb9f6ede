using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// DESIGN 7, core settings reload without a restart: the default lane, an alias and the known lanes are edited in a
/// watched JSON file while 8 workers keep sending; every request succeeds and answers as the old or the new settings
/// say (never a mix), requests after the change follow it, and an invalid edit is refused with a log naming the key
/// and changes nothing.
/// </summary>
public sealed class SettingsReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lanes-settings-").FullName;

    private string ConfigPath => Path.Combine(_directory, "lanes.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // What each probe should answer under the first and under the edited settings.
    private static readonly (string Name, string? Header, string? Value, string Before, string After)[] Probes =
    [
        ("nothing: the default lane", null, null, "green", "blue"),
        ("old alias", "x-lane-id", "yellow", "yellow", "blue"),
        ("new alias", "x-lane-alt", "yellow", "green", "yellow"),
        ("a lane known only after", "x-lane", "blue", "green", "blue"),
        ("a lane known before and after", "x-lane", "yellow", "yellow", "yellow"),
    ];

    [Fact]
    public async Task EditingDefaultAliasAndKnownLanes_UnderLoad_AppliesWithoutFailures_AndAnInvalidEditChangesNothing()
    {
        await WriteAsync(Settings("green", "x-lane-id", ["green", "yellow"]));
        await using var service = await TestServers.StartAsync(
            b =>
            {
                b.Configuration.AddJsonFile(ConfigPath, optional: false, reloadOnChange: true);
                b.Services.AddLanes();
            },
            static app =>
            {
                app.UseLanes();
                app.MapGet("/", static () => LaneContext.Current ?? "(none)");
            });
        using var client = service.CreateClient();
        foreach (var probe in Probes)
        {
            Assert.Equal(probe.Before, await SendAsync(client, probe));
        }

        // Load: 8 workers, every probe in turn, until stopped. Every answer must be the old or the new one.
        using var stop = new CancellationTokenSource();
        var violations = new ConcurrentQueue<string>();
        var sent = 0;
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = w; !stop.IsCancellationRequested; i++)
            {
                var probe = Probes[i % Probes.Length];
                try
                {
                    var answer = await SendAsync(client, probe);
                    if (answer != probe.Before && answer != probe.After)
                    {
                        violations.Enqueue($"{probe.Name}: {answer}");
                    }
                }
                catch (HttpRequestException e)
                {
                    violations.Enqueue($"{probe.Name}: {e.Message}");
                }

                Interlocked.Increment(ref sent);
            }
        })).ToArray();

        // Lets the load run on across each step: 40 more answers, however long they take on a busy machine.
        async Task UnderLoadAsync()
        {
            var mark = Volatile.Read(ref sent);
            await Wait.UntilAsync(() => Volatile.Read(ref sent) >= mark + 40, "40 more requests under load", () => $"{Volatile.Read(ref sent) - mark} more");
        }

        await UnderLoadAsync();
        await WriteAsync(Settings("blue", "x-lane-alt", ["green", "yellow", "blue"]));
        await Wait.UntilAsync(async () => await SendAsync(client, Probes[0]) == "blue", "the edited default lane (blue) to apply");
        await UnderLoadAsync();
        foreach (var probe in Probes)
        {
            Assert.Equal(probe.After, await SendAsync(client, probe));
        }

        // Invalid: a default lane that is not a lane. Refused, logged with the key, the edited settings stay.
        await WriteAsync(Settings("not a lane!", "x-lane-alt", ["green", "yellow", "blue"]));
        await Wait.UntilAsync(() => service.Logs.Records.Any(static r => r.EventId.Name == "SettingsReloadRefused"), "the invalid settings to be refused (SettingsReloadRefused)");
        await UnderLoadAsync();
        stop.Cancel();
        await Task.WhenAll(workers);

        var refused = service.Logs.Records.First(static r => r.EventId.Name == "SettingsReloadRefused");
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains("Lanes:DefaultLane", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'not a lane!' is not a valid lane", refused.Message, StringComparison.Ordinal);
        foreach (var probe in Probes)
        {
            Assert.Equal(probe.After, await SendAsync(client, probe));
        }

        Assert.Empty(violations);
        Assert.True(sent > 100, $"only {sent} requests were sent under load");
    }

    private static JsonObject Settings(string defaultLane, string alias, string[] known) => new()
    {
        ["Lanes"] = new JsonObject
        {
            ["Header"] = "x-lane",
            ["Aliases"] = new JsonArray(alias),
            ["DefaultLane"] = defaultLane,
            ["KnownLanes"] = new JsonArray([.. known.Select(static k => (JsonNode)k)]),
            ["UnknownLanePolicy"] = "UseDefault",
        },
    };

    private static async Task<string> SendAsync(HttpClient client, (string Name, string? Header, string? Value, string Before, string After) probe)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        if (probe.Header is not null)
        {
            request.Headers.TryAddWithoutValidation(probe.Header, probe.Value);
        }

        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private async Task WriteAsync(JsonObject document)
    {
        // Write then move, so the watcher never reads a half-written file.
        var temp = ConfigPath + ".tmp";
        await File.WriteAllTextAsync(temp, document.ToJsonString());
        File.Move(temp, ConfigPath, overwrite: true);
    }
}
