using Lanes.Parsing;

namespace Lanes;

/// <summary>
/// How a service reads, validates and propagates lanes. Bound from the <c>Lanes</c> configuration section
/// by <c>services.AddLanes()</c> and validated at start-up.
/// </summary>
/// <remarks>
/// A <see cref="Preset"/> fills <see cref="Header"/>, <see cref="Aliases"/> and <see cref="DefaultLane"/>
/// where they are left unset (<see langword="null"/> or an empty list). Set <see cref="DefaultLane"/> to
/// an empty string to switch a preset's default off. With neither a preset nor a header, the canonical
/// header is <see cref="FallbackHeader"/>.
/// </remarks>
public sealed class LaneOptions
{
    /// <summary>The configuration section <c>AddLanes()</c> binds: <c>Lanes</c>.</summary>
    public const string SectionName = "Lanes";

    /// <summary>The default <see cref="TraceCacheSize"/>: 1024, as in mspider.</summary>
    public const int DefaultTraceCacheSize = 1024;

    /// <summary>The largest <see cref="TraceCacheSize"/> accepted.</summary>
    public const int MaxTraceCacheSize = 1_000_000;

    /// <summary>The canonical header used when neither <see cref="Header"/> nor <see cref="Preset"/> is set.</summary>
    public const string FallbackHeader = "x-lane";

    /// <summary>A built-in preset, <c>"mspider"</c> or <c>"nsf"</c> (case-insensitive), or <see langword="null"/>.</summary>
    public string? Preset { get; set; }

    /// <summary>The canonical header that carries the lane between services, e.g. <c>x-mspider-lane</c>.</summary>
    public string? Header { get; set; }

    /// <summary>Other headers a client may send instead, tried in order after <see cref="Header"/>, e.g. <c>x-mspider-laneid</c>.</summary>
    public IList<string> Aliases { get; } = new List<string>();

    /// <summary>The lane a request gets when it carries none. Empty string: no default, even with a preset.</summary>
    public string? DefaultLane { get; set; }

    /// <summary>Optional allow-list of lanes. Empty: every valid lane is accepted.</summary>
    public IList<string> KnownLanes { get; } = new List<string>();

    /// <summary>What to do with a valid lane that is not in <see cref="KnownLanes"/>. Default <see cref="UnknownLanePolicy.Keep"/>.</summary>
    public UnknownLanePolicy UnknownLanePolicy { get; set; } = UnknownLanePolicy.Keep;

    /// <summary>What to do with an invalid lane value. Default <see cref="InvalidLanePolicy.Ignore"/>.</summary>
    public InvalidLanePolicy InvalidLanePolicy { get; set; } = InvalidLanePolicy.Ignore;

    /// <summary>Answer 400 when no lane resolves (after the default). Default <see langword="false"/>.</summary>
    public bool RequireLane { get; set; }

    /// <summary>Maximum length of a lane, 1..256. Default 63.</summary>
    public int MaxLength { get; set; } = LaneParser.DefaultMaxLength;

    /// <summary>
    /// Read the lane from the W3C <c>baggage</c> header when no lane header is present, and send exactly one
    /// <c>baggage</c> member <c>&lt;key&gt;=&lt;lane&gt;</c> on every outgoing call, merged with the other members.
    /// Default <see langword="true"/>.
    /// </summary>
    public bool EnableBaggage { get; set; } = true;

    /// <summary>
    /// The key of the lane in every keyed carrier: the <c>baggage</c> member, the <c>tracestate</c> member (lower-cased),
    /// <c>uberctx-&lt;key&gt;</c> and <c>ot-baggage-&lt;key&gt;</c>. Default: the canonical header name (for example <c>x-mspider-lane</c>).
    /// </summary>
    public string? BaggageKey { get; set; }

    /// <summary>
    /// The carriers this service reads the lane from and writes it to, as <c>OTEL_PROPAGATORS</c> names them, comma-separated
    /// and in the order they are read: <c>header</c> (required), <c>baggage</c>, <c>tracecontext</c>, <c>jaeger</c>,
    /// <c>ottrace</c> (docs/polyglot.md). Default (unset): <c>header, baggage</c>, or <c>header</c> with
    /// <see cref="EnableBaggage"/> off. Read at each reload.
    /// </summary>
    public string? Propagators { get; set; }

    /// <summary>
    /// How many trace ids the trace cache remembers (mspider's <c>cache_size</c>); 0 turns the cache off.
    /// Default <see cref="DefaultTraceCacheSize"/>.
    /// </summary>
    public int TraceCacheSize { get; set; } = DefaultTraceCacheSize;

    /// <summary>
    /// How long client-side HTTP routing keeps an instance out after a connection to it failed (passive health).
    /// Default 10 seconds; 1 second to 1 hour.
    /// </summary>
    public TimeSpan PassiveHealthPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a service resolved through service discovery is kept while nobody asks for it (no call routed to it, no
    /// resolution): then its watch is dropped and its snapshot's change token fires, so whoever still follows it asks
    /// again, and names asked once no longer hold memory. Default 10 minutes; at least 1 second, or
    /// <see cref="Timeout.InfiniteTimeSpan"/> (<c>-00:00:00.001</c>) for never. Read at start-up.
    /// </summary>
    public TimeSpan ServiceIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Services this process calls with client-side lane routing (docs/behaviour.md, "Client-side HTTP routing"), by name: <c>http://reviews</c> or
    /// <c>lanes:///reviews</c> resolves to an instance of the request's lane. Read once at start-up.
    /// </summary>
    public IDictionary<string, LaneServiceOptions> Services { get; } = new Dictionary<string, LaneServiceOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Applies a preset by name and returns these options, for chaining in a configure delegate.</summary>
    /// <param name="preset">A built-in preset: <c>"mspider"</c> or <c>"nsf"</c>.</param>
    public LaneOptions UsePreset(string preset)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(preset);
        Preset = preset;
        return this;
    }
}
