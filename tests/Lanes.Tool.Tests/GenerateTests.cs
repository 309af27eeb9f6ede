using YamlDotNet.RepresentationModel;

namespace Lanes.Tool.Tests;

/// <summary><c>lanes istio generate</c>: golden files for the mspider bookinfo and bu/buid scenarios, lint-clean output, and a round trip.</summary>
public sealed class GenerateTests
{
    public static TheoryData<string, string[]> Scenarios => new()
    {
        { "mspider-bookinfo", ["--namespace", "bookinfo", "--gateway", "bookinfo/bookinfo-gw", "--entry", "productpage"] },
        { "bu-buid", ["--namespace", "cars-aswatson-dev", "--label-key", "bu", "--gateway", "cars-aswatson-dev/cars", "--entry", "cars-api-portal"] },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Generate_MatchesTheGoldenFile_AndLintsClean(string scenario, string[] options)
    {
        var (exit, yaml, error) = Lanes.Run(["istio", "generate", "--config", Config(scenario), .. options]);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", scenario + ".yaml")), yaml);

        var directory = Directory.CreateTempSubdirectory("lanes-gen-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "generated.yaml"), yaml);
            var (lintExit, lint, _) = Lanes.Run("lint", directory);
            Assert.Equal("no findings", lint.Trim());
            Assert.Equal(0, lintExit);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void RoundTrip_KeepsEveryLaneSubsetAndDefaultRoute()
    {
        var (_, yaml, _) = Lanes.Run("istio", "generate", "--config", Config("bu-buid"), "--label-key", "bu", "--gateway", "cars/cars", "--entry", "cars-api-portal");
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var documents = stream.Documents.Select(static d => (YamlMappingNode)d.RootNode).ToList();
        string Kind(YamlMappingNode d) => ((YamlScalarNode)d.Children["kind"]).Value!;
        YamlMappingNode Spec(YamlMappingNode d) => (YamlMappingNode)d.Children["spec"];

        // Both services: subsets wicph and wtchk labelled bu=<lane>; a mesh VirtualService with the wicph rule, then a
        // default route to the baseline wtchk (Strict: every declared lane routed).
        foreach (var service in new[] { "cars-api-portal", "cars-rti-adapter" })
        {
            var rule = documents.Single(d => Kind(d) == "DestinationRule" && ((YamlScalarNode)Spec(d).Children["host"]).Value == service);
            var subsets = ((YamlSequenceNode)Spec(rule).Children["subsets"]).Children.Cast<YamlMappingNode>()
                .Select(static s => $"{((YamlScalarNode)s.Children["name"]).Value}:{((YamlScalarNode)((YamlMappingNode)s.Children["labels"]).Children["bu"]).Value}");
            Assert.Equal(["wicph:wicph", "wtchk:wtchk"], subsets);

            var mesh = documents.Single(d => Kind(d) == "VirtualService" && !Spec(d).Children.ContainsKey("gateways") && ((YamlSequenceNode)Spec(d).Children["hosts"]).Children.Cast<YamlScalarNode>().Single().Value == service);
            var http = ((YamlSequenceNode)Spec(mesh).Children["http"]).Children.Cast<YamlMappingNode>().ToList();
            Assert.Equal(["wicph", "baseline"], http.Select(static r => ((YamlScalarNode)r.Children["name"]).Value));
            Assert.False(http[^1].Children.ContainsKey("match"));                              // the default route
            Assert.Equal("wtchk", ((YamlScalarNode)((YamlMappingNode)((YamlMappingNode)((YamlSequenceNode)http[^1].Children["route"]).Children[0]).Children["destination"]).Children["subset"]).Value);
        }

        // The gateway: the lane rule matches the canonical header or the alias and sets the canonical header; the last rule sets the default lane.
        var gateway = documents.Single(d => Kind(d) == "VirtualService" && Spec(d).Children.ContainsKey("gateways"));
        var rules = ((YamlSequenceNode)Spec(gateway).Children["http"]).Children.Cast<YamlMappingNode>().ToList();
        Assert.Equal(["bu", "buid"], ((YamlSequenceNode)rules[0].Children["match"]).Children.Cast<YamlMappingNode>()
            .Select(static m => ((YamlScalarNode)((YamlMappingNode)m.Children["headers"]).Children.Keys.Single()).Value));
        Assert.Contains("bu: wtchk", yaml[yaml.LastIndexOf("name: default", StringComparison.Ordinal)..], StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_InvalidConfiguration_NamesTheKeys_Exit1()
    {
        var (exit, output, error) = Lanes.Run("istio", "generate", "--config", Config("invalid"));

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("Lanes:Services:details:Instances:a:Address", error, StringComparison.Ordinal);
    }

    internal static string Config(string name) => Path.Combine(AppContext.BaseDirectory, "Configs", name + ".json");
}
