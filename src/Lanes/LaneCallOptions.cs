namespace Lanes;

/// <summary>How <see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/> treats the Activity baggage of a call.</summary>
public readonly struct LaneCallOptions
{
    /// <summary>
    /// Leave the current Activity's baggage out of the <c>baggage</c> written: for carriers that would never have
    /// carried it (a message whose transport has no runtime propagator). Default: merged, as the runtime's
    /// <c>DistributedContextPropagator</c> would have sent it on an HTTP call.
    /// </summary>
    public bool ExcludeActivityBaggage { get; init; }

    /// <summary>
    /// The <c>baggage</c> value the runtime's propagator produced for this call, for a wrapper that kept the runtime
    /// from writing it (so Lanes is the one writer): merged instead of asking the runtime again.
    /// </summary>
    public string? RuntimeBaggage { get; init; }

    /// <summary>
    /// The call's own <c>baggage</c> came from a client, not from application code (a proxy forwarding a request): a
    /// lane member in it is never kept, even for a call without a lane. The gateway sets it.
    /// </summary>
    public bool UntrustedBaggage { get; init; }

    /// <summary>
    /// The trace context of the call when a propagator writes it from a context of its own (an OpenTelemetry
    /// <c>PropagationContext</c>) rather than <see cref="System.Diagnostics.Activity.Current"/>: <c>tracestate</c> and the
    /// <c>ot-tracer-*</c> span context (carriers <c>tracecontext</c> and <c>ottrace</c>) are written from it. Default: the current Activity's.
    /// </summary>
    public System.Diagnostics.ActivityContext TraceContext { get; init; }

    /// <summary>The OpenTelemetry baggage of the call (an OpenTelemetry propagator's context); default <c>Baggage.Current</c>.</summary>
    public OpenTelemetry.Baggage? Baggage { get; init; }
}
