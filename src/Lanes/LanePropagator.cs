using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Parsing;
using Lanes.Resolution;
using Lanes.Tracing;
using Lanes.W3C;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Lanes;

/// <summary>
/// Injects the lane into, and extracts it from, any carrier: HTTP headers, gRPC metadata, Kafka or RabbitMQ message
/// headers, a dictionary. The one outbound pipeline of Lanes: every transport (the HttpClient handler, the runtime
/// hook, the OpenTelemetry propagator, gRPC, client-side routing, the gateway) decides a call's lane and writes its
/// header and its single <c>baggage</c> value through <see cref="InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/>,
/// and a transport of your own can too.
/// </summary>
/// <remarks>
/// Registered as a singleton by <c>services.AddLanes()</c>; <see cref="Create"/> builds one without DI.
/// Nothing here throws for bad input: an invalid lane is not injected, a garbage carrier extracts as no lane.
/// </remarks>
/// <example>
/// <code>
/// // Producer: the lane header and one baggage member, merged with the message's own baggage
/// propagator.InjectCall(message.Headers, getter, static (h, key, value) => h[key] = value, static (h, key) => h.Remove(key));
/// // Consumer
/// using (LaneContext.Begin(propagator.Extract(message.Headers, getter)))
/// {
///     await HandleAsync(message);
/// }
/// </code>
/// </example>
public sealed class LanePropagator
{
    private const LanePropagators ExtraCarriers = LanePropagators.TraceContext | LanePropagators.Jaeger | LanePropagators.OtTrace;
    private const string OtTraceIdHeader = "ot-tracer-traceid";
    private const string OtSpanIdHeader = "ot-tracer-spanid";
    private const string OtSampledHeader = "ot-tracer-sampled";

    private readonly LaneSettingsHolder _settings;
    private readonly LaneResolver _resolver;
    private readonly ILogger _logger;
    private (LaneSettings Settings, IReadOnlyCollection<string> Fields)? _fields;

    internal LanePropagator(LaneSettingsHolder settings, LaneResolver resolver, ILogger logger)
    {
        _settings = settings;
        _resolver = resolver;
        _logger = logger;
    }

    /// <summary>The settings in force now (a configuration reload replaces them as a whole).</summary>
    public LaneSettings Settings => _settings.Current;

    /// <summary>A change token that fires when a reload replaces <see cref="Settings"/> (a refused edit does not fire it).</summary>
    public IChangeToken GetSettingsChangeToken() => _settings.ChangeToken;

    /// <summary>The canonical header, which <c>Inject</c> writes.</summary>
    public string HeaderName => _settings.Current.Header;

    /// <summary>Every field <c>Extract</c> reads: the canonical header, the aliases, the configured carriers in reading order (<c>baggage</c>, <c>tracestate</c>, <c>uberctx-key</c>, <c>ot-baggage-key</c>) and <c>traceparent</c> (for the trace cache and <c>tracestate</c>).</summary>
    public IReadOnlyCollection<string> Fields
    {
        get
        {
            var settings = _settings.Current;
            var cached = _fields;
            if (cached is { } c && ReferenceEquals(c.Settings, settings))
            {
                return c.Fields;
            }

            var fields = new List<string>(settings.SourceHeaderArray);
            foreach (var carrier in settings.CarrierOrder)
            {
                fields.Add(carrier switch
                {
                    LanePropagators.Baggage => BaggageParser.HeaderName,
                    LanePropagators.TraceContext => TraceState.HeaderName,
                    LanePropagators.Jaeger => settings.JaegerHeader,
                    _ => settings.OtBaggageHeader,
                });
            }

            fields.Add(TraceParent.HeaderName);
            var result = fields.AsReadOnly();
            _fields = (settings, result);
            return result;
        }
    }

    /// <summary>The lane an outgoing call made now carries, when the call does not say otherwise; <see langword="null"/> for none.</summary>
    /// <remarks>
    /// Inside a request or a <see cref="LaneContext.Begin(string?)"/> scope its lane is final (even none). Outside any,
    /// the ambient fallbacks apply: a valid lane member in OpenTelemetry <c>Baggage.Current</c> (an
    /// OpenTelemetry-instrumented consumer restored it), then the trace cache for the current Activity's trace id.
    /// </remarks>
    public string? OutboundLane
    {
        get
        {
            var settings = _settings.Current;
            var lane = GetOutboundLane(settings, LaneContext.CurrentFrame);
            return CanInject(settings, lane) ? lane : null;
        }
    }

