using System.Diagnostics.CodeAnalysis;
using Lanes.Parsing;

namespace Lanes.Routing;

/// <summary>
/// Reads a service's lane routing settings from string metadata, the same keys everywhere: YARP cluster and
/// destination metadata, and the instance registry of client-side routing. One parser, so a key means the same
/// thing in the gateway and in every service.
/// </summary>
/// <remarks>
/// Service keys: <c>lanes</c> (declared lanes, comma separated), <c>lanePolicy</c> (<c>Permissive</c>,
/// <c>Strict</c>, <c>Declared</c>, <c>Any</c>; case-insensitive), <c>laneBaseline</c> (a lane; an empty value
/// means the unlabelled instances; absent means the default lane, or the unlabelled instances without one),
/// <c>lanePanicToAny</c> (<c>true</c>/<c>false</c>). Instance key: <c>lane</c> (absent or empty: unlabelled).
/// </remarks>
internal static class LaneRoutingMetadata
{
    /// <summary>The declared lanes of a service (comma list).</summary>
    public const string Lanes = "lanes";
    /// <summary>The policy of a service.</summary>
    public const string Policy = "lanePolicy";
    /// <summary>The baseline lane of a service (empty: the unlabelled instances).</summary>
    public const string Baseline = "laneBaseline";
    /// <summary>Whether a service uses every healthy instance when the chosen subset is empty.</summary>
    public const string PanicToAny = "lanePanicToAny";
    /// <summary>The lane label of an instance.</summary>
    public const string Lane = "lane";

    /// <summary>True when the service uses lanes: it has a service key, or <paramref name="anyLabelledInstance"/>.</summary>
    public static bool IsLaneAware(IReadOnlyDictionary<string, string>? metadata, bool anyLabelledInstance)
    {
        if (anyLabelledInstance)
        {
            return true;
        }

        return metadata is not null
            && (metadata.ContainsKey(Lanes) || metadata.ContainsKey(Policy) || metadata.ContainsKey(Baseline) || metadata.ContainsKey(PanicToAny));
    }

    /// <summary>Reads service settings; false with an error that names the key and what to write when a value is invalid.</summary>
    public static bool TryReadService(
        IReadOnlyDictionary<string, string>? metadata,
        string? defaultLane,
        int maxLength,
        [NotNullWhen(true)] out LaneSubsetSettings? settings,
        [NotNullWhen(false)] out string? error)
    {
        settings = null;
        var policy = LanePolicy.Permissive;
        string[]? declared = null;
        var baseline = defaultLane;
        var panic = false;

        if (metadata is not null)
        {
            if (metadata.TryGetValue(Policy, out var policyText) && !TryParsePolicy(policyText, out policy))
            {
                error = $"'{Policy}' must be one of Permissive, Strict, Declared, Any (got '{LaneParser.Escape(policyText)}').";
                return false;
            }

            if (metadata.TryGetValue(Lanes, out var lanesText) && !TryParseLaneList(lanesText, maxLength, out declared, out error))
            {
                return false;
            }

            if (metadata.TryGetValue(Baseline, out var baselineText))
            {
                if (string.IsNullOrWhiteSpace(baselineText))
                {
                    baseline = null;
                }
                else if (LaneParser.Parse(baselineText, maxLength, out baseline) != LaneParseStatus.Valid)
                {
                    error = $"'{Baseline}' must be one lane of {LaneParser.Rule(maxLength)}, or empty for the unlabelled instances (got '{LaneParser.Escape(baselineText)}').";
                    return false;
                }
            }

            if (metadata.TryGetValue(PanicToAny, out var panicText) && !bool.TryParse(panicText, out panic))
            {
                error = $"'{PanicToAny}' must be true or false (got '{LaneParser.Escape(panicText)}').";
                return false;
            }
        }

        settings = new LaneSubsetSettings(policy, declared, baseline, panic);
        error = null;
        return true;
    }

    /// <summary>Reads an instance's lane label: <see langword="null"/> when unlabelled; false with an error when the label is not a valid lane.</summary>
    public static bool TryReadInstanceLane(IReadOnlyDictionary<string, string>? metadata, int maxLength, out string? lane, [NotNullWhen(false)] out string? error)
    {
        lane = null;
        error = null;
        if (metadata is null || !metadata.TryGetValue(Lane, out var text) || string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (LaneParser.Parse(text, maxLength, out lane) != LaneParseStatus.Valid || text.Contains(',', StringComparison.Ordinal))
        {
            lane = null;
            error = $"'{Lane}' must be one lane of {LaneParser.Rule(maxLength)} (got '{LaneParser.Escape(text)}').";
            return false;
        }

        return true;
    }

    /// <summary>Parses a policy name, case-insensitively.</summary>
    public static bool TryParsePolicy(string? text, out LanePolicy policy)
    {
        policy = LanePolicy.Permissive;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        foreach (var candidate in Enum.GetValues<LanePolicy>())
        {
            if (string.Equals(text, candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                policy = candidate;
                return true;
            }
        }

        return false;
    }

    private static bool TryParseLaneList(string? text, int maxLength, out string[]? lanes, [NotNullWhen(false)] out string? error)
    {
        lanes = null;
        error = null;
        var result = new List<string>();
        foreach (var part in (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (LaneParser.Validate(part, maxLength) != LaneParseStatus.Valid)
            {
                error = $"'{Lanes}' must be a comma-separated list of lanes of {LaneParser.Rule(maxLength)} (got '{LaneParser.Escape(text ?? string.Empty)}').";
                return false;
            }

            if (!result.Contains(part, StringComparer.Ordinal))
            {
                result.Add(part);
            }
        }

        lanes = [.. result];
        return true;
    }
}
