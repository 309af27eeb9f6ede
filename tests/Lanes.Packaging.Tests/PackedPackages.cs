using System.IO.Compression;
using System.Xml.Linq;
using Lanes.Testing;

namespace Lanes.Packaging.Tests;

/// <summary>The packed packages in <c>LANES_PACKAGES</c>, one per project under <c>src/</c>, with their nuspec read.</summary>
internal static class PackedPackages
{
    private static readonly Lazy<IReadOnlyList<PackedPackage>> All = new(Load);

    /// <summary>The package ids: one per folder of src/ (package id = assembly name = folder).</summary>
    public static IReadOnlyList<string> ExpectedIds { get; } =
        [.. Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "src")).Select(Path.GetFileName).Where(n => n!.StartsWith("Lanes", StringComparison.Ordinal)).Order(StringComparer.Ordinal)!];

    public static string Folder => Environment.GetEnvironmentVariable("LANES_PACKAGES") is { Length: > 0 } folder
        ? folder
        : throw new InvalidOperationException("Set LANES_PACKAGES to the folder dotnet pack wrote to (bash .ci/packages.sh does).");

    public static IReadOnlyList<PackedPackage> Packages => All.Value;

    public static PackedPackage Get(string id) => Packages.Single(p => p.Id == id);

    /// <summary>
    /// The version every package must have: <c>LANES_VERSION</c> (set by .ci/packages.sh for its pack), which is
    /// <c>VersionPrefix</c> of src/Directory.Build.props with a <c>-local.</c> build stamp.
    /// </summary>
    public static string Version
    {
        get
        {
            var version = Environment.GetEnvironmentVariable("LANES_VERSION") is { Length: > 0 } set
                ? set
                : throw new InvalidOperationException("Set LANES_VERSION to the version the packages were packed at (bash .ci/packages.sh does).");
            Assert.StartsWith(BuildProperty("VersionPrefix") + "-local.", version, StringComparison.Ordinal);
            return version;
        }
    }

    /// <summary>A property of src/Directory.Build.props, where the version and repository URL are set once.</summary>
    public static string BuildProperty(string name)
        => XDocument.Load(Path.Combine(RepositoryRoot.Path, "src", "Directory.Build.props")).Descendants(name).Single().Value;

    private static List<PackedPackage> Load()
    {
        var packages = new List<PackedPackage>();
        foreach (var file in Directory.GetFiles(Folder, "*.nupkg"))
        {
            using var zip = ZipFile.OpenRead(file);
            var entries = zip.Entries.Select(static e => e.FullName).ToArray();
            var nuspecEntry = zip.Entries.Single(static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
            using var stream = nuspecEntry.Open();
            var nuspec = XDocument.Load(stream);
            packages.Add(new PackedPackage(file, nuspec, entries));
        }

        return packages;
    }
}

/// <summary>One .nupkg: its path, its nuspec and the names of its entries.</summary>
internal sealed record PackedPackage(string File, XDocument Nuspec, IReadOnlyList<string> Entries)
{
    private XNamespace Ns => Nuspec.Root!.Name.Namespace;

    private XElement Metadata => Nuspec.Root!.Element(Ns + "metadata")!;

    public string Id => Value("id")!;

    public string Version => Value("version")!;

    public string SymbolsFile => Path.ChangeExtension(File, ".snupkg");

    public string? Value(string name) => Metadata.Element(Ns + name)?.Value;

    public XElement? Element(string name) => Metadata.Element(Ns + name);

    /// <summary>Every dependency (id, version) of every target-framework group.</summary>
    public IReadOnlyList<(string Id, string Version)> Dependencies
        => [.. Metadata.Descendants(Ns + "dependency").Select(d => ((string)d.Attribute("id")!, (string)d.Attribute("version")!))];

    /// <summary>Every framework reference (<c>Microsoft.AspNetCore.App</c>...) of every target-framework group.</summary>
    public IReadOnlyList<string> FrameworkReferences
        => [.. Metadata.Descendants(Ns + "frameworkReference").Select(static f => (string)f.Attribute("name")!)];
}