    internal LaneResolver Resolver => _resolver;

    /// <summary>Builds a propagator from options, without dependency injection.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message says what to change.</exception>
    public static LanePropagator Create(LaneOptions options, ILoggerFactory? loggerFactory = null)
    {
        var settings = new LaneSettingsHolder(LaneSettings.Create(options));
        loggerFactory ??= NullLoggerFactory.Instance;
        return new LanePropagator(
            settings,
            new LaneResolver(settings, new LaneTraceCache(settings.Current.TraceCacheSize), new LanesMetrics(settings), loggerFactory.CreateLogger<LaneResolver>()),
            loggerFactory.CreateLogger<LanePropagator>());
    }

    /// <summary>
    /// Writes the current lane (<see cref="OutboundLane"/>) into <paramref name="carrier"/> under the canonical header;
    /// nothing when there is none. Writes the header only: <see cref="InjectCall{TCarrier}(TCarrier, Func{TCarrier, string, IEnumerable{string}?}, Action{TCarrier, string, string}, Action{TCarrier, string}, LaneCallOptions)"/>
    /// also writes <c>baggage</c>.
    /// </summary>
    internal void Inject<TCarrier>(TCarrier carrier, Action<TCarrier, string, string> setter)
        => Inject(GetOutboundLane(_settings.Current, LaneContext.CurrentFrame), carrier, setter);

    /// <summary>Writes <paramref name="lane"/> into <paramref name="carrier"/> under the canonical header; nothing when it is null or invalid.</summary>
    internal void Inject<TCarrier>(string? lane, TCarrier carrier, Action<TCarrier, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        var settings = _settings.Current;
        if (carrier is null || !CanInject(settings, lane))
        {
            return;
        }

        setter(carrier, settings.Header, lane);
    }

    /// <summary>
    /// Writes the lane of one outgoing call onto its carrier, the one way every Lanes transport does it (docs/behaviour.md, "W3C baggage"):
    /// <list type="number">
    /// <item>the call's lane is the canonical header the call already carries (application code set it; used as it
    /// is when it is one valid lane, and nothing is sent when it is not), else <see cref="OutboundLane"/>;</item>
    /// <item>the canonical header is set when the call has none;</item>
    /// <item>with baggage on, <c>baggage</c> is replaced by one value: the lane member first, then the call's own
    /// members, the inbound request's members as they arrived, OpenTelemetry baggage and the Activity baggage the
    /// runtime would send (W3C rules, 180 members and 8192 bytes at most, never a partial member). A call with no
    /// lane carries no lane member, and is left alone when there is nothing to forward or remove.</item>
    /// </list>
    /// A call that already carries the canonical header and a <c>baggage</c> whose first member is that lane is taken
    /// as written (by an earlier Lanes step of the same call) and left as it is.
    /// </summary>
    /// <returns>The lane the call carries, or <see langword="null"/>.</returns>
    public string? InjectCall<TCarrier>(ref TCarrier carrier)
        where TCarrier : struct, ILaneCarrier
        => InjectCall(ref carrier, default);

    /// <inheritdoc cref="InjectCall{TCarrier}(ref TCarrier)"/>
    /// <param name="carrier">The call's carrier.</param>
    /// <param name="options">How to treat the call's Activity and OpenTelemetry baggage.</param>
    public string? InjectCall<TCarrier>(ref TCarrier carrier, LaneCallOptions options)
        where TCarrier : struct, ILaneCarrier
    {
        var settings = _settings.Current;
        var frame = LaneContext.CurrentFrame;                    // read once: each read is an ExecutionContext lookup
        var callerSet = carrier.GetValues(settings.Header);
        if (!TryGetCallLane(settings, frame, callerSet, out var lane))
        {
            lane = null;
        }
        else if (callerSet.Count == 0)
        {
            carrier.SetValue(settings.Header, lane);
        }

        if (settings.BaggageKey is not null)
        {
            InjectBaggage(ref carrier, settings, frame, lane, callerSet.Count > 0, options);
        }

        if ((settings.Propagators & ExtraCarriers) != 0)
        {
            InjectExtraCarriers(ref carrier, settings, lane, options);
        }

        if (frame is { Shadow: true })
        {
            InjectShadowMarker(ref carrier, settings);
        }
        else if (options.UntrustedBaggage)
        {
            RemoveShadowMarker(ref carrier);
        }

        return lane;
    }

