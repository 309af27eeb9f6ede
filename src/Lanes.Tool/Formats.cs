using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lanes.Tool;

/// <summary>Writes findings as text (one per line), a JSON array, or SARIF 2.1.</summary>
internal static class Formats
{
    public static void Write(string format, IReadOnlyList<Finding> findings, TextWriter output)
    {
        switch (format)
        {
            case "json":
                output.WriteLine(new JsonArray([.. findings.Select(static f => (JsonNode)new JsonObject
                {
                    ["rule"] = f.Rule.Name,
                    ["code"] = f.Rule.Code,
                    ["severity"] = Level(f.Severity),
                    ["file"] = f.File,
                    ["line"] = f.Line,
                    ["column"] = f.Column,
                    ["message"] = f.Message,
                })]).ToJsonString(Indented));
                break;
            case "sarif":
                output.WriteLine(Sarif(findings).ToJsonString(Indented));
                break;
            default:
                foreach (var f in findings)
                {
                    output.WriteLine($"{f.File}:{f.Line}:{f.Column}: {Level(f.Severity)} {f.Rule.Code} {f.Rule.Name}: {f.Message}");
                }

                var errors = findings.Count(static f => f.Severity == Severity.Error);
                output.WriteLine(findings.Count == 0 ? "no findings" : $"{findings.Count} finding(s), {errors} error(s)");
                break;
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string Level(Severity severity) => severity switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "note",
    };

    /// <summary>SARIF 2.1.0: one run, the tool's rules, one result per finding with its file, line and column.</summary>
    internal static JsonObject Sarif(IReadOnlyList<Finding> findings) => new()
    {
        ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json",
        ["version"] = "2.1.0",
        ["runs"] = new JsonArray(new JsonObject
        {
            ["tool"] = new JsonObject
            {
                ["driver"] = new JsonObject
                {
                    ["name"] = "lanes",
                    ["informationUri"] = "https://github.com/lanes-sdk/lanes/tree/main/src/Lanes.Tool",
                    ["rules"] = new JsonArray([.. Rules.All.Select(static r => (JsonNode)new JsonObject
                    {
                        ["id"] = r.Code,
                        ["name"] = r.Name,
                        ["shortDescription"] = new JsonObject { ["text"] = r.Catches },
                        ["defaultConfiguration"] = new JsonObject { ["level"] = Level(r.Severity) },
                    })]),
                },
            },
            ["results"] = new JsonArray([.. findings.Select(static f => (JsonNode)new JsonObject
            {
                ["ruleId"] = f.Rule.Code,
                ["level"] = Level(f.Severity),
                ["message"] = new JsonObject { ["text"] = f.Message },
                ["locations"] = new JsonArray(new JsonObject
                {
                    ["physicalLocation"] = new JsonObject
                    {
                        ["artifactLocation"] = new JsonObject { ["uri"] = f.File.Replace('\\', '/') },
                        ["region"] = new JsonObject { ["startLine"] = f.Line, ["startColumn"] = f.Column },
                    },
                }),
            })]),
        }),
    };
}
