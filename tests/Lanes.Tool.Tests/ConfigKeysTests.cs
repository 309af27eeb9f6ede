using System.Text.Json.Nodes;

namespace Lanes.Tool.Tests;

/// <summary>
/// Lanes JSON as a new user writes it: misspelt keys are reported (not "valid", not "no findings"), <c>istio generate</c>
/// says what it expected when there is nothing to generate, and a gateway with several services needs <c>--entry</c>.
/// </summary>
public sealed class ConfigKeysTests
{
    private const string Misspelt = """
        {
          "Lanes": {
            "Preset": "mspider",
            "DefualtLane": "green",
            "Services": {
              "reviews": {
                "Metadata": { "lanePolcy": "Strict", "lanes": "green,yellow", "owner": "team-a" },
                "Instances": {
                  "g": { "Address": "http://10.0.0.1:9080", "Metadata": { "lane": "green" } },
                  "y": { "Adress": "http://10.0.0.2:9080", "Metadata": { "lane": "yellow" } }
                }
              }
            }
          }
        }
        """;

    [Fact]
    public void MisspeltKeys_AreReportedWithASuggestion_ByCheckAndLint_AtTheirLines()
    {
        var file = Write(Misspelt);
        try
        {
            var (checkExit, checkOutput, _) = Lanes.Run("check", "--config", file);
            var (lintExit, lintOutput, _) = Lanes.Run("lint", "--format", "json", file);

            Assert.Equal(1, checkExit);
            Assert.DoesNotContain("valid (", checkOutput, StringComparison.Ordinal);
            Assert.Contains("Lanes:DefualtLane is not a Lanes setting and is ignored: did you mean 'DefaultLane'?", checkOutput, StringComparison.Ordinal);
            Assert.Contains("Lanes:Services:reviews:Metadata:lanePolcy is not a lane metadata key and is ignored by lane routing: did you mean 'lanePolicy'?", checkOutput, StringComparison.Ordinal);
            Assert.Contains("Lanes:Services:reviews:Instances:y:Adress is not a Lanes setting and is ignored: did you mean 'Address'?", checkOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("owner", checkOutput, StringComparison.Ordinal);              // the application's own metadata

            Assert.Equal(1, lintExit);
            var unknown = JsonNode.Parse(lintOutput)!.AsArray().Where(static f => (string?)f!["rule"] == "unknown-field").ToList();
            Assert.Equal([4, 7, 10], unknown.Select(static f => (int)f!["line"]!).Order());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AnUnknownKeyWithControlCharacters_IsReportedEscaped_NeverRaw()
    {
        // A JSON key may hold a newline or a terminal escape sequence: check and lint name it escaped, cut to one line.
        var file = Write("{ \"Lanes\": { \"Preset\": \"mspider\", \"Evil\\u001b[31m\\nKey\": 1, \"" + new string('k', 500) + "\": 2 } }");
        try
        {
            var (checkExit, checkOutput, _) = Lanes.Run("check", "--config", file);
            var (_, lintOutput, _) = Lanes.Run("lint", "--format", "json", file);

            Assert.Equal(1, checkExit);
            Assert.Contains("Lanes:Evil\\x1B[31m\\x0AKey is not a Lanes setting", checkOutput, StringComparison.Ordinal);
            Assert.Contains("(506 chars) is not a Lanes setting", checkOutput, StringComparison.Ordinal);
            Assert.DoesNotContain('\u001b', checkOutput);
            Assert.DoesNotContain(new string('k', 201), checkOutput, StringComparison.Ordinal);
            var messages = JsonNode.Parse(lintOutput)!.AsArray().Where(static f => (string?)f!["rule"] == "unknown-field").Select(static f => (string)f!["message"]!).ToList();
            Assert.Equal(2, messages.Count);
            Assert.All(messages, static m => Assert.DoesNotContain(m, static c => char.IsControl(c)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void TheSamplesAndSeedsConfigurations_HaveNoUnknownKeys()
    {
        foreach (var name in new[] { "bu-buid", "mspider-bookinfo" })
        {
            Assert.Empty(Cli.UnknownKeys(GenerateTests.Config(name)));
        }
    }

    [Fact]
    public void Generate_WithServicesAtTheTopLevel_SaysWhatItExpected()
    {
        // Aspire's shape: "Services" is service discovery's section, not Lanes:Services.
        var file = Write("""{ "Lanes": { "Preset": "mspider" }, "Services": { "reviews": { "http": [ "http://10.0.0.1:9080" ] } } }""");
        try
        {
            var (exit, output, error) = Lanes.Run("istio", "generate", "--config", file);

            Assert.NotEqual(0, exit);
            Assert.Empty(output);
            Assert.Contains("no service under Lanes:Services", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Generate_AGatewayWithSeveralServices_NeedsTheEntry()
    {
        var (exit, output, error) = Lanes.Run("istio", "generate", "--config", GenerateTests.Config("bu-buid"), "--label-key", "bu", "--gateway", "cars/cars");

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Contains("--gateway needs --entry with 2 services under Lanes:Services (cars-api-portal, cars-rti-adapter)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void LanesJsonGiven_ItsHeaderIsALaneHeader_AndItsAliasReachesOnlyTheEntry()
    {
        var directory = Directory.CreateTempSubdirectory("lanes-lint-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "appsettings.json"), """{ "Lanes": { "Header": "x-team-lane", "Aliases": [ "x-team-alias" ] } }""");
            File.WriteAllText(Path.Combine(directory, "mesh.yaml"), """
                kind: VirtualService
                metadata: { name: reviews }
                spec:
                  hosts: [reviews]
                  http:
                    - match: [{ headers: { x-team-alias: { exact: yellow } } }]
                      route: [{ destination: { host: reviews } }]
                    - route: [{ destination: { host: reviews } }]
                ---
                kind: VirtualService
                metadata: { name: ratings }
                spec:
                  hosts: [ratings]
                  http:
                    - match: [{ headers: { x-team-lane: { exact: yellow } } }]
                      route: [{ destination: { host: ratings } }]
                """);

            var (exit, output, _) = Lanes.Run("lint", "--format", "json", directory);

            Assert.Equal(1, exit);
            var found = JsonNode.Parse(output)!.AsArray().Select(static f => ((string?)f!["rule"], (int)f["line"]!, (string?)f["message"])).ToList();
            var mismatch = Assert.Single(found, static f => f.Item1 == "lane-header-mismatch");
            Assert.Equal(6, mismatch.Item2);
            Assert.Contains("match 'x-team-lane' instead", mismatch.Item3, StringComparison.Ordinal);
            Assert.Equal(15, Assert.Single(found, static f => f.Item1 == "no-default-route").Item2);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Write(string json)
    {
        var file = Path.Combine(Path.GetTempPath(), $"lanes-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        return file;
    }
}
