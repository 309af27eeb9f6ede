using System.Diagnostics;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Parsing;
using Lanes.Tracing;
using Lanes.W3C;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.Resolution;

/// <summary>
/// Resolves the lane of a request or message (docs/behaviour.md, "Resolution"): first valid source wins, in this order:
/// 1) canonical header, 2) aliases in configured order, 3) the lane member of W3C <c>baggage</c>,
/// 4) the trace cache (the lane seen earlier in this process for the same W3C trace id), 5)
/// <see cref="LaneOptions.DefaultLane"/>, 6) none. Known-lane and invalid-value policies apply to each source;
/// <see cref="LaneOptions.RequireLane"/> applies last. A lane taken from a header, an alias or baggage is
/// remembered in the trace cache under the request's trace id.
/// </summary>
/// <remarks>
/// Registered by <c>services.AddLanes()</c>. Entry points other than the ASP.NET Core middleware (the gateway, a
/// message consumer) use it through a struct <see cref="ILaneValueReader"/> over their carrier, which keeps a
/// resolution free of allocations. Nothing here throws for bad input.
/// </remarks>
public sealed class LaneResolver
{
    private const LanePropagators ExtraCarriers = LanePropagators.TraceContext | LanePropagators.Jaeger | LanePropagators.OtTrace;

    private readonly LaneSettingsHolder _settings;
    private readonly LaneTraceCache _traceCache;
    private readonly LanesMetrics _metrics;
    private readonly ILogger _logger;

    // One bit per LanePresetCatalog.Headers entry: that foreign preset header was already reported.
    private int _foreignHeadersReported;

