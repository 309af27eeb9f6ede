using System.Collections.Frozen;
using System.Collections.Immutable;
using Lanes.Routing;

namespace Lanes.Configuration;

/// <summary>
/// The effective, immutable settings of a service, built from validated <see cref="LaneOptions"/>: presets applied,
/// header names and known lanes in lookup-friendly form. Every package reads these, never the raw options. When the
/// options change (a configuration reload), a new snapshot replaces the old one as a whole: read
/// <see cref="LanePropagator.Settings"/> once per operation and use that snapshot throughout.
/// </summary>
public sealed class LaneSettings
{
    private readonly FrozenSet<string>? _knownLanes;

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
        TimeSpan passiveHealthPeriod,
        TimeSpan serviceIdleTimeout,
        LanePropagators propagators,
        LanePropagators[] carrierOrder,
        string carrierKey)
    {
        Propagators = propagators;
        CarrierOrder = carrierOrder;
        CarrierKey = carrierKey;
        TraceStateKey = carrierKey.ToLowerInvariant();
        JaegerHeader = "uberctx-" + carrierKey;
        OtBaggageHeader = "ot-baggage-" + carrierKey;
        PropagatorsText = LanePropagatorList.Format(carrierOrder);
        PassiveHealthPeriod = passiveHealthPeriod;
        ServiceIdleTimeout = serviceIdleTimeout;
        Services = services;
        ConfiguredLanes = CollectConfiguredLanes(defaultLane, knownLanes, services);
        BaggageKey = baggageKey;
        TraceCacheSize = traceCacheSize;
        Header = header;
        AliasArray = aliases;
        Aliases = [.. aliases];
        DefaultLane = defaultLane;
        _knownLanes = knownLanes;
        UnknownLanePolicy = unknownLanePolicy;
        InvalidLanePolicy = invalidLanePolicy;
        RequireLane = requireLane;
        MaxLength = maxLength;

        var sources = new string[aliases.Length + 1];
        sources[0] = header;
        aliases.CopyTo(sources, 1);
        SourceHeaderArray = sources;
        SourceHeaders = [.. sources];
    }

    /// <summary>The canonical header, e.g. <c>x-mspider-lane</c>.</summary>
    public string Header { get; }

    /// <summary>The alias headers, in the order they are tried.</summary>
    public ImmutableArray<string> Aliases { get; }

    /// <summary>The canonical header followed by the aliases, in resolution order.</summary>
    public ImmutableArray<string> SourceHeaders { get; }

    /// <summary>The lane of a request that carries none, or <see langword="null"/>.</summary>
    public string? DefaultLane { get; }

    /// <summary>The allow-list of lanes, or <see langword="null"/> when every valid lane is accepted.</summary>
    public IReadOnlySet<string>? KnownLanes => _knownLanes;

    /// <summary>What happens to a valid lane outside <see cref="KnownLanes"/>.</summary>
    public UnknownLanePolicy UnknownLanePolicy { get; }

    /// <summary>What happens to an invalid lane value.</summary>
    public InvalidLanePolicy InvalidLanePolicy { get; }

    /// <summary>Whether a request with no lane (after the default) is answered 400.</summary>
    public bool RequireLane { get; }

    /// <summary>The longest lane accepted.</summary>
    public int MaxLength { get; }

    /// <summary>The baggage key of the lane member, or <see langword="null"/> when baggage is off.</summary>
    public string? BaggageKey { get; }

    /// <summary>The carriers this service reads and writes (<see cref="LaneOptions.Propagators"/>); always includes <see cref="LanePropagators.Header"/>.</summary>
    public LanePropagators Propagators { get; }

    /// <summary>The configured carriers in reading order, as configuration writes them: <c>header, baggage, jaeger</c>.</summary>
    public string PropagatorsText { get; }

    /// <summary>
    /// The key of the lane in every keyed carrier (<see cref="LaneOptions.BaggageKey"/>, else the canonical header), whether or
    /// not the carrier is configured: a gateway removes a client's lane under this key from every carrier.
    /// </summary>
    public string CarrierKey { get; }

    /// <summary>The <c>tracestate</c> member key: <see cref="CarrierKey"/> lower-cased.</summary>
    public string TraceStateKey { get; }

    /// <summary>The Jaeger baggage header of the lane: <c>uberctx-</c> and <see cref="CarrierKey"/>.</summary>
    public string JaegerHeader { get; }

    /// <summary>The OpenTracing baggage header of the lane: <c>ot-baggage-</c> and <see cref="CarrierKey"/>.</summary>
    public string OtBaggageHeader { get; }

    /// <summary>How many trace ids the trace cache holds (read at start-up only: the cache keeps its size).</summary>
    public int TraceCacheSize { get; }

    /// <summary>How long client-side HTTP routing keeps an instance out after a connection failure.</summary>
    public TimeSpan PassiveHealthPeriod { get; }

    /// <summary>How long a service resolved through service discovery is kept while nobody asks for it (<see cref="LaneOptions.ServiceIdleTimeout"/>).</summary>
    public TimeSpan ServiceIdleTimeout { get; }

    /// <summary>The services of client-side lane routing, by name (case-insensitive).</summary>
    public IReadOnlyDictionary<string, LaneServiceDefinition> Services { get; }

    /// <summary>
    /// Every lane this configuration names: <see cref="DefaultLane"/>, <see cref="KnownLanes"/>, and for each service
    /// under <see cref="Services"/> its declared lanes and its instances' lanes. A gateway with <c>Lanes:Trust</c>
    /// <c>AcceptDeclared</c> admits these (with the lanes its clusters declare or have instances of), so a lane that only
    /// a downstream service has is not dropped at the entry; <c>lanes istio generate</c> routes them.
    /// </summary>
    public IReadOnlySet<string> ConfiguredLanes { get; }

    internal string[] AliasArray { get; }

    /// <summary>The keyed carriers (all but the header) in the order they are read.</summary>
    internal LanePropagators[] CarrierOrder { get; }

    /// <summary>True when <paramref name="carrier"/> is configured.</summary>
    public bool Uses(LanePropagators carrier) => (Propagators & carrier) == carrier;

    internal string[] SourceHeaderArray { get; }

    private static FrozenSet<string> CollectConfiguredLanes(string? defaultLane, IReadOnlySet<string>? known, IReadOnlyDictionary<string, LaneServiceDefinition> services)
    {
        var lanes = new HashSet<string>(StringComparer.Ordinal);
        if (defaultLane is not null)
        {
            lanes.Add(defaultLane);
        }

        if (known is not null)
        {
            lanes.UnionWith(known);
        }

        foreach (var service in services.Values)
        {
            if (service.Settings.DeclaredLanes is { } declared)
            {
                lanes.UnionWith(declared);
            }

            foreach (var instance in service.Instances)
            {
                if (instance.Lane is { } lane)
                {
                    lanes.Add(lane);
                }
            }
        }

        return lanes.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>True when <paramref name="lane"/> is in <see cref="KnownLanes"/>, or there is no allow-list.</summary>
    public bool IsKnown(string lane) => _knownLanes is null || _knownLanes.Contains(lane);

    /// <summary>Builds settings from options; throws <see cref="ArgumentException"/> with the validation messages (each naming its key) when they are invalid.</summary>
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
        var propagators = LanePropagatorList.Parse(options, out var carrierOrder, failures: null);
        var carrierKey = GetEffectiveBaggageKey(options, header);
        var baggageKey = (propagators & LanePropagators.Baggage) != 0 ? carrierKey : null;
        return new LaneSettings(
            header, aliases, defaultLane, known, options.UnknownLanePolicy, options.InvalidLanePolicy, options.RequireLane, options.MaxLength,
            baggageKey, options.TraceCacheSize, LaneServiceDefinition.BuildAll(options.Services, defaultLane, options.MaxLength),
            options.PassiveHealthPeriod, options.ServiceIdleTimeout, propagators, carrierOrder, carrierKey);
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
