using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Lanes.Testing;

namespace Lanes.Packaging.Tests;

/// <summary>
/// Issue 42, item 3: a plain <c>dotnet pack</c> agrees with itself whatever the clock, and an edit gives a new version.
/// In a clone of this repository (so nothing here changes): pack <c>Lanes.Http</c> and <c>Lanes</c>, edit a source file,
/// pack again. Each pack's packages share one version, <c>Lanes.Http</c> depends on the <c>Lanes</c> in the same folder,
/// and the second version differs from the first. The version comes from the checkout
/// (<c>build/package-stamp.sh</c>), so a pack that runs across a minute boundary (the NU1102) cannot split.
/// </summary>
public sealed class VersionStampTests
{
    [Fact]
    public void TwoPlainPacks_AroundAnEdit_EachAgreesWithItself_AndTheEditGetsANewVersion()
    {
        var clone = Directory.CreateTempSubdirectory("lanes-stamp-").FullName;
        try
        {
            Run("git", ["clone", "--quiet", RepositoryRoot.Path, clone], RepositoryRoot.Path);
            var first = Pack(clone, Path.Combine(clone, "out1"));

            File.AppendAllText(Path.Combine(clone, "src", "Lanes", "LaneContext.cs"), "\n// an edit\n");
            var second = Pack(clone, Path.Combine(clone, "out2"));

            Assert.StartsWith("0.1.0-local.", first, StringComparison.Ordinal);
            Assert.NotEqual(first, second);
            Assert.StartsWith(first + ".d", second, StringComparison.Ordinal);          // same commit, uncommitted edit
        }
        finally
        {
            Directory.Delete(clone, recursive: true);
        }
    }

    /// <summary>Packs Lanes.Http (and Lanes, its reference) plainly; returns their one version, after checking they agree.</summary>
    private static string Pack(string clone, string output)
    {
        foreach (var project in new[] { "Lanes", "Lanes.Http" })
        {
            Run("dotnet", ["pack", Path.Combine(clone, "src", project, project + ".csproj"), "-o", output, "-nologo", "-v", "q"], clone);
        }

        var core = Nuspec(output, "Lanes");
        var http = Nuspec(output, "Lanes.Http");
        var version = Value(core, "version");
        Assert.Equal(version, Value(http, "version"));
        var dependency = http.Descendants().Where(static e => e.Name.LocalName == "dependency").Single(static d => (string?)d.Attribute("id") == "Lanes");
        Assert.Equal(version, (string?)dependency.Attribute("version"));
        return version;
    }

    private static XDocument Nuspec(string folder, string id)
    {
        var package = Directory.GetFiles(folder, id + ".0*.nupkg").Single(static f => !f.EndsWith(".symbols.nupkg", StringComparison.Ordinal));
        using var zip = ZipFile.OpenRead(package);
        using var stream = zip.GetEntry(id + ".nuspec")!.Open();
        return XDocument.Load(stream);
    }

    private static string Value(XDocument nuspec, string name) => nuspec.Descendants().First(e => e.Name.LocalName == name).Value;

    private static void Run(string file, string[] arguments, string directory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}\n{output.Result}\n{error}");
    }
}