    internal LaneResolver(LaneSettingsHolder settings, LaneTraceCache traceCache, LanesMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(traceCache);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _settings = settings;
        _traceCache = traceCache;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The settings in force now (they change on a configuration reload).</summary>
    public LaneSettings Settings => _settings.Current;

    internal LaneTraceCache TraceCache => _traceCache;

    internal LanesMetrics Metrics => _metrics;

    /// <summary>Resolves and counts the lane of a request or message: every source (docs/behaviour.md, "Resolution"), then the default lane, with the policies.</summary>
    public LaneResolution Resolve<TReader>(ref TReader reader)
        where TReader : struct, ILaneValueReader
    {
        var resolution = ResolveSources(ref reader, applyDefault: true, preview: false);
        Record(resolution);
        return WithShadowMarker(resolution, ref reader);
    }

    /// <summary>
    /// The shadow marker (docs/behaviour.md, "Shadow lanes"): <see cref="LaneContext.ShadowHeader"/> exactly <c>1</c>;
    /// without that header, with baggage on, the member <c>lanes-shadow=1</c>. Any other value is no marker.
    /// </summary>
    private static bool CarriesShadowMarker<TReader>(ref TReader reader, LaneSettings settings)
        where TReader : struct, ILaneValueReader
    {
        var marker = reader.GetValues(LaneContext.ShadowHeader);
        if (marker.Count > 0)
        {
            return marker.Count == 1 && marker[0] == "1";
        }

        if (settings.BaggageKey is null)
        {
            return false;
        }

        var baggage = reader.GetValues(BaggageParser.HeaderName);
        return baggage.Count > 0
            && BaggageParser.MentionsKey(baggage, LaneContext.ShadowBaggageKey)
            && BaggageParser.Find(baggage, LaneContext.ShadowBaggageKey, out var value) == BaggageLookup.Found
            && value == "1";
    }

    /// <summary>
    /// Counts a lane an entry point refused without refusing the request (<c>lanes.rejected</c> with the reason), such as
    /// the gateway dropping an undeclared client lane under <c>AcceptDeclared</c>; the request's own resolution is
    /// counted with <see cref="Record"/> as usual.
    /// </summary>
    public void RecordDropped(LaneRejection rejection)
    {
        if (rejection != LaneRejection.None)
        {
            _metrics.Rejected(rejection);
        }
    }

    /// <summary>Counts a final resolution (the <c>Lanes</c> meter): rejected, or inbound by lane and source.</summary>
    public void Record(LaneResolution resolution)
    {
        if (resolution.IsRejected)
        {
            _metrics.Rejected(resolution.Rejection);
        }
        else
        {
            _metrics.Inbound(resolution.Lane, resolution.Source);
        }
    }

    /// <summary>
    /// The client-sent sources only (header, aliases, baggage, trace cache), with the policies, without the
    /// default lane (an unknown lane under <see cref="UnknownLanePolicy.UseDefault"/> resolves to none) and without
    /// counting. The gateway uses it so colouring rules run between the client's lane and the default.
    /// </summary>
    /// <remarks>The shadow marker is read too (<see cref="LaneResolution.IsShadow"/>); whether to trust it is the entry's decision.</remarks>
    public LaneResolution ResolveClient<TReader>(ref TReader reader)
        where TReader : struct, ILaneValueReader
        => WithShadowMarker(ResolveSources(ref reader, applyDefault: false, preview: false), ref reader);

    /// <summary>
    /// What <see cref="ResolveClient{TReader}(ref TReader)"/> would answer, without its effects: it reads the trace
    /// cache but does not write to it, and counts no invalid value. For tools that explain a request without serving
    /// it, such as the gateway's request tracer; logs are written as for a request.
    /// </summary>
    public LaneResolution PreviewClient<TReader>(ref TReader reader)
        where TReader : struct, ILaneValueReader
        => WithShadowMarker(ResolveSources(ref reader, applyDefault: false, preview: true), ref reader);

    private LaneResolution WithShadowMarker<TReader>(LaneResolution resolution, ref TReader reader)
        where TReader : struct, ILaneValueReader
        => !resolution.IsRejected && CarriesShadowMarker(ref reader, _settings.Current) ? resolution.AsShadow() : resolution;

    /// <summary>The default lane, or none, or a <see cref="LaneRejection.Missing"/> rejection under <see cref="LaneOptions.RequireLane"/>.</summary>
    public LaneResolution ResolveDefault() => Fallback(_settings.Current);

    private LaneResolution ResolveSources<TReader>(ref TReader reader, bool applyDefault, bool preview)
        where TReader : struct, ILaneValueReader
    {
        var settings = _settings.Current;
        var headers = settings.SourceHeaderArray;
        for (var i = 0; i < headers.Length; i++)
        {
            var values = reader.GetValues(headers[i]);
            if (values.Count == 0)
            {
                continue;
            }

            var source = i == 0 ? LaneSource.Header : LaneSource.Alias;
            var status = LaneParser.Parse(values, settings.MaxLength, out var lane);
            if (status == LaneParseStatus.Valid)
            {
                if (!preview && (settings.Propagators & ExtraCarriers) != 0)
                {
                    CheckOtherCarriers(ref reader, settings, lane!, source, LanePropagators.Header);
                }

                return Remember(ref reader, Accept(settings, lane!, source, applyDefault), preview);
            }

            if (Invalid(settings, headers[i], source, status, values, preview))
            {
                return Reject(LaneRejection.InvalidValue);
            }
        }

        var carriers = settings.CarrierOrder;
        for (var i = 0; i < carriers.Length; i++)
        {
            var status = ReadCarrier(ref reader, settings, carriers[i], out var value, out var field);
            if (status == LaneParseStatus.Empty)
            {
                continue;
            }

            var source = SourceOf(carriers[i]);
            if (status == LaneParseStatus.Valid)
            {
                if (!preview && (settings.Propagators & ExtraCarriers) != 0)
                {
                    CheckOtherCarriers(ref reader, settings, value!, source, carriers[i]);
                }

                return Remember(ref reader, Accept(settings, value!, source, applyDefault), preview);
            }

            if (Invalid(settings, field, source, status, value ?? string.Empty, preview))
            {
                return Reject(LaneRejection.InvalidValue);
            }
        }

        if (!preview)
        {
            ReportForeignPresetHeaders(ref reader, settings);
        }

        if (_traceCache.Enabled && TryGetTraceId(ref reader, out var traceId) && _traceCache.TryGet(traceId, out var cached))
        {
            LanesLog.LaneFromTraceCache(_logger, cached!);
            return Accept(settings, cached!, LaneSource.TraceCache, applyDefault);
        }

        return applyDefault ? Fallback(settings) : default;
    }

    /// <summary>
    /// Reads one keyed carrier (docs/polyglot.md): <see cref="LaneParseStatus.Empty"/> when it holds no lane member, else
    /// the parse of its value. <c>tracestate</c> is read only beside a valid <c>traceparent</c>, as W3C trace context
    /// asks; a <c>uberctx-</c> value is percent-decoded first (a malformed escape leaves a <c>%</c>, which no lane holds).
    /// </summary>
    private static LaneParseStatus ReadCarrier<TReader>(ref TReader reader, LaneSettings settings, LanePropagators carrier, out string? value, out string field)
        where TReader : struct, ILaneValueReader
    {
        value = null;
        switch (carrier)
        {
            case LanePropagators.Baggage:
            {
                field = BaggageParser.HeaderName;
                var baggage = reader.GetValues(BaggageParser.HeaderName);
                if (baggage.Count == 0)
                {
                    return LaneParseStatus.Empty;
                }

                var lookup = BaggageParser.Find(baggage, settings.BaggageKey!, out value);
                return lookup switch
                {
                    BaggageLookup.NotFound => LaneParseStatus.Empty,
                    BaggageLookup.Conflict => LaneParseStatus.Ambiguous,
                    _ => LaneParser.Parse(value, settings.MaxLength, out value),
                };
            }

            case LanePropagators.TraceContext:
            {
                field = TraceState.HeaderName;
                var state = reader.GetValues(TraceState.HeaderName);
                if (state.Count == 0 || !TraceParent.TryGetTraceId(reader.GetValues(TraceParent.HeaderName), out _))
                {
                    return LaneParseStatus.Empty;
                }

                var lookup = TraceState.Find(state, settings.TraceStateKey, out value);
                return lookup switch
                {
                    BaggageLookup.NotFound => LaneParseStatus.Empty,
                    BaggageLookup.Conflict => LaneParseStatus.Ambiguous,
                    _ => LaneParser.Parse(value, settings.MaxLength, out value),
                };
            }

            case LanePropagators.Jaeger:
                field = settings.JaegerHeader;
                return ReadBaggageHeader(ref reader, settings, field, percentEncoded: true, out value);

            case LanePropagators.OtTrace:
                field = settings.OtBaggageHeader;
                return ReadBaggageHeader(ref reader, settings, field, percentEncoded: false, out value);

            default:
                field = string.Empty;
                return LaneParseStatus.Empty;
        }
    }

    /// <summary>A baggage header of its own (<c>uberctx-key</c>, <c>ot-baggage-key</c>): its value, as a lane; the raw value when it is not one, for the log.</summary>
    private static LaneParseStatus ReadBaggageHeader<TReader>(ref TReader reader, LaneSettings settings, string name, bool percentEncoded, out string? value)
        where TReader : struct, ILaneValueReader
    {
        value = null;
        var values = reader.GetValues(name);
        if (values.Count == 0)
        {
            return LaneParseStatus.Empty;
        }

        var status = LaneParser.Parse(percentEncoded ? PercentDecode(values) : values, settings.MaxLength, out value);
        if (status != LaneParseStatus.Valid)
        {
            value = values.ToString();
        }

        return status;
    }

    /// <summary>Jaeger clients percent-encode baggage values; decoding leaves a malformed escape as it is.</summary>
    private static StringValues PercentDecode(StringValues values)
    {
        var count = values.Count;
        if (count == 1)
        {
            var one = values[0] ?? string.Empty;
            return one.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(one) : values;
        }

        var decoded = new string[count];
        for (var i = 0; i < count; i++)
        {
            decoded[i] = Uri.UnescapeDataString(values[i] ?? string.Empty);
        }

        return decoded;
    }

    private static LaneSource SourceOf(LanePropagators carrier) => carrier switch
    {
        LanePropagators.Baggage => LaneSource.Baggage,
        LanePropagators.TraceContext => LaneSource.TraceState,
        LanePropagators.Jaeger => LaneSource.Jaeger,
        LanePropagators.OtTrace => LaneSource.OtTrace,
        _ => LaneSource.Header,
    };

    /// <summary>
    /// With a carrier beyond <c>header</c> and <c>baggage</c> configured, every other configured carrier that holds a
    /// valid lane different from the winner is a Debug line and a <c>lanes.carrier.conflicts</c> count, never an error.
    /// </summary>
    private void CheckOtherCarriers<TReader>(ref TReader reader, LaneSettings settings, string lane, LaneSource winner, LanePropagators winnerCarrier)
        where TReader : struct, ILaneValueReader
    {
        var carriers = settings.CarrierOrder;
        for (var i = 0; i < carriers.Length; i++)
        {
            if (carriers[i] == winnerCarrier
                || ReadCarrier(ref reader, settings, carriers[i], out var other, out _) != LaneParseStatus.Valid
                || string.Equals(other, lane, StringComparison.Ordinal))
            {
                continue;
            }

            var name = LanePropagatorList.Name(carriers[i]);
            _metrics.Conflict(winner, name);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
#pragma warning disable CA1873 // Guarded by the IsEnabled check above.
                LanesLog.CarrierConflict(_logger, lane, LaneSourceNames.Get(winner), name, other!);
#pragma warning restore CA1873
            }
        }
    }

