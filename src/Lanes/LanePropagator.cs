using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net.Http.Headers;
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
/// Injects the lane into, and extracts it from, any carrier: HTTP headers, Kafka or RabbitMQ message headers,
/// a dictionary. Shaped like OpenTelemetry's <c>TextMapPropagator</c> (<see cref="Fields"/>, <c>Inject</c>,
/// <c>Extract</c> with a setter and a getter), so one instance serves every transport.
/// </summary>
/// <remarks>
/// Registered as a singleton by <c>services.AddLanes()</c>; <see cref="Create"/> builds one without DI.
/// Neither method throws for bad input: an invalid lane is not injected, a garbage carrier extracts as no lane.
/// </remarks>
/// <example>
/// <code>
/// // Producer
/// propagator.Inject(message.Headers, static (headers, key, value) => headers[key] = value);
/// // Consumer
/// using (LaneContext.Begin(propagator.Extract(message.Headers,
///     static (headers, key) => headers.TryGetValue(key, out var v) ? [v] : null)))
/// {
///     await HandleAsync(message);
/// }
/// </code>
/// </example>
public sealed class LanePropagator
{
    private readonly LaneSettings _settings;
    private readonly LaneResolver _resolver;
    private readonly ILogger _logger;

    internal LanePropagator(LaneSettings settings, LaneResolver resolver, ILogger<LanePropagator> logger)
    {
        _settings = settings;
        _resolver = resolver;
        _logger = logger;
        var fields = new List<string>(settings.SourceHeaders);
        if (settings.BaggageKey is not null)
        {
            fields.Add(BaggageParser.HeaderName);
        }

        fields.Add(TraceParent.HeaderName);
        Fields = fields.AsReadOnly();
    }

    internal LaneSettings Settings => _settings;

    internal LaneResolver Resolver => _resolver;

    /// <summary>The canonical header, which <c>Inject</c> writes.</summary>
    public string HeaderName => _settings.Header;

    /// <summary>Every field <c>Extract</c> reads: the canonical header, the aliases, <c>baggage</c> (when enabled) and <c>traceparent</c> (for the trace cache).</summary>
    public IReadOnlyCollection<string> Fields { get; }

