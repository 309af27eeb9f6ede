using Lanes.W3C;
using OpenTelemetry.Context.Propagation;

namespace Lanes;

/// <summary>
/// The lane as an OpenTelemetry <see cref="TextMapPropagator"/>, for <see cref="CompositeTextMapPropagator"/>: any
/// OpenTelemetry-instrumented carrier (HttpClient, messaging, custom) then carries the lane, and an instrumented
/// consumer restores it.
/// </summary>
/// <remarks>
/// <para><b>Inject</b> writes the canonical header and, with baggage on, the whole <c>baggage</c> field: the lane
/// member first, then the context's baggage. Put it after <see cref="BaggagePropagator"/> in the composite (the
/// Lanes OpenTelemetry extension does): with a setter that replaces (OpenTelemetry's HttpClient instrumentation, a
/// dictionary), the result is one <c>baggage</c> with one lane member. On an <see cref="HttpRequestMessage"/> a lane
/// header set by application code is kept, exactly as <c>AddLanePropagation()</c> does.</para>
/// <para><b>Extract</b> resolves the lane like the middleware (header, aliases, baggage, trace cache, default) and
/// returns the context with the lane member set in its baggage. Outside a request or scope, an outgoing call
/// carries the lane member of <c>Baggage.Current</c>, so a consumer that sets <c>Baggage.Current</c> from the
/// extracted context (the usual OpenTelemetry pattern) forwards the lane with no Lanes code.</para>
/// </remarks>
public sealed class LaneTextMapPropagator : TextMapPropagator
{
    private readonly LanePropagator _lanes;
    private readonly ISet<string> _fields;

    /// <summary>Creates the propagator over <paramref name="lanes"/> (from DI, or <see cref="LanePropagator.Create"/>).</summary>
    public LaneTextMapPropagator(LanePropagator lanes)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        _lanes = lanes;
        _fields = new HashSet<string>(lanes.Fields, StringComparer.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public override ISet<string> Fields => _fields;

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        if (carrier is null)
        {
            return;
        }

        if (carrier is HttpRequestMessage request)
        {
            _lanes.ApplyTo(request, OutboundBaggage.RuntimePropagator(), context.Baggage);
            return;
        }

        var lane = _lanes.GetOutboundLane();
        if (!_lanes.CanInject(lane))
        {
            return;
        }

        var settings = _lanes.Settings;
        setter(carrier, settings.Header, lane);
        if (settings.BaggageKey is not null)
        {
            var merged = OutboundBaggage.Merge(settings.BaggageKey, lane, default, context.Baggage, activity: null, runtime: null);
            if (merged is not null)
            {
                setter(carrier, BaggageParser.HeaderName, merged);
            }
        }
    }

    /// <inheritdoc />
    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        ArgumentNullException.ThrowIfNull(getter);
        var key = _lanes.Settings.BaggageKey;
        if (carrier is null || key is null)
        {
            return context;
        }

        var resolution = _lanes.Extract(carrier, getter);
        return resolution.Lane is null
            ? context
            : new PropagationContext(context.ActivityContext, context.Baggage.SetBaggage(key, resolution.Lane));
    }
}
