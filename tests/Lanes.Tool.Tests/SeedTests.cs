namespace Lanes.Tool.Tests;

/// <summary>The seeds' manifests, rewritten as YAML with their mistakes kept, produce the findings the issue lists, at their lines.</summary>
public sealed class SeedTests
{
    public static TheoryData<string, string[]> Seeds => new()
    {
        {
            "mspider-bu",
            [
                "gateway.yaml:28 subset-not-defined",     // cars-api-portal-wtchk: the DestinationRule has wtchk and wicph
                "gateway.yaml:43 subset-not-defined",     // cars-api-portal-wtcph
                "gateway.yaml:43 set-route-mismatch",     // sets bu: wicph, routes to ...-wtcph
                "mesh.yaml:23 subset-not-defined",
                "mesh.yaml:24 no-default-route",          // the mesh VirtualService ends with a match
                "mesh.yaml:27 lane-header-mismatch",      // matches bu: wtcph, which nothing sends
                "mesh.yaml:34 subset-not-defined",
                "template.yaml:16 template-value",        // bu: "{{ request.headers['buid'] }}" is sent literally
            ]
        },
        { "bookinfo", ["wasmplugin.yaml:17 selector-matches-nothing"] },   // app: bookinfo, which no pod carries
        {
            "hango",
            [
                "colouring.yaml:7 yaml-syntax",           // a tab
                "colouring.yaml:14 yaml-syntax",          // type:EDS
                "colouring.yaml:21 invalid-lane-value",   // dev1,dev2 as a label value
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Seed_ProducesTheListedFindings_AtTheirLines_AndExits1(string folder, string[] expected)
    {
        var (exit, output, _) = Lanes.Run("lint", "--format", "json", Lanes.Seeds(folder));
        var findings = System.Text.Json.Nodes.JsonNode.Parse(output)!.AsArray()
            .Select(static f => $"{Path.GetFileName((string)f!["file"]!)}:{(int)f["line"]!} {(string)f["rule"]!}")
            .ToArray();

        Assert.Equal(expected.Order(StringComparer.Ordinal), findings.Order(StringComparer.Ordinal));
        Assert.Equal(1, exit);
    }
}