    /// <summary>
    /// No configured source had a lane: a lane under another preset's header (a gateway on <c>mspider</c>, a service on
    /// the defaults) is a configuration mismatch that silently loses the lane, so it is logged once per header.
    /// </summary>
    private void ReportForeignPresetHeaders<TReader>(ref TReader reader, LaneSettings settings)
        where TReader : struct, ILaneValueReader
    {
        var headers = LanePresetCatalog.Headers;
        var reported = Volatile.Read(ref _foreignHeadersReported);
        for (var i = 0; i < headers.Length; i++)
        {
            var bit = 1 << i;
            if ((reported & bit) != 0 || Reads(settings, headers[i].Header))
            {
                continue;
            }

            if (reader.GetValues(headers[i].Header).Count > 0 && (Interlocked.Or(ref _foreignHeadersReported, bit) & bit) == 0)
            {
                LanesLog.ForeignPresetHeader(_logger, headers[i].Header, headers[i].Preset, settings.Header);
            }
        }
    }

    private static bool Reads(LaneSettings settings, string header)
    {
        foreach (var source in settings.SourceHeaderArray)
        {
            if (string.Equals(source, header, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The trace id of the request: its <c>traceparent</c> header, else the current W3C Activity's.</summary>
    private static bool TryGetTraceId<TReader>(ref TReader reader, out ActivityTraceId traceId)
        where TReader : struct, ILaneValueReader
    {
        if (TraceParent.TryGetTraceId(reader.GetValues(TraceParent.HeaderName), out traceId))
        {
            return true;
        }

        var activity = Activity.Current;
        if (activity is { IdFormat: ActivityIdFormat.W3C })
        {
            traceId = activity.TraceId;
            return true;
        }

        return false;
    }

    private LaneResolution Remember<TReader>(ref TReader reader, LaneResolution resolution, bool preview)
        where TReader : struct, ILaneValueReader
    {
        if (!preview && resolution.Source is LaneSource.Header or LaneSource.Alias or LaneSource.Baggage or LaneSource.TraceState or LaneSource.Jaeger or LaneSource.OtTrace
            && _traceCache.Enabled && TryGetTraceId(ref reader, out var traceId))
        {
            _traceCache.Set(traceId, resolution.Lane!);
        }

        return resolution;
    }

    /// <summary>Logs and counts an invalid value; true when the policy says to reject.</summary>
    private bool Invalid(LaneSettings settings, string field, LaneSource source, LaneParseStatus status, StringValues values, bool preview)
    {
        if (!preview)
        {
            _metrics.Invalid(source, status);
        }

        LanesLog.InvalidLaneValue(_logger, field, status, settings.MaxLength, values);
        return settings.InvalidLanePolicy == InvalidLanePolicy.Reject;
    }

    private LaneResolution Accept(LaneSettings settings, string lane, LaneSource source, bool applyDefault)
    {
        if (settings.IsKnown(lane))
        {
            return new LaneResolution(lane, source);
        }

        switch (settings.UnknownLanePolicy)
        {
            case UnknownLanePolicy.Reject:
                LanesLog.UnknownLane(_logger, lane, "rejected");
                return Reject(LaneRejection.UnknownLane);
            case UnknownLanePolicy.UseDefault:
                LanesLog.UnknownLane(_logger, lane, "replaced by the default");
                return applyDefault ? Fallback(settings) : default;
            default:
                return new LaneResolution(lane, source);
        }
    }

    private LaneResolution Fallback(LaneSettings settings)
    {
        if (settings.DefaultLane is not null)
        {
            return new LaneResolution(settings.DefaultLane, LaneSource.Default);
        }

        return settings.RequireLane ? Reject(LaneRejection.Missing) : default;
    }

    private LaneResolution Reject(LaneRejection rejection)
    {
        LanesLog.LaneRejected(_logger, rejection);
        return new LaneResolution(null, LaneSource.None, rejection);
    }

    /// <summary>Reads a carrier through an OpenTelemetry-style getter.</summary>
    internal readonly struct GetterReader<TCarrier>(TCarrier carrier, Func<TCarrier, string, IEnumerable<string>?> getter) : ILaneValueReader
    {
        public StringValues GetValues(string name)
        {
            var values = carrier is null ? null : getter(carrier, name);
            switch (values)
            {
                case null:
                    return StringValues.Empty;
                case string[] array:
                    return new StringValues(array);
                case IReadOnlyList<string> { Count: 1 } list:
                    return new StringValues(list[0]);
                default:
                    var copy = new List<string>();
                    foreach (var value in values)
                    {
                        copy.Add(value);
                    }

                    return new StringValues(copy.ToArray());
            }
        }
    }
}