    /// <summary>
    /// A shadow copy's calls carry the marker (docs/behaviour.md, "Shadow lanes"): <see cref="LaneContext.ShadowHeader"/>
    /// <c>1</c>, and with baggage on the member <c>lanes-shadow=1</c> after the others (when the header has room for it).
    /// </summary>
    private static void InjectShadowMarker<TCarrier>(ref TCarrier carrier, LaneSettings settings)
        where TCarrier : struct, ILaneCarrier
    {
        if (carrier.GetValues(LaneContext.ShadowHeader).Count == 0)
        {
            carrier.SetValue(LaneContext.ShadowHeader, "1");
        }

        if (settings.BaggageKey is null)
        {
            return;
        }

        var existing = carrier.GetValues(BaggageParser.HeaderName);
        if (existing.Count == 0 || (existing.Count == 1 && string.IsNullOrEmpty(existing[0])))
        {
            carrier.Remove(BaggageParser.HeaderName);
            carrier.SetValue(BaggageParser.HeaderName, ShadowMember);
        }
        else if (BaggageParser.Find(existing, LaneContext.ShadowBaggageKey, out _) == BaggageLookup.NotFound)
        {
            var joined = string.Join(',', (IEnumerable<string?>)existing);
            if (joined.Length + ShadowMember.Length + 1 <= BaggageParser.MaxBytes)
            {
                carrier.Remove(BaggageParser.HeaderName);
                carrier.SetValue(BaggageParser.HeaderName, joined + "," + ShadowMember);
            }
        }
    }

    /// <summary>
    /// A request that is not a shadow copy leaves without the marker a client sent (the gateway's entry: only a gateway's
    /// own copies are shadow copies). An emptied <c>baggage</c> stays as an empty header, so the runtime does not write
    /// the client's members back.
    /// </summary>
    private static void RemoveShadowMarker<TCarrier>(ref TCarrier carrier)
        where TCarrier : struct, ILaneCarrier
    {
        if (carrier.GetValues(LaneContext.ShadowHeader).Count > 0)
        {
            carrier.Remove(LaneContext.ShadowHeader);
        }

        var existing = carrier.GetValues(BaggageParser.HeaderName);
        if (existing.Count > 0 && BaggageParser.MentionsKey(existing, LaneContext.ShadowBaggageKey))
        {
            var value = OutboundBaggage.Without(LaneContext.ShadowBaggageKey, existing);
            carrier.Remove(BaggageParser.HeaderName);
            carrier.SetValue(BaggageParser.HeaderName, value ?? string.Empty);
        }
    }

    private const string ShadowMember = LaneContext.ShadowBaggageKey + "=1";

