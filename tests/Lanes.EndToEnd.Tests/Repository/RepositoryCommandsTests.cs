using System.Text.RegularExpressions;
using Lanes.Testing;

namespace Lanes.EndToEnd.Tests.Repository;

/// <summary>
/// The promises a newcomer relies on before reading any code: the README's test command is the one CI runs, it is the
/// one place that installs what the suite needs, and the docs that shipped XML comments cite exist.
/// </summary>
public sealed partial class RepositoryCommandsTests
{
    [Fact]
    public void ReadmeTestCommand_IsExactlyTheCommandCiRuns()
    {
        var command = ReadmeTestCommand();

        var ci = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, ".ci", "run")).Select(static l => l.Trim());
        Assert.Contains(ci, line => line == command || line.StartsWith(command + " ", StringComparison.Ordinal));
        Assert.DoesNotContain(ci, static line => line.StartsWith("dotnet test", StringComparison.Ordinal)); // one command, no second copy
    }

    [Fact]
    public void TestScript_IsExecutable_RunsTheWholeSolution_AndInstallsWhatTheTestsNeed()
    {
        var script = Path.Combine(RepositoryRoot.Path, ReadmeTestCommand().Split(' ')[0]);
        var text = File.ReadAllText(script);

        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
        }

        Assert.Contains("dotnet test Lanes.Sdk.sln", text, StringComparison.Ordinal);
        Assert.Contains("\"$@\"", text, StringComparison.Ordinal);                     // --filter and the rest pass through
        Assert.Contains("apt-get install", text, StringComparison.Ordinal);
        Assert.Contains("missing+=(chromium)", text, StringComparison.Ordinal);         // the dashboard's browser tests
        Assert.Contains("missing+=(rabbitmq-server)", text, StringComparison.Ordinal);  // Lanes.RabbitMQ's tests
    }

    [Fact]
    public void ShippedDocs_CiteOnlySectionsThatExist_AndNoDesignDocumentUsersDoNotHave()
    {
        var headings = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "docs", "behaviour.md"))
            .Where(static l => l.StartsWith("## ", StringComparison.Ordinal))
            .Select(static l => l[3..])
            .ToArray();
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryRoot.Path, "src"), "*.*", SearchOption.AllDirectories)
                     .Where(static f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal))
                         && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                         && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            var name = Path.GetRelativePath(RepositoryRoot.Path, file);
            if (text.Contains("DESIGN ", StringComparison.Ordinal))
            {
                problems.Add($"{name} cites DESIGN, which users do not have");
            }

            foreach (Match citation in BehaviourCitation().Matches(text))
            {
                foreach (Capture section in citation.Groups["section"].Captures)
                {
                    if (!headings.Any(h => h.StartsWith(section.Value, StringComparison.Ordinal)))
                    {
                        problems.Add($"{name} cites docs/behaviour.md \"{section.Value}\", which is not a section");
                    }
                }
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void ShippedCode_SilencesNoObsoleteApiWarning()
    {
        // Obsolete APIs of other libraries (KubernetesClient's list-call WatchAsync) go away in a later version: the
        // shipped code uses their current API instead of silencing CS0618 / CS0612.
        var silenced = Directory.EnumerateFiles(Path.Combine(RepositoryRoot.Path, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(static f => File.ReadAllText(f) is var text && (text.Contains("CS0618", StringComparison.Ordinal) || text.Contains("CS0612", StringComparison.Ordinal)))
            .Select(static f => Path.GetRelativePath(RepositoryRoot.Path, f));

        Assert.Empty(silenced);
    }

    [Fact]
    public void ShippedCode_ReachesIntoNoOtherLibrarysInternals()
    {
        // ASP.NET Core's route builder is not taken out of app.Properties (the tracer runs routing through UseRouting /
        // UseEndpoints in services of its own), routing's 405 endpoint is not told by its display name (the tracer reads
        // the status it sets), and no library type is named in a string.
        string[] reaches = ["app.Properties", ".Properties.Values", "DisplayName?.StartsWith", "\"405 ", "GetType().Name ==", "GetType().FullName", "Type.GetType(\""];
        var found = Directory.EnumerateFiles(Path.Combine(RepositoryRoot.Path, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => reaches.Where(r => File.ReadAllText(f).Contains(r, StringComparison.Ordinal)).Select(r => $"{Path.GetRelativePath(RepositoryRoot.Path, f)}: {r}"));

        Assert.Empty(found);
    }

    [Fact]
    public void SharedSource_TheReadmeTable_IsWhatTheProjectsCompile()
    {
        // src/Shared/README.md says which package compiles which shared file; the lane value rule among them is "one
        // source file, so every package validates alike" only while the projects link it. Each file in src/Shared has a
        // row, and each row names exactly the packages whose project links that file.
        var shared = Path.Combine(RepositoryRoot.Path, "src", "Shared");
        var compiled = Directory.GetFiles(shared, "*.cs").ToDictionary(static f => Path.GetFileName(f), static _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var project in Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            foreach (Match link in SharedCompileItem().Matches(File.ReadAllText(project)))
            {
                var file = link.Groups["file"].Value;
                Assert.True(compiled.ContainsKey(file), $"{Path.GetFileName(project)} links src/Shared/{file}, which does not exist");
                compiled[file].Add(Path.GetFileNameWithoutExtension(project));
            }
        }

        var listed = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var row in File.ReadAllLines(Path.Combine(shared, "README.md")).Where(static l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cells = row.Split('|');
            var packages = new SortedSet<string>(BacktickedName().Matches(cells[2]).Select(static m => m.Groups["name"].Value), StringComparer.Ordinal);
            foreach (Match file in BacktickedName().Matches(cells[1]))
            {
                listed[file.Groups["name"].Value] = packages;
            }
        }

        foreach (var (file, packages) in compiled)
        {
            Assert.True(listed.TryGetValue(file, out var row), $"src/Shared/README.md has no row for {file} (compiled into {string.Join(", ", packages)})");
            Assert.True(row.SetEquals(packages), $"src/Shared/README.md lists {file} in [{string.Join(", ", row)}]; the projects compile it into [{string.Join(", ", packages)}]");
        }

        Assert.Empty(listed.Keys.Except(compiled.Keys));
    }

    [GeneratedRegex(@"<Compile Include=""\.\.\\Shared\\(?<file>[A-Za-z0-9_.]+\.cs)""")]
    private static partial Regex SharedCompileItem();

    [GeneratedRegex(@"`(?<name>[A-Za-z0-9_.]+)`")]
    private static partial Regex BacktickedName();

    [Fact]
    public void PublicApi_EveryPackagesTypes_AreListedInItsReadme_AndNothingShippedIsRemoved()
    {
        // Each library's public types are its PublicAPI.Shipped.txt (the 1.0 baseline the analyzers hold the build to)
        // and PublicAPI.Unshipped.txt (added since); the README's "Public API" table names exactly those types, and no
        // change takes a shipped entry away (the analyzers' *REMOVED* marker in PublicAPI.Unshipped.txt).
        var packages = Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "src"))
            .Where(static d => File.Exists(Path.Combine(d, "PublicAPI.Shipped.txt")) && Path.GetFileName(d) != "Lanes.Tool")
            .ToList();
        Assert.NotEmpty(packages);
        foreach (var package in packages)
        {
            var name = Path.GetFileName(package);
            var unshipped = File.ReadAllLines(Path.Combine(package, "PublicAPI.Unshipped.txt"));
            var types = PublicTypes(File.ReadAllLines(Path.Combine(package, "PublicAPI.Shipped.txt")).Concat(unshipped));
            Assert.True(types.Count > 0, $"{name}: no public type in PublicAPI.Shipped.txt or PublicAPI.Unshipped.txt");
            Assert.DoesNotContain(unshipped, static l => l.StartsWith("*REMOVED*", StringComparison.Ordinal));

            var readme = File.ReadAllText(Path.Combine(package, "README.md"));
            var start = readme.IndexOf("\n## Public API\n", StringComparison.Ordinal);
            Assert.True(start >= 0, $"{name}: README has no Public API section");
            var section = readme[(start + 1)..];
            var end = section.IndexOf("\n## ", 3, StringComparison.Ordinal);
            section = end < 0 ? section : section[..end];
            var listed = PublicApiRow().Matches(section).Select(static m => m.Groups["type"].Value).ToHashSet(StringComparer.Ordinal);
            Assert.True(types.SetEquals(listed), $"{name}: README lists [{string.Join(", ", listed.Except(types))}] not in the API files and misses [{string.Join(", ", types.Except(listed))}]");
        }
    }

    [Fact]
    public void EveryCSharpBlockInTheMarkdown_IsBuiltInCi_OrMarkedAsAFragmentWithItsReason()
    {
        // Issue 42, item 4: documentation that compiles. A ```csharp block is a snippet (after a "<!-- snippet: NAME
        // (kind) -->" marker and its ```bash package list; .ci/readme-snippets.sh builds it against the packed packages)
        // or says why it is not ("<!-- fragment: reason -->" right above it).
        var files = new[] { "README.md" }
            .Concat(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "src"), "README.md", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "docs"), "*.md"))
            .Concat(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "samples"), "README.md", SearchOption.AllDirectories))
            .Concat(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "benchmarks"), "*.md", SearchOption.AllDirectories))
            .Select(static f => Path.GetFullPath(f, RepositoryRoot.Path))
            .Where(static f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains("node_modules", StringComparison.Ordinal));
        var unmarked = new List<string>();
        var blocks = 0;
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            var snippetOpen = false;                     // a snippet marker seen, its C# block not yet
            var inBlock = false;
            string? previous = null;                     // the last non-empty line outside code blocks
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (inBlock)
                {
                    inBlock = !line.StartsWith("```", StringComparison.Ordinal);
                    continue;
                }

                if (line.StartsWith("<!-- snippet: ", StringComparison.Ordinal))
                {
                    snippetOpen = true;
                }
                else if (line.StartsWith("```csharp", StringComparison.Ordinal))
                {
                    blocks++;
                    var fragment = previous is not null && FragmentMarker().IsMatch(previous);
                    if (!snippetOpen && !fragment)
                    {
                        unmarked.Add($"{Path.GetRelativePath(RepositoryRoot.Path, file)}:{i + 1}");
                    }

                    snippetOpen = false;
                    inBlock = true;
                    continue;
                }
                else if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    inBlock = true;                      // a ```bash package list keeps a snippet open; other blocks too
                    continue;
                }

                if (line.Trim().Length > 0)
                {
                    previous = line;
                }
            }
        }

        Assert.True(blocks > 20, $"only {blocks} C# blocks found: the walk missed files");
        Assert.True(unmarked.Count == 0, "C# blocks neither built (snippet marker) nor marked as fragments with a reason: " + string.Join(", ", unmarked));
    }

    [GeneratedRegex(@"^<!-- fragment: \S.{10,} -->$")]
    private static partial Regex FragmentMarker();

    [Fact]
    public void PublicApi_AllPackagesTogether_StayWithinTheTypeBudget()
    {
        // Issue 41 sets the goal at 55 public types across every package; the budget is what the packages have now
        // and only goes down: a new public type has to replace one (or lower the count elsewhere) to land.
        const int Budget = 62;
        var total = Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "src"))
            .Where(static d => File.Exists(Path.Combine(d, "PublicAPI.Shipped.txt")))
            .Sum(static d => PublicTypes(File.ReadAllLines(Path.Combine(d, "PublicAPI.Shipped.txt"))
                .Concat(File.ReadAllLines(Path.Combine(d, "PublicAPI.Unshipped.txt")))).Count);
        Assert.True(total <= Budget, $"{total} public types across the packages; the budget is {Budget} (goal 55, issue 41)");
    }

    /// <summary>The type lines of a PublicAPI file, by simple name (<c>LaneSubsets&lt;T&gt;</c> keeps its arity).</summary>
    private static HashSet<string> PublicTypes(IEnumerable<string> lines)
        => lines.Select(static l => PublicApiModifiers().Replace(l.Trim(), string.Empty))
            .Where(static l => l.Length > 0 && !l.StartsWith('#') && PublicApiTypeLine().IsMatch(l))
            .Select(static l => l[(l.LastIndexOf('.', l.Contains('<', StringComparison.Ordinal) ? l.IndexOf('<', StringComparison.Ordinal) : l.Length - 1) + 1)..])
            .ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex("^((abstract|static|sealed|virtual|override) )+")]
    private static partial Regex PublicApiModifiers();

    [GeneratedRegex("^[A-Za-z0-9_.]+(<[A-Za-z, ]+>)?$")]
    private static partial Regex PublicApiTypeLine();

    [GeneratedRegex(@"^\| `(?<type>[A-Za-z0-9_]+(<[A-Za-z, ]+>)?)` \|", RegexOptions.Multiline)]
    private static partial Regex PublicApiRow();

    /// <summary>The command of the README's "Try it" block that runs the tests (the line that starts with <c>./</c>).</summary>
    private static string ReadmeTestCommand()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        var tryIt = readme[readme.IndexOf("## Try it", StringComparison.Ordinal)..];
        var block = tryIt[(tryIt.IndexOf("```bash", StringComparison.Ordinal) + 7)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];
        var line = block.Split('\n').Select(static l => l.Trim()).Single(static l => l.StartsWith("./", StringComparison.Ordinal));
        var comment = line.IndexOf(" #", StringComparison.Ordinal);
        return (comment < 0 ? line : line[..comment]).Trim();
    }

    [GeneratedRegex("""docs/behaviour\.md`?,(?: "(?<section>[^"]+)",?)+""")]
    private static partial Regex BehaviourCitation();
}
