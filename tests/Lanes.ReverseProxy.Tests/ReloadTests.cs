using System.Text.Json.Nodes;
using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy.Tests;

/// <summary>Configuration reloads without a restart; an invalid edit is refused and the last good configuration keeps serving.</summary>
public sealed class ReloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lanes-reload-").FullName;

    private string ConfigPath => Path.Combine(_directory, "gateway.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task EditingADestinationsLane_ChangesRouting_AndAnInvalidEditLeavesRoutingAsItWas()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        await WriteAsync(Document(a, "green", b, "yellow"));
        await using var gateway = await Gateway.StartAsync(null, builder => builder.Configuration.AddJsonFile(ConfigPath, optional: false, reloadOnChange: true));
        Assert.Equal("b", (await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"))).Echo!.Instance);

        // Valid edit: the labels swap.
        await WriteAsync(Document(a, "yellow", b, "green"));
        await Wait.ForAsync(() => gateway.SendAsync("/x", ("x-mspider-lane", "yellow")), static r => r.Echo?.Instance == "a", "/x, (x-mspider-lane, yellow) to reach instance a", describe: static r => $"{(int)r.Response.StatusCode} from {r.Echo?.Instance ?? "(no echo)"}");
        Assert.Equal("b", (await gateway.SendAsync("/x", ("x-mspider-lane", "green"))).Echo!.Instance);

        // Invalid edit: a label that is not a lane. YARP refuses the whole update and logs why.
        var errorsBefore = ConfigErrors(gateway);
        await WriteAsync(Document(a, "not a lane!", b, "green"));
        await Wait.UntilAsync(() => ConfigErrors(gateway) > errorsBefore, "a refused configuration to be counted");

        Assert.Contains(
            gateway.Logs.Records,
            static r => r.Level == LogLevel.Error && Gateway.Flatten(r.Exception).Contains("destination 'a' has invalid lane metadata", StringComparison.Ordinal));
        Assert.Equal("a", (await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"))).Echo!.Instance);
        Assert.Equal("b", (await gateway.SendAsync("/x", ("x-mspider-lane", "green"))).Echo!.Instance);
    }

    [Fact]
    public async Task EditingColouringRules_AppliesWithoutRestart_AndAnInvalidRuleIsRefused()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        var document = Document(a, "green", b, "yellow");
        await WriteAsync(document);
        await using var gateway = await Gateway.StartAsync(null, builder => builder.Configuration.AddJsonFile(ConfigPath, optional: false, reloadOnChange: true));
        Assert.Equal("a", (await gateway.SendAsync("/x", ("x-tester", "1"))).Echo!.Instance);

        document["Lanes"]!["Colouring"] = new JsonArray(new JsonObject { ["Lane"] = "yellow", ["Header"] = "x-tester", ["Match"] = "Present" });
        await WriteAsync(document);
        await Wait.ForAsync(() => gateway.SendAsync("/x", ("x-tester", "1")), static r => r.Echo?.Instance == "b", "/x, (x-tester, 1) to reach instance b", describe: static r => $"{(int)r.Response.StatusCode} from {r.Echo?.Instance ?? "(no echo)"}");

        document["Lanes"]!["Colouring"] = new JsonArray(new JsonObject { ["Lane"] = "green", ["Header"] = "x-tester", ["Match"] = "Regex", ["Value"] = "(a)\\1" });
        await WriteAsync(document);
        await Wait.UntilAsync(() => gateway.Logs.Records.Any(static r => r.EventId.Name == "SettingsReloadRefused"), "the invalid settings to be refused (SettingsReloadRefused)");

        var refused = gateway.Logs.Records.First(static r => r.EventId.Name == "SettingsReloadRefused");
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.StartsWith("Lane gateway settings reload refused", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Lanes:Colouring:0:Value", refused.Message, StringComparison.Ordinal);
        Assert.Equal("b", (await gateway.SendAsync("/x", ("x-tester", "1"))).Echo!.Instance);
    }

    [Fact]
    public async Task DeclaringALaneInClusterMetadata_TrustAcceptDeclaredStartsKeepingItWithoutRestart()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        var document = Document(a, "dev1", b, string.Empty);
        document["Lanes"] = new JsonObject { ["Preset"] = "nsf", ["Trust"] = "AcceptDeclared" };
        document["ReverseProxy"]!["Clusters"]!["pp"]!["Metadata"]!["lanes"] = "dev1";
        await WriteAsync(document);
        await using var gateway = await Gateway.StartAsync(null, builder => builder.Configuration.AddJsonFile(ConfigPath, optional: false, reloadOnChange: true));

        // dev9 is not declared: dropped at the entry, so the request has no lane and goes to the unlabelled b.
        var (_, dropped) = await gateway.SendAsync("/x", ("x-nsf-mark", "dev9"));
        Assert.Equal("b", dropped!.Instance);
        Assert.Null(dropped.Header("x-nsf-mark"));

        // Declared now: kept, and Strict answers 503 for a declared lane without instances.
        document["ReverseProxy"]!["Clusters"]!["pp"]!["Metadata"]!["lanes"] = "dev1,dev9";
        await WriteAsync(document);
        await Wait.ForAsync(() => gateway.SendAsync("/x", ("x-nsf-mark", "dev9")), static r => r.Response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, "/x, (x-nsf-mark, dev9) to answer ServiceUnavailable", describe: static r => $"{(int)r.Response.StatusCode} from {r.Echo?.Instance ?? "(no echo)"}");
    }

    private static int ConfigErrors(RunningServer gateway)
        => gateway.Logs.Records.Count(static r => r.Level == LogLevel.Error && r.Category.StartsWith("Yarp.ReverseProxy", StringComparison.Ordinal));

    [Fact]
    public async Task AClusterMadeLaneAwareByAReload_WithoutTheSubsetStep_IsRefusedNotBalancedAcrossLanes()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        var document = Document(a, string.Empty, b, string.Empty);
        document["ReverseProxy"]!["Clusters"]!["pp"]!["Metadata"] = new JsonObject();
        await WriteAsync(document);

        // No lane metadata at start-up: the gateway starts without the subset step.
        await using var gateway = await Gateway.StartAsync(
            null, builder => builder.Configuration.AddJsonFile(ConfigPath, optional: false, reloadOnChange: true), withSubsetStep: false);
        Assert.NotNull((await gateway.SendAsync("/x")).Echo);

        await WriteAsync(Document(a, "green", b, "yellow"));
        await Wait.ForAsync(() => gateway.SendAsync("/x", ("x-mspider-lane", "yellow")), static r => r.Response.StatusCode == System.Net.HttpStatusCode.InternalServerError, "/x, (x-mspider-lane, yellow) to answer InternalServerError", describe: static r => $"{(int)r.Response.StatusCode} from {r.Echo?.Instance ?? "(no echo)"}");

        var pathsBefore = a.Paths.Count + b.Paths.Count;
        var (response, _) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"));
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(pathsBefore, a.Paths.Count + b.Paths.Count);
        Assert.Contains(gateway.Logs.Records, static r => r.EventId.Id == 106 && r.Message.Contains("UseLaneSubsets()", StringComparison.Ordinal));
    }

    private static JsonObject Document(Upstream a, string laneA, Upstream b, string laneB) => new()
    {
        ["Lanes"] = new JsonObject { ["Preset"] = "mspider" },
        ["ReverseProxy"] = new JsonObject
        {
            ["Routes"] = new JsonObject { ["all"] = new JsonObject { ["ClusterId"] = "pp", ["Match"] = new JsonObject { ["Path"] = "{**catch-all}" } } },
            ["Clusters"] = new JsonObject
            {
                ["pp"] = new JsonObject
                {
                    ["Metadata"] = new JsonObject { ["lanePolicy"] = "Strict" },
                    ["Destinations"] = new JsonObject
                    {
                        ["a"] = new JsonObject { ["Address"] = a.Address.ToString(), ["Metadata"] = new JsonObject { ["lane"] = laneA } },
                        ["b"] = new JsonObject { ["Address"] = b.Address.ToString(), ["Metadata"] = new JsonObject { ["lane"] = laneB } },
                    },
                },
            },
        },
    };

    private async Task WriteAsync(JsonObject document)
    {
        // Write then move, so the watcher never reads a half-written file.
        var temp = ConfigPath + ".tmp";
        await File.WriteAllTextAsync(temp, document.ToJsonString());
        File.Move(temp, ConfigPath, overwrite: true);
    }

}
