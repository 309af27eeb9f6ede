using System.Text.Json.Nodes;

namespace Lanes.Tool.Tests;

/// <summary>Exit codes, the three formats (SARIF in the 2.1.0 shape), and <c>lanes check</c>.</summary>
public sealed class CommandTests
{
    [Fact]
    public void Lint_Formats_TextJsonAndSarif_SayTheSameFindings()
    {
        var folder = Lanes.Seeds("hango");
        var (textExit, text, _) = Lanes.Run("lint", folder);
        var (jsonExit, json, _) = Lanes.Run("lint", "--format", "json", folder);
        var (sarifExit, sarif, _) = Lanes.Run("lint", "--format", "sarif", folder);

        Assert.Equal([1, 1, 1], new[] { textExit, jsonExit, sarifExit });
        Assert.Contains("colouring.yaml:7:1: error LANES001 yaml-syntax:", text, StringComparison.Ordinal);
        Assert.EndsWith("3 finding(s), 3 error(s)", text.TrimEnd(), StringComparison.Ordinal);

        var findings = JsonNode.Parse(json)!.AsArray();
        Assert.Equal(3, findings.Count);
        Assert.All(findings, static f => Assert.Equal(
            ["code", "column", "file", "line", "message", "rule", "severity"],
            f!.AsObject().Select(static p => p.Key).Order(StringComparer.Ordinal)));

        // SARIF 2.1.0: version, one run with the tool's rules, a result per finding with a physical location.
        var log = JsonNode.Parse(sarif)!.AsObject();
        Assert.Equal("2.1.0", (string?)log["version"]);
        Assert.Contains("sarif-2.1.0", (string?)log["$schema"], StringComparison.Ordinal);
        var run = Assert.Single(log["runs"]!.AsArray())!;
        Assert.Equal("lanes", (string?)run["tool"]!["driver"]!["name"]);
        Assert.Equal(14, run["tool"]!["driver"]!["rules"]!.AsArray().Count);
        var results = run["results"]!.AsArray();
        Assert.Equal(3, results.Count);
        Assert.All(results, static r =>
        {
            Assert.Matches("^LANES0[0-9]{2}$", (string?)r!["ruleId"]);
            Assert.Contains((string?)r["level"], new[] { "error", "warning", "note" });
            Assert.False(string.IsNullOrEmpty((string?)r["message"]!["text"]));
            var location = Assert.Single(r["locations"]!.AsArray())!["physicalLocation"]!;
            Assert.EndsWith("colouring.yaml", (string?)location["artifactLocation"]!["uri"], StringComparison.Ordinal);
            Assert.True((int)location["region"]!["startLine"]! > 0);
            Assert.True((int)location["region"]!["startColumn"]! > 0);
        });
    }

    [Fact]
    public void Lint_CleanInput_Exit0_WarningsOnly_Exit0()
    {
        var (exit, output, _) = Lanes.Run("lint", Path.Combine(AppContext.BaseDirectory, "Golden"));
        Assert.Equal(0, exit);
        Assert.Equal("no findings", output.Trim());

        var (warnExit, found) = Lanes.LintText("kind: VirtualService\nmetadata: { name: r }\nspec:\n  hosts: [r]\n  http:\n    - route: [{ destination: { host: r } }]\n    - route: [{ destination: { host: r } }]\n");
        Assert.Equal("unreachable-rule", (string?)Assert.Single(found)["rule"]);
        Assert.Equal(0, warnExit);
    }

