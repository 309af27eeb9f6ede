using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Lanes.Tool;

/// <summary>
/// Keys of a Lanes JSON file that no Lanes package reads: configuration binding ignores them, so a misspelt
/// <c>DefualtLane</c> or <c>lanePolcy</c> silently leaves the default. Known keys: the <c>Lanes</c> options' properties
/// (read from the SDK's own options types), the gateway's and the Kubernetes provider's keys in the same section, a
/// service's and an instance's properties, and the lane metadata keys (other metadata is the application's own, so only
/// a near miss of a lane key is reported there). Keys compare case-insensitively, as binding does.
/// </summary>
internal static class LanesJsonKeys
{
    /// <summary>Keys other Lanes packages bind from the same section (the gateway's options, the Kubernetes provider's).</summary>
    private static readonly string[] OtherPackages = ["Trust", "DebugHeaders", "Colouring", "Kubernetes", "Failover"];

    /// <summary>The metadata keys lanes are read from (docs/behaviour.md and the gateway README).</summary>
    private static readonly string[] LaneMetadata = ["lanes", "lanePolicy", "laneBaseline", "lanePanicToAny", "lane", "laneRetries", "laneAttemptTimeout"];

    public static List<string> Find(IConfiguration configuration)
    {
        var problems = new List<string>();
        var lanes = configuration.GetSection(LaneOptions.SectionName);
        Check(lanes, [.. Properties(typeof(LaneOptions)), .. OtherPackages], problems);
        Check(lanes.GetSection("Failover"), Properties(typeof(LaneFailoverOptions)), problems);
        foreach (var service in lanes.GetSection("Services").GetChildren())
        {
            Check(service, Properties(typeof(LaneServiceOptions)), problems);
            NearMisses(service.GetSection("Metadata"), problems);
            foreach (var instance in service.GetSection("Instances").GetChildren())
            {
                Check(instance, Properties(typeof(LaneInstanceOptions)), problems);
                NearMisses(instance.GetSection("Metadata"), problems);
            }
        }

        return problems;
    }

    private static string[] Properties(Type type)
        => [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(static p => p.Name)];

    private static void Check(IConfigurationSection section, string[] known, List<string> problems)
    {
        foreach (var child in section.GetChildren())
        {
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                var closest = Closest(child.Key, known);
                problems.Add($"{Shown(child.Path)} is not a Lanes setting and is ignored: {(closest is null ? string.Empty : $"did you mean '{closest}'? ")}the keys here are {string.Join(", ", known)}.");
            }
        }
    }

    private static void NearMisses(IConfigurationSection metadata, List<string> problems)
    {
        foreach (var child in metadata.GetChildren())
        {
            if (!LaneMetadata.Contains(child.Key, StringComparer.OrdinalIgnoreCase) && Closest(child.Key, LaneMetadata) is { } closest)
            {
                problems.Add($"{Shown(child.Path)} is not a lane metadata key and is ignored by lane routing: did you mean '{closest}'?");
            }
        }
    }

    /// <summary>
    /// A key path as the file spelt it, made safe for a terminal, a SARIF viewer or a CI log: a JSON key may hold any
    /// character (a newline, an escape sequence), so it is escaped the way the SDK escapes untrusted header values.
    /// </summary>
    internal static string Shown(string path) => Lanes.Parsing.LaneParser.Escape(path, MaxShownPath);

    /// <summary>Longer paths are cut, their length noted: longer than any real setting path, short enough for one line.</summary>
    private const int MaxShownPath = 200;

    private static string? Closest(string key, string[] known)
    {
        var closest = known.MinBy(k => Schema.Distance(k.ToLowerInvariant(), key.ToLowerInvariant()));
        return closest is not null && Schema.Distance(closest.ToLowerInvariant(), key.ToLowerInvariant()) <= 2 ? closest : null;
    }
}