    /// <summary>Builds a propagator from options, without dependency injection.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message says what to change.</exception>
    public static LanePropagator Create(LaneOptions options, ILoggerFactory? loggerFactory = null)
    {
        var settings = LaneSettings.Create(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        return new LanePropagator(
            settings,
            new LaneResolver(settings, new LaneTraceCache(settings.TraceCacheSize), new LanesMetrics(settings), loggerFactory.CreateLogger<LaneResolver>()),
            loggerFactory.CreateLogger<LanePropagator>());
    }

    /// <summary>
    /// Writes the current lane into <paramref name="carrier"/> under the canonical header; nothing when there is none.
    /// The current lane is <see cref="LaneContext.Current"/> inside a request or scope; outside any, the lane member
    /// of OpenTelemetry <c>Baggage.Current</c>, then the trace cache for the current Activity's trace id.
    /// </summary>
    /// <remarks>Writes the header only. For the <c>baggage</c> member use <see cref="LaneTextMapPropagator"/> with OpenTelemetry.</remarks>
    public void Inject<TCarrier>(TCarrier carrier, Action<TCarrier, string, string> setter)
        => Inject(GetOutboundLane(), carrier, setter);

    /// <summary>Writes <paramref name="lane"/> into <paramref name="carrier"/> under the canonical header; nothing when it is null or invalid.</summary>
    public void Inject<TCarrier>(string? lane, TCarrier carrier, Action<TCarrier, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        if (carrier is null || !CanInject(lane))
        {
            return;
        }

        setter(carrier, _settings.Header, lane);
    }

    /// <summary>
    /// The one outbound rule, shared by <c>Inject</c>, the HttpClient handler and the diagnostics hook: a lane is
    /// sent only when it is valid under this service's options (a <c>LaneContext.Begin</c> lane may be longer
    /// than <see cref="LaneOptions.MaxLength"/>); an invalid one is logged escaped at Debug and not sent.
    /// </summary>
    internal bool CanInject([NotNullWhen(true)] string? lane)
    {
        if (lane is null)
        {
            return false;
        }

        if (LaneParser.IsValidLane(lane, _settings.MaxLength))
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

    /// <summary>
    /// The lane an outgoing call carries now. Inside a request or a <see cref="LaneContext.Begin(string?)"/> scope its
    /// lane is final (even none). Outside any, the ambient fallbacks apply: a valid lane member in OpenTelemetry
    /// <c>Baggage.Current</c> (an OpenTelemetry-instrumented consumer restored it), then the trace cache for the
    /// current Activity's trace id.
    /// </summary>
    internal string? GetOutboundLane()
    {
        var frame = LaneContext.CurrentFrame;
        if (frame is not null)
        {
            return frame.Lane;
        }

        var settings = _settings;
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
    /// Writes the lane onto an outgoing HTTP request: the canonical header unless the request has it (then that value
    /// is the lane), and, with baggage on, the merged <c>baggage</c> header (<see cref="OutboundBaggage"/>).
    /// Shared by the HttpClient handler, the runtime hook and the OpenTelemetry propagator.
    /// </summary>
    /// <param name="request">The outgoing request.</param>
    /// <param name="runtime">The runtime propagator whose Activity baggage output to merge in, or null when it already ran.</param>
    /// <param name="otelBaggage">OpenTelemetry baggage to merge in (usually <c>Baggage.Current</c>).</param>
    internal void ApplyTo(HttpRequestMessage request, DistributedContextPropagator? runtime, OpenTelemetry.Baggage otelBaggage)
    {
        var settings = _settings;
        var headers = request.Headers;
        var callerSet = headers.NonValidated.TryGetValues(settings.Header, out var set) ? ToStringValues(set) : default;
        if (!TryGetCallLane(callerSet, out var lane))
        {
            RemoveInvalidLaneMember(headers, runtime);
            return;
        }

        if (callerSet.Count == 0)
        {
            headers.TryAddWithoutValidation(settings.Header, lane);
        }

        MergeBaggage(headers, lane, runtime, otelBaggage);
    }

    /// <summary>
    /// The lane of one outgoing call, by the one outbound rule shared by HTTP, gRPC and client-side routing: a lane
    /// the caller set on the call (<paramref name="callerSet"/>) wins and is used as it is when valid; otherwise
    /// the ambient lane (<see cref="GetOutboundLane"/>) when <see cref="CanInject"/> accepts it. False: send nothing.
    /// </summary>
    internal bool TryGetCallLane(StringValues callerSet, [NotNullWhen(true)] out string? lane)
    {
        if (callerSet.Count > 0)
        {
            return LaneParser.Parse(callerSet, _settings.MaxLength, out lane) == LaneParseStatus.Valid;
        }

        lane = GetOutboundLane();
        return CanInject(lane);
    }

    /// <summary>
    /// With baggage on, replaces the request's <c>baggage</c> with one lane member first, merged with the members it
    /// had, <paramref name="otelBaggage"/> and (when <paramref name="runtime"/> is given) the Activity baggage the
    /// runtime would write (<see cref="OutboundBaggage"/>).
    /// </summary>
    internal void MergeBaggage(HttpRequestHeaders headers, string lane, DistributedContextPropagator? runtime, OpenTelemetry.Baggage otelBaggage)
    {
        var key = _settings.BaggageKey;
        if (key is null)
        {
            return;
        }

        var hasBaggage = headers.NonValidated.TryGetValues(BaggageParser.HeaderName, out var current);
        var existing = hasBaggage ? ToStringValues(current) : default;
        var merged = OutboundBaggage.Merge(key, lane, existing, otelBaggage, Activity.Current, runtime);
        if (merged is null)
        {
            return;
        }

        if (hasBaggage)
        {
            headers.Remove(BaggageParser.HeaderName);
        }

        headers.TryAddWithoutValidation(BaggageParser.HeaderName, merged);
    }

    /// <summary>
    /// A call with no lane must not pass on a lane member that is not one valid lane (a client's invalid or ambiguous
    /// member, which the runtime copies into Activity baggage): such members are removed from the <c>baggage</c> the
    /// request carries or, when <paramref name="runtime"/> has still to run, from what it would write. Every other
    /// member, and a valid lane member that application code set, is kept. When nothing is left and the runtime has
    /// still to run, an empty <c>baggage</c> header stops it from writing the member back (it only fills absent headers).
    /// </summary>
    private void RemoveInvalidLaneMember(HttpRequestHeaders headers, DistributedContextPropagator? runtime)
    {
        var key = _settings.BaggageKey;
        if (key is null)
        {
            return;
        }

        var hasBaggage = headers.NonValidated.TryGetValues(BaggageParser.HeaderName, out var current);
        if (!hasBaggage && (runtime is null || Activity.Current?.GetBaggageItem(key) is null))
        {
            // Nothing on the request, and the runtime would write no lane member: the usual call, no work.
            return;
        }

        var existing = hasBaggage ? ToStringValues(current) : (StringValues)OutboundBaggage.RuntimeOutput(Activity.Current, runtime);
        if (existing.Count == 0)
        {
            return;
        }

        var lookup = BaggageParser.Find(existing, key, out var value);
        if (lookup == BaggageLookup.NotFound || (lookup == BaggageLookup.Found && LaneParser.IsValidLane(value, _settings.MaxLength)))
        {
            return;
        }

        if (hasBaggage)
        {
            headers.Remove(BaggageParser.HeaderName);
        }

        var rest = OutboundBaggage.Without(key, existing);
        if (rest is not null || runtime is not null)
        {
            headers.TryAddWithoutValidation(BaggageParser.HeaderName, rest ?? string.Empty);
        }
    }

    internal static StringValues ToStringValues(HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            foreach (var value in values)
            {
                return value;
            }
        }

        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }

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
}
