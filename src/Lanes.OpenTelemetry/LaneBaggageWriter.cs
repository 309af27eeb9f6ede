using Lanes.Http;
using OpenTelemetry.Context.Propagation;

namespace Lanes.OpenTelemetry;

/// <summary>
/// The default OpenTelemetry propagator with Lanes as the one writer of <c>baggage</c> and of the lane's other carriers (docs/polyglot.md) (docs/behaviour.md, "W3C baggage"): the previous
/// propagator (trace context, OpenTelemetry's baggage propagator, anything composed in) injects everything but
/// <c>baggage</c>, then Lanes writes the lane header and one <c>baggage</c> value made of the lane member, the request's
/// members as they arrived and the context's baggage. HttpClient requests go through <see cref="HttpRequestLaneCarrier"/>,
/// which reads what the request already carries (a lane header the application set, a <c>baggage</c> the Lanes handler
/// already wrote: then nothing is rewritten); other carriers through <see cref="LaneTextMapPropagator"/>. Extraction is
/// the previous propagator's, then the lane's.
/// </summary>
internal sealed class LaneBaggageWriter : TextMapPropagator
{
    private const string BaggageField = "baggage";

    // Inject is synchronous: the settings of the call in progress, for the filter of the previous propagator's output.
    [ThreadStatic]
    private static Lanes.Configuration.LaneSettings? t_settings;

    private readonly TextMapPropagator _previous;
    private readonly LaneTextMapPropagator _lanes;
    private readonly HashSet<string> _fields;

    public LaneBaggageWriter(TextMapPropagator previous, LaneTextMapPropagator lanes)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(lanes);
        _previous = previous;
        _lanes = lanes;
        _fields = new HashSet<string>(previous.Fields ?? new HashSet<string>(), StringComparer.OrdinalIgnoreCase);
        _fields.UnionWith(lanes.Fields);
    }

    public TextMapPropagator Previous => _previous;

    public override ISet<string> Fields => _fields;

    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        t_settings = _lanes.Lanes.Settings;
        try
        {
            _previous.Inject(context, carrier, WithoutBaggage<T>.For(setter));
        }
        finally
        {
            t_settings = null;
        }

        if (carrier is HttpRequestMessage request)
        {
            var headers = new HttpRequestLaneCarrier(request.Headers);
            _lanes.Lanes.InjectCall(ref headers, new LaneCallOptions { Baggage = context.Baggage, TraceContext = context.ActivityContext });
            return;
        }

        _lanes.Inject(context, carrier, setter);
    }

    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
        => _lanes.Extract(_previous.Extract(context, carrier, getter), carrier, getter);

    /// <summary>
    /// The caller's setter without the <c>baggage</c> field; the wrapper of the last setter seen is reused (instrumentations
    /// pass a static one). The pair is one object, published by one reference write, so a thread never sees the setter
    /// of one call with the wrapper of another.
    /// </summary>
    private static class WithoutBaggage<T>
    {
        private static Pair? s_last;

        public static Action<T, string, string> For(Action<T, string, string> setter)
        {
            if (Volatile.Read(ref s_last) is { } last && ReferenceEquals(last.Setter, setter))
            {
                return last.Filtered;
            }

            Action<T, string, string> filtered = (carrier, key, value) =>
            {
                if (!Owned(key))
                {
                    setter(carrier, key, value);
                }
            };
            Volatile.Write(ref s_last, new Pair(setter, filtered));
            return filtered;
        }

        /// <summary>
        /// The fields Lanes writes as the one writer: <c>baggage</c>, and the lane's Jaeger and OpenTracing baggage headers
        /// when those carriers are configured (a composed Jaeger propagator writes <c>uberctx-*</c> from the same baggage), and
        /// <c>tracestate</c> with <c>tracecontext</c> configured: Lanes writes the context's list, its lane member leftmost.
        /// </summary>
        private static bool Owned(string key)
        {
            if (string.Equals(key, BaggageField, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            var settings = t_settings;
            return settings is not null
                && ((settings.Uses(LanePropagators.TraceContext) && string.Equals(key, "tracestate", StringComparison.OrdinalIgnoreCase))
                    || (settings.Uses(LanePropagators.Jaeger) && string.Equals(key, settings.JaegerHeader, StringComparison.OrdinalIgnoreCase))
                    || (settings.Uses(LanePropagators.OtTrace) && string.Equals(key, settings.OtBaggageHeader, StringComparison.OrdinalIgnoreCase)));
        }

        private sealed record Pair(Action<T, string, string> Setter, Action<T, string, string> Filtered);
    }
}
