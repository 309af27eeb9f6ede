using System.Diagnostics;

namespace Lanes.Http;

/// <summary>
/// Wraps the runtime's <see cref="DistributedContextPropagator"/> so that every HttpClient whose handler
/// injects trace context (<c>new HttpClient()</c>, third-party SDKs) also carries the current lane. The wrapped
/// propagator keeps doing everything it did (traceparent, tracestate, baggage); the lane header is added after
/// it, only when a lane is current and the request does not carry the header already.
/// </summary>
internal sealed class LaneDistributedContextPropagator : DistributedContextPropagator
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

        var lane = LaneContext.Current;
        if (setter is null || carrier is null || !_lanes.CanInject(lane))
        {
            return;
        }

        if (carrier is HttpRequestMessage request && request.Headers.Contains(_header))
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
