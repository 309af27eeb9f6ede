using System.Reflection.Metadata;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Lanes.Packaging.Tests;

/// <summary>
/// What a user trusts a package by: one version for all, readme, licence, description, tags, the repository at the
/// built commit, a symbols package whose PDBs map their sources to that repository (Source Link) and embed what git
/// does not track, deterministic paths; and seams between packages that a user can see in the nuspec.
/// </summary>
public sealed partial class PackageMetadataTests
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    [Fact]
    public void EverySourceProject_IsPacked_AtTheOneLocalPrereleaseVersionOfThisPack()
    {
        var version = PackedPackages.Version;

        Assert.Equal(PackedPackages.ExpectedIds, PackedPackages.Packages.Select(static p => p.Id).Order(StringComparer.Ordinal));
        Assert.All(PackedPackages.Packages, p => Assert.Equal(version, p.Version));
    }

    [Fact]
    public void EveryPackage_HasReadmeLicenceDescriptionAndItsOwnTags()
    {
        Assert.All(PackedPackages.Packages, static p =>
        {
            Assert.Equal("README.md", p.Value("readme"));
            Assert.Contains("README.md", p.Entries);
            Assert.Equal("MIT", p.Value("license"));
            Assert.False(string.IsNullOrWhiteSpace(p.Value("description")), p.Id);
            var tags = p.Value("tags")!.Split(' ');
            Assert.Contains("lanes", tags);
            Assert.True(tags.Length > 5, $"{p.Id} has only the shared tags: {string.Join(' ', tags)}");
            Assert.Contains($"{Folder(p)}/{p.Id}.dll", p.Entries);
            Assert.Contains($"{Folder(p)}/{p.Id}.xml", p.Entries);           // XML docs for IntelliSense
        });
        Assert.Equal(PackedPackages.Packages.Count, PackedPackages.Packages.Select(static p => p.Value("tags")).Distinct().Count());
    }

    [Fact]
    public void EveryPackage_NamesTheRepositoryAtTheBuiltCommit()
    {
        var url = PackedPackages.BuildProperty("LanesRepositoryUrl");

        Assert.All(PackedPackages.Packages, p =>
        {
            var repository = p.Element("repository");
            Assert.NotNull(repository);
            Assert.Equal("git", (string?)repository.Attribute("type"));
            Assert.Equal(url, (string?)repository.Attribute("url"));
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit"));
            Assert.Equal(url, p.Value("projectUrl"));
        });
    }

    [Fact]
    public void EveryPackage_HasASymbolsPackage_WhosePdbLinksSourcesToTheRepositoryAndEmbedsUntrackedOnes()
    {
        var url = new Uri(PackedPackages.BuildProperty("LanesRepositoryUrl"));
        var raw = $"https://raw.githubusercontent.com{url.AbsolutePath.TrimEnd('/')}/";

        Assert.All(PackedPackages.Packages, p =>
        {
            Assert.True(File.Exists(p.SymbolsFile), $"no {Path.GetFileName(p.SymbolsFile)}");
            var commit = (string)p.Element("repository")!.Attribute("commit")!;
            using var zip = ZipFile.OpenRead(p.SymbolsFile);
            var entry = zip.GetEntry($"{Folder(p)}/{p.Id}.pdb");
            Assert.NotNull(entry);
            using var pdbStream = new MemoryStream();
            using (var s = entry.Open())
            {
                s.CopyTo(pdbStream);
            }

            pdbStream.Position = 0;
            using var provider = MetadataReaderProvider.FromPortablePdbStream(pdbStream);
            var pdb = provider.GetMetadataReader();
            var sourceLink = Assert.Single(Blobs(pdb, EntityHandle.ModuleDefinition, SourceLinkKind));
            Assert.Equal($"{{\"documents\":{{\"/_/*\":\"{raw}{commit}/*\"}}}}", Encoding.UTF8.GetString(sourceLink));

            // Deterministic (ContinuousIntegrationBuild): every path is mapped to /_/, none is this machine's.
            var documents = pdb.Documents.Select(h => pdb.GetString(pdb.GetDocument(h).Name)).ToArray();
            Assert.NotEmpty(documents);
            Assert.All(documents, static d => Assert.StartsWith("/_/", d, StringComparison.Ordinal));

            // Files git does not track (generated under obj/) travel inside the PDB.
            var embedded = pdb.Documents.Where(h => Blobs(pdb, h, EmbeddedSourceKind).Any())
                .Select(h => pdb.GetString(pdb.GetDocument(h).Name)).ToArray();
            Assert.Contains(embedded, static d => d.Contains("/obj/", StringComparison.Ordinal));
            Assert.DoesNotContain(embedded, static d => !d.Contains("/obj/", StringComparison.Ordinal));
        });
    }

    [Fact]
    public void LanesTool_IsADotnetToolNamedLanes_WithEverythingItRunsInside()
    {
        var tool = PackedPackages.Get("Lanes.Tool");

        Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", tool.Entries);
        Assert.Contains("tools/net10.0/any/Lanes.dll", tool.Entries);                  // the core rules it reuses travel with it
        Assert.Contains("tools/net10.0/any/YamlDotNet.dll", tool.Entries);
        Assert.Empty(tool.Dependencies);
        using var zip = ZipFile.OpenRead(tool.File);
        using var settings = new StreamReader(zip.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
        Assert.Contains("Name=\"lanes\"", settings.ReadToEnd(), StringComparison.Ordinal);
    }

    /// <summary>Where a package's assembly lives: <c>lib/net10.0</c>, or for the .NET tool <c>tools/net10.0/any</c>.</summary>
    private static string Folder(PackedPackage package)
        => package.Entries.Contains("tools/net10.0/any/DotnetToolSettings.xml") ? "tools/net10.0/any" : "lib/net10.0";

    [Fact]
    public void LanesGrpc_IsPropagationOnly_NoServiceDiscoveryResilienceOrAspNetCore()
    {
        // Issue 41: like Lanes.Http, the gRPC package only carries the lane; a worker that propagates does not get
        // service discovery, Http.Resilience or ASP.NET Core. ServerCallContext.GetLane() needs only Grpc.Core.Api.
        var grpc = PackedPackages.Get("Lanes.Grpc");

        Assert.Empty(grpc.FrameworkReferences);
        Assert.Equal(["Grpc.Net.ClientFactory", "Lanes"], grpc.Dependencies.Select(static d => d.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LanesGrpcRouting_IsWhereGrpcBalancingMeetsServiceDiscovery()
    {
        var routing = PackedPackages.Get("Lanes.Grpc.Routing");

        Assert.Empty(routing.FrameworkReferences);
        Assert.Equal(
            ["Grpc.Net.Client", "Grpc.Net.ClientFactory", "Lanes", "Lanes.Grpc", "Lanes.ServiceDiscovery"],
            routing.Dependencies.Select(static d => d.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LanesHttp_IsPropagationOnly_AndDoesNotShipServiceDiscovery()
    {
        // Routing lives with discovery (Lanes.ServiceDiscovery); a service that only propagates, and
        // Lanes.OpenTelemetry through it, does not bring Microsoft.Extensions.ServiceDiscovery.
        var http = PackedPackages.Get("Lanes.Http");
        Assert.Equal(["Lanes", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Http"], http.Dependencies.Select(static d => d.Id).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(PackedPackages.Get("Lanes.OpenTelemetry").Dependencies, static d => d.Id.Contains("ServiceDiscovery", StringComparison.Ordinal));
        Assert.Contains(PackedPackages.Get("Lanes.ServiceDiscovery").Dependencies, static d => d.Id == "Lanes.Http");
    }

    [Fact]
    public void LanesPackages_DependOnEachOtherAtTheirOwnVersion_AndCoreNeedsNoAspNetCore()
    {
        var version = PackedPackages.Version;

        Assert.All(PackedPackages.Packages, p => Assert.All(
            p.Dependencies.Where(static d => LanesId().IsMatch(d.Id)),
            d => Assert.Equal(version, d.Version)));
        Assert.Empty(PackedPackages.Get("Lanes").FrameworkReferences);
        Assert.Empty(PackedPackages.Get("Lanes.Http").FrameworkReferences);
        Assert.Empty(PackedPackages.Get("Lanes.OpenTelemetry").FrameworkReferences);
        Assert.Empty(PackedPackages.Get("Lanes.ServiceDiscovery").FrameworkReferences);  // a worker's gRPC client needs no server stack
    }

    [Fact]
    public void NoPackage_OpensItsInternalsToAnotherPackage()
    {
        var ids = PackedPackages.ExpectedIds.ToHashSet(StringComparer.Ordinal);

        Assert.All(PackedPackages.Packages, p =>
        {
            using var zip = ZipFile.OpenRead(p.File);
            using var dll = new MemoryStream();
            using (var s = zip.GetEntry($"{Folder(p)}/{p.Id}.dll")!.Open())
            {
                s.CopyTo(dll);
            }

            dll.Position = 0;
            using var pe = new System.Reflection.PortableExecutable.PEReader(dll);
            var metadata = pe.GetMetadataReader();
            var friends = new List<string>();
            foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
            {
                var attribute = metadata.GetCustomAttribute(handle);
                var constructor = metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
                var type = metadata.GetTypeReference((TypeReferenceHandle)constructor.Parent);
                if (metadata.GetString(type.Name) == "InternalsVisibleToAttribute")
                {
                    var blob = metadata.GetBlobReader(attribute.Value);
                    blob.ReadUInt16();                                       // prolog
                    friends.Add(blob.ReadSerializedString()!);
                }
            }

            Assert.DoesNotContain(friends, ids.Contains);
            if (p.Id == "Lanes")
            {
                Assert.Contains("Lanes.Tests", friends);                     // tests may keep theirs: the reader sees them
            }
        });
    }

    private static IEnumerable<byte[]> Blobs(MetadataReader pdb, EntityHandle parent, Guid kind)
    {
        foreach (var handle in pdb.GetCustomDebugInformation(parent))
        {
            var info = pdb.GetCustomDebugInformation(handle);
            if (pdb.GetGuid(info.Kind) == kind)
            {
                yield return pdb.GetBlobBytes(info.Value);
            }
        }
    }

    [GeneratedRegex("^Lanes(\\..+)?$")]
    private static partial Regex LanesId();
}