    /// <summary>The single <c>baggage</c> value of the call (docs/behaviour.md, "W3C baggage").</summary>
    private static void InjectBaggage<TCarrier>(ref TCarrier carrier, LaneSettings settings, LaneContext.Frame? frame, string? lane, bool callerSetLane, LaneCallOptions options)
        where TCarrier : struct, ILaneCarrier
    {
        var key = settings.BaggageKey!;
        var existing = carrier.GetValues(BaggageParser.HeaderName);
        if (lane is not null && callerSetLane && existing.Count == 1 && OutboundBaggage.StartsWithLaneMember(existing[0]!, key, lane))
        {
            return;
        }

        var activity = Activity.Current;
        var runtime = options.RuntimeBaggage;
        var runtimeMayWrite = false;
        if (runtime is null && !options.ExcludeActivityBaggage)
        {
            runtime = OutboundBaggage.RuntimeOutput(activity);
            runtimeMayWrite = runtime is not null;
        }

        if (lane is null
            && (frame is null || frame.InboundBaggage.Count == 0)
            && options.RuntimeBaggage is null
            && (existing.Count == 0 || !BaggageParser.MentionsKey(existing, key))
            && (!runtimeMayWrite || !OutboundBaggage.ActivityHas(activity, key)))
        {
            // No lane and nothing to forward or to remove: the call goes as it is (the usual case outside requests).
            return;
        }

        var value = OutboundBaggage.Build(key, lane, existing, frame, options.Baggage ?? OpenTelemetry.Baggage.Current, runtime, settings.MaxLength, options.UntrustedBaggage);
        if (existing.Count > 0)
        {
            carrier.Remove(BaggageParser.HeaderName);
        }

        if (value is not null)
        {
            carrier.SetValue(BaggageParser.HeaderName, value);
        }
        else if (runtimeMayWrite)
        {
            // Nothing to send, but the runtime would write its Activity baggage (with the lane member a client sent)
            // into an absent header: an empty one stops it.
            carrier.SetValue(BaggageParser.HeaderName, string.Empty);
        }
    }

