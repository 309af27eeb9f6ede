using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Lanes.Tool;

/// <summary>One YAML document of a file: its root mapping and what kind of object it is.</summary>
internal sealed record Manifest(string File, YamlMappingNode Root, string Kind, string Name, string? Namespace)
{
    public YamlMappingNode? Spec => Root.Map("spec");
}

/// <summary>Reads files and folders of multi-document YAML; syntax faults become findings, the rest manifests.</summary>
internal static partial class ManifestReader
{
    public static readonly string[] Extensions = [".yaml", ".yml"];

    /// <summary>The files under <paramref name="paths"/> (a folder: its YAML and JSON files, recursively), sorted.</summary>
    public static IEnumerable<string> Expand(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(static f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase) || f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal))
                {
                    yield return file;
                }
            }
            else
            {
                yield return path;                                      // a missing file is reported by the reader
            }
        }
    }

    /// <summary>Parses <paramref name="text"/> (of <paramref name="file"/>) document by document, so one broken document leaves the others lintable.</summary>
    public static List<Manifest> Read(string file, string text, List<Finding> findings)
    {
        var manifests = new List<Manifest>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var faulty = Prescan(file, lines, findings);

        // Documents start at lines that are exactly '---' (with an optional comment).
        var starts = new List<int> { 0 };
        for (var i = 0; i < lines.Length; i++)
        {
            if (DocumentMarker().IsMatch(lines[i]) && i > 0)
            {
                starts.Add(i);
            }
        }

        starts.Add(lines.Length);
        for (var d = 0; d + 1 < starts.Count; d++)
        {
            var from = starts[d];
            var count = starts[d + 1] - from;
            // Blank lines in front keep the parser's line numbers those of the file.
            var chunk = new string('\n', from) + string.Join('\n', lines, from, count);
            if (Enumerable.Range(from, count).Any(faulty.Contains))
            {
                continue;                                               // already reported where it is wrong
            }

            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(chunk));
            }
            catch (YamlException e)
            {
                findings.Add(new Finding(Rules.YamlSyntax, file, (int)e.Start.Line, (int)e.Start.Column, $"{Clean(e.Message)}; fix the indentation or quoting at this place."));
                continue;
            }

            foreach (var document in stream.Documents)
            {
                if (document.RootNode is not YamlMappingNode root)
                {
                    continue;
                }

                var kind = root.Str("kind") ?? string.Empty;
                var metadata = root.Map("metadata");
                manifests.Add(new Manifest(file, root, kind, metadata?.Str("name") ?? string.Empty, metadata?.Str("namespace")));
            }
        }

        return manifests;
    }

    /// <summary>Line-level faults a YAML parser reports badly or not at all: tabs in indentation, <c>key:value</c>.</summary>
    private static HashSet<int> Prescan(string file, string[] lines, List<Finding> findings)
    {
        var faulty = new HashSet<int>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var indent = line.Length - line.TrimStart(' ', '\t').Length;
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab >= 0 && tab < indent)
            {
                findings.Add(new Finding(Rules.YamlSyntax, file, i + 1, tab + 1, "a tab in the indentation: YAML indents with spaces only; replace the tab with spaces."));
                faulty.Add(i);
                continue;
            }

            if (NoSpaceAfterColon().Match(line) is { Success: true } m)
            {
                var colon = m.Groups["key"].Index + m.Groups["key"].Length;
                findings.Add(new Finding(Rules.YamlSyntax, file, i + 1, colon + 1,
                    $"'{m.Groups["key"].Value}:{m.Groups["value"].Value}' has no space after the colon, so it is one string, not a field; write '{m.Groups["key"].Value}: {m.Groups["value"].Value}'."));
                faulty.Add(i);
            }
        }

        return faulty;
    }

    private static string Clean(string message) => message.Replace("\n", " ", StringComparison.Ordinal).Trim();

    public static int LineOf(YamlNode node) => (int)node.Start.Line;

    public static int ColumnOf(YamlNode node) => (int)node.Start.Column;

    [GeneratedRegex(@"^---\s*(#.*)?$")]
    private static partial Regex DocumentMarker();

    // "  type:EDS" or "- name:foo": a key, a colon, then no space; not a URL ("http://"), not a quoted or flow value.
    [GeneratedRegex(@"^\s*(-\s+)?(?<key>[A-Za-z_][A-Za-z0-9_.\-]*):(?<value>[^\s/:'""\[{][^\s#]*)\s*(#.*)?$")]
    private static partial Regex NoSpaceAfterColon();
}

/// <summary>Reading YAML nodes by key.</summary>
internal static class YamlNodes
{
    public static YamlNode? Get(this YamlMappingNode map, string key)
        => map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static YamlMappingNode? Map(this YamlMappingNode map, string key) => map.Get(key) as YamlMappingNode;

    public static YamlSequenceNode? Seq(this YamlMappingNode map, string key) => map.Get(key) as YamlSequenceNode;

    public static string? Str(this YamlMappingNode map, string key) => (map.Get(key) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlMappingNode> Maps(this YamlSequenceNode? seq) => seq?.Children.OfType<YamlMappingNode>() ?? [];

    public static IEnumerable<string> Strings(this YamlSequenceNode? seq) => seq?.Children.OfType<YamlScalarNode>().Select(static s => s.Value ?? string.Empty) ?? [];

    /// <summary>The key-value pairs of a mapping; none for a missing one.</summary>
    public static IEnumerable<KeyValuePair<YamlNode, YamlNode>> Pairs(this YamlMappingNode? map) => map?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>();

    /// <summary>A mapping of scalars (labels, matchLabels) as a dictionary.</summary>
    public static Dictionary<string, string> Labels(this YamlMappingNode? map)
        => map?.Children.Where(static c => c.Key is YamlScalarNode && c.Value is YamlScalarNode)
               .ToDictionary(static c => ((YamlScalarNode)c.Key).Value!, static c => ((YamlScalarNode)c.Value).Value ?? string.Empty, StringComparer.Ordinal)
           ?? [];
}