    [Theory]
    [InlineData("lint")]                                       // no PATH
    [InlineData("lint", "--format", "xml", ".")]
    [InlineData("generate")]
    [InlineData("check")]                                      // no --config
    public void Usage_Exit2(params string[] args)
    {
        var (exit, _, error) = Lanes.Run(args);
        Assert.Equal(2, exit);
        Assert.Contains("lanes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_Exit2()
    {
        Assert.Equal(2, Lanes.Run("lint", "/no/such/file.yaml").Exit);
        Assert.Equal(2, Lanes.Run("check", "--config", "/no/such/appsettings.json").Exit);
    }

    [Fact]
    public void MalformedJson_OneLineWithTheParsersPosition_Exit2_ForEveryCommand()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("lanes-json-").FullName, "appsettings.json");
        File.WriteAllText(file, "{ \"Lanes\": { \"Preset\": ");
        try
        {
            foreach (var args in new[] { new[] { "lint", file }, ["check", "--config", file], ["istio", "generate", "--config", file] })
            {
                var (exit, output, error) = Lanes.Run(args);
                Assert.Equal(2, exit);
                Assert.Empty(output);
                var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                Assert.Contains("is not valid JSON", line, StringComparison.Ordinal);
                Assert.Contains("BytePositionInLine", line, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    [Fact]
    public void CrLfLineEnds_AreReadLikeLf()
    {
        var (_, found) = Lanes.LintText("kind: Service\r\nmetadata:\r\n  name:svc\r\n");
        var finding = Assert.Single(found);
        Assert.Equal("yaml-syntax", (string?)finding["rule"]);
        Assert.Equal(3, (int)finding["line"]!);
        Assert.DoesNotContain("\r", (string)finding["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_InvalidConfiguration_OneLinePerProblemNamingTheKey_Exit1()
    {
        var (exit, output, _) = Lanes.Run("check", "--config", GenerateTests.Config("invalid"));

        Assert.Equal(1, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(static l => !l.StartsWith("read: ", StringComparison.Ordinal) && !l.StartsWith("note: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, static l => l.Contains("Lanes:DefaultLane", StringComparison.Ordinal));
        Assert.Contains(lines, static l => l.Contains("Lanes:Services:details:Instances:a:Address", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_NamesTheFilesItRead_LayersThemAsAHost_AndNamesTheSiblingsItDidNot()
    {
        // Issue 42: a gateway's appsettings.json says x-lane, its appsettings.Production.json the mspider preset; the
        // host runs with the second. Checked alone, the first file is valid but is not what runs: the check says so.
        var directory = Directory.CreateTempSubdirectory("lanes-layers-").FullName;
        try
        {
            var first = Path.Combine(directory, "appsettings.json");
            var second = Path.Combine(directory, "appsettings.Production.json");
            File.WriteAllText(first, """{ "Lanes": { "Header": "x-lane" } }""");
            File.WriteAllText(second, """{ "Lanes": { "Header": "", "Preset": "mspider" } }""");

            var (aloneExit, alone, _) = Lanes.Run("check", "--config", first);
            var (bothExit, both, _) = Lanes.Run("check", "--config", first, "--config", second);

            Assert.Equal(0, aloneExit);
            Assert.Contains($"read: {first}\n", alone, StringComparison.Ordinal);
            Assert.Contains("valid (header x-lane,", alone, StringComparison.Ordinal);
            Assert.Contains("not read here: ", alone, StringComparison.Ordinal);
            Assert.Contains("appsettings.Production.json", alone[alone.IndexOf("not read here: ", StringComparison.Ordinal)..], StringComparison.Ordinal);

            Assert.Equal(0, bothExit);
            Assert.Contains($"read: {first}, {second} (in this order", both, StringComparison.Ordinal);
            Assert.Contains("valid (header x-mspider-lane,", both, StringComparison.Ordinal);
            Assert.DoesNotContain("not read here", both, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Check_ValidConfiguration_Exit0()
    {
        var (exit, output, _) = Lanes.Run("check", "--config", GenerateTests.Config("bu-buid"));

        Assert.Equal(0, exit);
        Assert.Contains("valid (header bu, default lane wtchk, 2 service(s), carriers header, baggage)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Propagators_AreValidatedAndNamed()
    {
        var good = Path.Combine(Path.GetTempPath(), $"lanes-carriers-{Guid.NewGuid():N}.json");
        var bad = Path.Combine(Path.GetTempPath(), $"lanes-carriers-{Guid.NewGuid():N}.json");
        File.WriteAllText(good, """{ "Lanes": { "Propagators": "header, jaeger, baggage, tracecontext" } }""");
        File.WriteAllText(bad, """{ "Lanes": { "Propagators": "header, b3" } }""");
        try
        {
            var (goodExit, goodOutput, _) = Lanes.Run("check", "--config", good);
            var (badExit, badOutput, _) = Lanes.Run("check", "--config", bad);

            Assert.Equal(0, goodExit);
            Assert.Contains("carriers header, jaeger, baggage, tracecontext)", goodOutput, StringComparison.Ordinal);
            Assert.Equal(1, badExit);
            Assert.Contains("Lanes:Propagators names 'b3'", badOutput, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(good);
            File.Delete(bad);
        }
    }
}

/// <summary><c>lanes lint</c> on a Lanes JSON file: the SDK's validator, each problem at its key's position.</summary>
public sealed class JsonLintTests
{
    [Fact]
    public void LanesJson_ProblemsAreFoundAtTheirKeys()
    {
        var (exit, output, _) = Lanes.Run("lint", "--format", "json", GenerateTests.Config("invalid"));
        var findings = System.Text.Json.Nodes.JsonNode.Parse(output)!.AsArray();

        Assert.Equal(1, exit);
        Assert.Contains(findings, static f => ((string)f!["message"]!).Contains("Lanes:DefaultLane", StringComparison.Ordinal) && (int)f["line"]! == 4 && (int)f["column"]! == 5);
        Assert.Contains(findings, static f => ((string)f!["message"]!).Contains("Instances:a:Address", StringComparison.Ordinal) && (int)f["line"]! == 8 && (int)f["column"]! == 18);
    }

    [Fact]
    public void Help_NamesTheCommandLanes_AndVersionPrintsTheToolsVersion()
    {
        var (helpExit, help, _) = Lanes.Run("--help");
        var (lintHelpExit, lintHelp, _) = Lanes.Run("lint", "--help");
        var (versionExit, version, _) = Lanes.Run("--version");

        Assert.Equal([0, 0, 0], new[] { helpExit, lintHelpExit, versionExit });
        Assert.Contains("  lanes [command] [options]", help, StringComparison.Ordinal);
        Assert.Contains("  lanes lint <PATH>... [options]", lintHelp, StringComparison.Ordinal);
        Assert.Contains("--lane-header", lintHelp, StringComparison.Ordinal);
        Assert.StartsWith(typeof(Cli).Assembly.GetName().Version!.ToString(3), version.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Lint_KindsItDoesNotDescribe_AreNotCheckedForUnknownFields()
    {
        // A Role and a RoleBinding (the Kubernetes sample's RBAC) keep rules, subjects and roleRef at the top level.
        var (exit, found) = Lanes.LintText("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: { name: lanes-reader }
            rules:
              - apiGroups: [""]
                resources: [pods, services]
                verbs: [get, list, watch]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: { name: lanes-reader }
            subjects: [{ kind: ServiceAccount, name: gateway }]
            roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: lanes-reader }
            """);

        Assert.Empty(found);
        Assert.Equal(0, exit);
    }
}