    /// <summary>
    /// The carriers other languages' tracers forward (docs/polyglot.md), each written once and replaced when the call
    /// carries another value: with a lane, <c>tracestate</c> gets <c>key=lane</c> leftmost over the list the call would
    /// carry (its own, else the trace context's) when the call has a trace context; <c>uberctx-key</c> and
    /// <c>ot-baggage-key</c> are set to the lane, with the <c>ot-tracer-*</c> span context when the call has none. With
    /// no lane, a lane member or header the call carries is removed.
    /// </summary>
    private static void InjectExtraCarriers<TCarrier>(ref TCarrier carrier, LaneSettings settings, string? lane, LaneCallOptions options)
        where TCarrier : struct, ILaneCarrier
    {
        var context = options.TraceContext;
        if (context.TraceId == default && Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            context = activity.Context;
            context = new ActivityContext(context.TraceId, context.SpanId, context.TraceFlags, activity.TraceStateString, context.IsRemote);
        }

        if (settings.Uses(LanePropagators.TraceContext))
        {
            var key = settings.TraceStateKey;
            var existing = carrier.GetValues(TraceState.HeaderName);
            var basis = existing.Count > 0 ? existing : new StringValues(context.TraceState);
            var traced = context.TraceId != default || carrier.GetValues(TraceParent.HeaderName).Count > 0;
            string? value = null;
            var write = false;
            if (lane is not null && traced)
            {
                write = !(existing.Count == 1 && existing[0] is { } one && TraceState.StartsWithLaneMember(one, key, lane) && !MentionsAfterFirst(one, key));
                if (write)
                {
                    value = basis.Count <= 1 ? TraceState.BuildCached(key, lane, basis.Count == 0 ? null : basis[0]) : TraceState.Build(key, lane, basis);
                }
            }
            else if (basis.Count > 0 && TraceState.Mentions(basis, key))
            {
                write = true;
                value = TraceState.Build(key, null, basis);
            }
            else if (existing.Count == 0 && options.TraceContext.TraceId != default && !string.IsNullOrEmpty(options.TraceContext.TraceState))
            {
                // The caller handed over its trace context (an OpenTelemetry propagator whose own tracestate write was left
                // out, so that Lanes is its one writer): the list goes out as it is.
                carrier.SetValue(TraceState.HeaderName, options.TraceContext.TraceState);
            }

            if (write)
            {
                if (existing.Count > 0)
                {
                    carrier.Remove(TraceState.HeaderName);
                }

                // An empty list stops a propagator that adds tracestate only when absent from forwarding the lane member.
                carrier.SetValue(TraceState.HeaderName, value ?? string.Empty);
            }
        }

        if (settings.Uses(LanePropagators.Jaeger))
        {
            SetOnly(ref carrier, settings.JaegerHeader, lane);
        }

        if (settings.Uses(LanePropagators.OtTrace))
        {
            SetOnly(ref carrier, settings.OtBaggageHeader, lane);
            if (lane is not null && context.TraceId != default && carrier.GetValues(OtTraceIdHeader).Count == 0)
            {
                // The OpenTracing propagator reads ot-baggage-* only beside a span context (64-bit trace id, as it writes).
                carrier.SetValue(OtTraceIdHeader, context.TraceId.ToHexString()[16..]);
                carrier.SetValue(OtSpanIdHeader, context.SpanId.ToHexString());
                carrier.SetValue(OtSampledHeader, (context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "true" : "false");
            }
        }
    }

    /// <summary>The call carries <paramref name="name"/> exactly once with <paramref name="lane"/>, or not at all when there is no lane.</summary>
    private static void SetOnly<TCarrier>(ref TCarrier carrier, string name, string? lane)
        where TCarrier : struct, ILaneCarrier
    {
        var existing = carrier.GetValues(name);
        if (lane is not null && existing.Count == 1 && string.Equals(existing[0], lane, StringComparison.Ordinal))
        {
            return;
        }

        if (existing.Count > 0)
        {
            carrier.Remove(name);
        }

        if (lane is not null)
        {
            // A lane holds only A-Z a-z 0-9 . _ -: percent-encoding (Jaeger) leaves it as it is.
            carrier.SetValue(name, lane);
        }
    }

    private static bool MentionsAfterFirst(string value, string key)
    {
        var comma = value.IndexOf(',', StringComparison.Ordinal);
        return comma >= 0 && TraceState.Mentions(value[(comma + 1)..], key);
    }

    /// <summary>
    /// Removes a lane a caller put in any carrier Lanes knows, configured here or not (docs/polyglot.md, "At the gateway"): the
    /// canonical header and the aliases, the lane key's member of <c>baggage</c> and of <c>tracestate</c>,
    /// <c>uberctx-key</c> and <c>ot-baggage-key</c>; and the key's member from <paramref name="activity"/>'s trace state
    /// and baggage, which the runtime forwards from an inbound request. Every other member is kept as it was. For an
    /// entry that decides the lane itself (the gateway): it calls this after reading the caller's lane, then writes its own.
    /// </summary>
    public void RemoveClientLane<TCarrier>(ref TCarrier carrier, Activity? activity)
        where TCarrier : struct, ILaneCarrier
    {
        var settings = _settings.Current;
        var headers = settings.SourceHeaderArray;
        for (var i = 0; i < headers.Length; i++)
        {
            carrier.Remove(headers[i]);
        }

        carrier.Remove(settings.JaegerHeader);
        carrier.Remove(settings.OtBaggageHeader);
        var key = settings.CarrierKey;
        var baggage = carrier.GetValues(BaggageParser.HeaderName);
        if (baggage.Count > 0 && BaggageParser.MentionsKey(baggage, key))
        {
            var rest = OutboundBaggage.Without(key, baggage);
            carrier.Remove(BaggageParser.HeaderName);
            if (rest is not null)
            {
                carrier.SetValue(BaggageParser.HeaderName, rest);
            }
        }

        var stateKey = settings.TraceStateKey;
        var state = carrier.GetValues(TraceState.HeaderName);
        if (state.Count > 0 && TraceState.Mentions(state, stateKey))
        {
            var rest = TraceState.Build(stateKey, null, state);
            carrier.Remove(TraceState.HeaderName);
            if (rest is not null)
            {
                carrier.SetValue(TraceState.HeaderName, rest);
            }
        }

        if (activity is null)
        {
            return;
        }

        if (activity.TraceStateString is { } activityState && TraceState.Mentions(activityState, stateKey))
        {
            activity.TraceStateString = TraceState.Build(stateKey, null, activityState);
        }

        if (activity.GetBaggageItem(key) is not null)
        {
            activity.SetBaggage(key, null);
        }
    }

    /// <summary>
    /// <see cref="InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/> for a carrier reached through delegates (a
    /// message's header dictionary): <paramref name="getter"/> returns a field's values or null, <paramref name="setter"/>
    /// replaces a field, <paramref name="remover"/> removes one. Pass <c>default</c> <paramref name="options"/> unless a
    /// message should not carry Activity baggage.
    /// </summary>
    public string? InjectCall<TCarrier>(
        TCarrier carrier,
        Func<TCarrier, string, IEnumerable<string>?> getter,
        Action<TCarrier, string, string> setter,
        Action<TCarrier, string> remover,
        LaneCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(getter);
        ArgumentNullException.ThrowIfNull(setter);
        ArgumentNullException.ThrowIfNull(remover);
        if (carrier is null)
        {
            return null;
        }

        var adapter = new DelegateCarrier<TCarrier>(carrier, getter, setter, remover);
        return InjectCall(ref adapter, options);
    }

    /// <summary>
    /// The lane of one outgoing call, by the one outbound rule: a lane the call itself carries (<paramref name="callerSet"/>,
    /// the values of its canonical header) wins and is used when valid; otherwise <see cref="OutboundLane"/>. False: the
    /// call carries no lane (or an invalid one of its own), so nothing is sent and it is routed as a call without a lane.
    /// </summary>
    public bool TryGetCallLane(StringValues callerSet, [NotNullWhen(true)] out string? lane)
        => TryGetCallLane(_settings.Current, LaneContext.CurrentFrame, callerSet, out lane);

    /// <summary>
    /// Resolves the lane of <paramref name="carrier"/> exactly as the middleware resolves a request's:
    /// canonical header, aliases, baggage, trace cache, default lane, with the configured policies. The getter returns the values
    /// of a field, or null; for HTTP-like carriers it should match names case-insensitively.
    /// </summary>
    public LaneResolution Extract<TCarrier>(TCarrier carrier, Func<TCarrier, string, IEnumerable<string>?> getter)
    {
        ArgumentNullException.ThrowIfNull(getter);
        var reader = new LaneResolver.GetterReader<TCarrier>(carrier, getter);
        return _resolver.Resolve(ref reader);
    }

    internal string? GetOutboundLane() => GetOutboundLane(_settings.Current, LaneContext.CurrentFrame);

    private bool TryGetCallLane(LaneSettings settings, LaneContext.Frame? frame, StringValues callerSet, [NotNullWhen(true)] out string? lane)
    {
        if (callerSet.Count > 0)
        {
            return LaneParser.Parse(callerSet, settings.MaxLength, out lane) == LaneParseStatus.Valid;
        }

        lane = GetOutboundLane(settings, frame);
        return CanInject(settings, lane);
    }

    private string? GetOutboundLane(LaneSettings settings, LaneContext.Frame? frame)
    {
        if (frame is not null)
        {
            return frame.Lane;
        }

        if (settings.BaggageKey is not null)
        {
            var fromBaggage = OpenTelemetry.Baggage.Current.GetBaggage(settings.BaggageKey);
            if (fromBaggage is not null && LaneParser.IsValidLane(fromBaggage, settings.MaxLength))
            {
                return fromBaggage;
            }
        }

        var activity = Activity.Current;
        if (activity is { IdFormat: ActivityIdFormat.W3C } && _resolver.TraceCache.TryGet(activity.TraceId, out var cached))
        {
            return cached;
        }

        return null;
    }

    /// <summary>
    /// A lane is sent only when it is valid under this service's options (a <c>LaneContext.Begin</c> lane may be longer
    /// than <see cref="LaneOptions.MaxLength"/>); an invalid one is logged escaped at Debug and not sent.
    /// </summary>
    private bool CanInject(LaneSettings settings, [NotNullWhen(true)] string? lane)
    {
        if (lane is null)
        {
            return false;
        }

        if (LaneParser.IsValidLane(lane, settings.MaxLength))
        {
            return true;
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
#pragma warning disable CA1873 // Guarded by the IsEnabled check above.
            LanesLog.InvalidLaneNotInjected(_logger, LaneParser.Escape(lane));
#pragma warning restore CA1873
        }

        return false;
    }

    /// <summary>An <see cref="ILaneCarrier"/> over delegates.</summary>
    private readonly struct DelegateCarrier<TCarrier>(
        TCarrier carrier,
        Func<TCarrier, string, IEnumerable<string>?> getter,
        Action<TCarrier, string, string> setter,
        Action<TCarrier, string> remover) : ILaneCarrier
    {
        public StringValues GetValues(string name) => new LaneResolver.GetterReader<TCarrier>(carrier, getter).GetValues(name);

        public void SetValue(string name, string value) => setter(carrier, name, value);

        public void Remove(string name) => remover(carrier, name);
    }
}
