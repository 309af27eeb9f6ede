using System.Diagnostics;
using Lanes.W3C;
using OpenTelemetry;

namespace Lanes.Http;

/// <summary>
/// Wraps the runtime's <see cref="DistributedContextPropagator"/> so that every HttpClient whose handler
/// injects trace context (<c>new HttpClient()</c>, third-party SDKs) also carries the current lane. The wrapped
/// propagator keeps doing everything it did (traceparent, tracestate, baggage); the lane header is added after
/// it, only when a lane is current and the request does not carry the header already; on an HttpRequestMessage the
/// <c>baggage</c> lane member is merged into whatever the request holds by then.
/// </summary>
internal sealed class LaneDistributedContextPropagator : DistributedContextPropagator, IWrappingPropagator
{
    private readonly DistributedContextPropagator _inner;
    private readonly LanePropagator _lanes;
    private readonly string _header;
    private readonly IReadOnlyCollection<string> _fields;

    public LaneDistributedContextPropagator(DistributedContextPropagator inner, LanePropagator lanes)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(lanes);
        _inner = inner;
        _lanes = lanes;
        _header = lanes.HeaderName;
        var fields = new List<string>(inner.Fields);
        if (!fields.Contains(_header, StringComparer.OrdinalIgnoreCase))
        {
            fields.Add(_header);
        }

        _fields = fields.AsReadOnly();
    }

    public DistributedContextPropagator Inner => _inner;

    public override IReadOnlyCollection<string> Fields => _fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        _inner.Inject(activity, carrier, setter);

        if (carrier is HttpRequestMessage request)
        {
            // Runs last (after OpenTelemetry's listener and the inner propagator), so the request holds everything
            // they wrote: merge the lane member into it. The inner propagator's output is already on the request.
            _lanes.ApplyTo(request, runtime: null, Baggage.Current);
            return;
        }

        var lane = _lanes.GetOutboundLane();
        if (setter is null || carrier is null || !_lanes.CanInject(lane))
        {
            return;
        }

        setter(carrier, _header, lane);
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
        => _inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
        => _inner.ExtractBaggage(carrier, getter);
}
