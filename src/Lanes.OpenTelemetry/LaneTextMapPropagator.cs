using Lanes.Resolution;
using Microsoft.Extensions.Primitives;
using OpenTelemetry.Context.Propagation;

namespace Lanes;

/// <summary>
/// The lane as an OpenTelemetry <see cref="TextMapPropagator"/>, for <see cref="CompositeTextMapPropagator"/>: any
/// OpenTelemetry-instrumented carrier (messaging, custom) then carries the lane, and an instrumented consumer
/// restores it.
/// </summary>
/// <remarks>
/// <para><b>Inject</b> runs the one outbound pipeline (<see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/>)
/// over a carrier it can only write to: the canonical header set to the current lane, and the whole <c>baggage</c>
/// field (the lane member first, then the request's members as they arrived and the context's baggage), with a
/// setter that replaces. It writes <c>baggage</c> itself, so it is the one writer of that field:
/// <c>AddOpenTelemetry().WithLanes()</c> (this package) registers and composes it so that the other
/// propagators' <c>baggage</c> output is not written, and routes HttpClient requests through <c>Lanes.Http</c>, which
/// can read what the request already carries.</para>
/// <para><b>Extract</b> resolves the lane like the middleware (header, aliases, baggage, trace cache, default) and
/// returns the context with the lane member set in its baggage. Outside a request or scope, an outgoing call
/// carries the lane member of <c>Baggage.Current</c>, so a consumer that sets <c>Baggage.Current</c> from the
/// extracted context (the usual OpenTelemetry pattern) forwards the lane with no Lanes code.</para>
/// </remarks>
public sealed class LaneTextMapPropagator : TextMapPropagator
{
    private readonly LanePropagator _lanes;

    /// <summary>Creates the propagator over <paramref name="lanes"/> (from DI, or <see cref="LanePropagator.Create"/>).</summary>
    public LaneTextMapPropagator(LanePropagator lanes)
    {
        ArgumentNullException.ThrowIfNull(lanes);
        _lanes = lanes;
    }

    /// <inheritdoc />
    public override ISet<string> Fields => new HashSet<string>(_lanes.Fields, StringComparer.OrdinalIgnoreCase);

    /// <summary>The propagator this one reads and writes through.</summary>
    public LanePropagator Lanes => _lanes;

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        ArgumentNullException.ThrowIfNull(setter);
        if (carrier is null)
        {
            return;
        }

        var writeOnly = new WriteOnlyCarrier<T>(carrier, setter);
        _lanes.InjectCall(ref writeOnly, new LaneCallOptions { Baggage = context.Baggage, ExcludeActivityBaggage = true, TraceContext = context.ActivityContext });
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

    /// <summary>A carrier OpenTelemetry lets us write (replace) but not read: it holds nothing Lanes must keep.</summary>
    private readonly struct WriteOnlyCarrier<T>(T carrier, Action<T, string, string> setter) : ILaneCarrier
    {
        public StringValues GetValues(string name) => StringValues.Empty;

        public void SetValue(string name, string value) => setter(carrier, name, value);

        public void Remove(string name)
        {
        }
    }
}
