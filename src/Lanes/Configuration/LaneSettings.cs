using System.Collections.Frozen;
using Lanes.Routing;

namespace Lanes.Configuration;

/// <summary>
/// The effective, immutable settings built once from validated <see cref="LaneOptions"/>: presets applied,
/// header names and known lanes in lookup-friendly form. Every package reads these, never the raw options.
/// </summary>
internal sealed class LaneSettings
{
    private LaneSettings(
        string header,
        string[] aliases,
        string? defaultLane,
        FrozenSet<string>? knownLanes,
        UnknownLanePolicy unknownLanePolicy,
        InvalidLanePolicy invalidLanePolicy,
        bool requireLane,
        int maxLength,
        string? baggageKey,
        int traceCacheSize,
        FrozenDictionary<string, LaneServiceDefinition> services,
        TimeSpan passiveHealthPeriod)
    {
        PassiveHealthPeriod = passiveHealthPeriod;
        Services = services;
        BaggageKey = baggageKey;
        TraceCacheSize = traceCacheSize;
        Header = header;
        Aliases = aliases;
        DefaultLane = defaultLane;
        KnownLanes = knownLanes;
        UnknownLanePolicy = unknownLanePolicy;
        InvalidLanePolicy = invalidLanePolicy;
        RequireLane = requireLane;
        MaxLength = maxLength;

        var sources = new string[aliases.Length + 1];
        sources[0] = header;
        aliases.CopyTo(sources, 1);
        SourceHeaders = sources;
    }

    public string Header { get; }

    public string[] Aliases { get; }

    /// <summary>The canonical header followed by the aliases, in resolution order.</summary>
    public string[] SourceHeaders { get; }

    public string? DefaultLane { get; }

    public FrozenSet<string>? KnownLanes { get; }

    public UnknownLanePolicy UnknownLanePolicy { get; }

    public InvalidLanePolicy InvalidLanePolicy { get; }

    public bool RequireLane { get; }

    public int MaxLength { get; }

    /// <summary>The baggage key of the lane member, or <see langword="null"/> when baggage is off.</summary>
    public string? BaggageKey { get; }

    public int TraceCacheSize { get; }

    public TimeSpan PassiveHealthPeriod { get; }

    /// <summary>The services of client-side lane routing, by name (case-insensitive).</summary>
    public FrozenDictionary<string, LaneServiceDefinition> Services { get; }

    public bool IsKnown(string lane) => KnownLanes is null || KnownLanes.Contains(lane);

    /// <summary>Builds settings from options; throws <see cref="ArgumentException"/> with the validation message when they are invalid.</summary>
    public static LaneSettings Create(LaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = LaneOptionsValidator.Collect(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException("Invalid lane options: " + string.Join(" ", failures), nameof(options));
        }

        LanePresetCatalog.TryGet(options.Preset, out var preset);
        var header = GetEffectiveHeader(options, preset);
        var aliases = GetEffectiveAliases(options, preset);
        var defaultLane = GetEffectiveDefaultLane(options, preset);
        var known = options.KnownLanes.Count == 0 ? null : options.KnownLanes.ToFrozenSet(StringComparer.Ordinal);
        var baggageKey = options.EnableBaggage ? GetEffectiveBaggageKey(options, header) : null;
        return new LaneSettings(
            header, aliases, defaultLane, known, options.UnknownLanePolicy, options.InvalidLanePolicy, options.RequireLane, options.MaxLength,
            baggageKey, options.TraceCacheSize, LaneServiceDefinition.BuildAll(options.Services, defaultLane, options.MaxLength),
            options.PassiveHealthPeriod);
    }

    internal static string GetEffectiveHeader(LaneOptions options, LanePresetCatalog.PresetDefinition? preset)
        => !string.IsNullOrWhiteSpace(options.Header) ? options.Header.Trim() : preset?.Header ?? LaneOptions.FallbackHeader;

    internal static string GetEffectiveBaggageKey(LaneOptions options, string header)
        => !string.IsNullOrWhiteSpace(options.BaggageKey) ? options.BaggageKey.Trim() : header;

    internal static string[] GetEffectiveAliases(LaneOptions options, LanePresetCatalog.PresetDefinition? preset)
    {
        if (options.Aliases.Count == 0)
        {
            return preset?.Aliases ?? [];
        }

        var aliases = new string[options.Aliases.Count];
        for (var i = 0; i < aliases.Length; i++)
        {
            aliases[i] = options.Aliases[i]?.Trim() ?? string.Empty;
        }

        return aliases;
    }

    internal static string? GetEffectiveDefaultLane(LaneOptions options, LanePresetCatalog.PresetDefinition? preset)
    {
        if (options.DefaultLane is null)
        {
            return preset?.DefaultLane;
        }

        var trimmed = options.DefaultLane.Trim();
        return trimmed.Length == 0 ? null : trimmed;
    }
}
