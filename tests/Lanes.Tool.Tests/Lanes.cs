namespace Lanes.Tool.Tests;

/// <summary>Runs the <c>lanes</c> command in process, as the tool's entry point does, capturing what it writes.</summary>
internal static class Lanes
{
    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Cli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Lints <paramref name="yaml"/> written to a temporary file; returns the findings as JSON objects.</summary>
    public static (int Exit, List<System.Text.Json.Nodes.JsonObject> Findings) LintText(string yaml, params string[] options)
    {
        var directory = Directory.CreateTempSubdirectory("lanes-lint-").FullName;
        try
        {
            var file = Path.Combine(directory, "input.yaml");
            File.WriteAllText(file, yaml);
            var (exit, output, error) = Run(["lint", "--format", "json", .. options, file]);
            Assert.True(exit is 0 or 1, error);
            return (exit, [.. System.Text.Json.Nodes.JsonNode.Parse(output)!.AsArray().Select(static n => n!.AsObject())]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static string Seeds(string folder) => Path.Combine(AppContext.BaseDirectory, "Seeds", folder);
}
