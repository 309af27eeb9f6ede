using System.Diagnostics;

namespace Lanes.Http;

/// <summary>
/// Wraps the runtime's <see cref="DistributedContextPropagator"/> so that every HttpClient whose handler injects trace
/// context (<c>new HttpClient()</c>, third-party SDKs) also carries the current lane. The wrapped propagator keeps
/// writing what it wrote (traceparent, tracestate) except <c>baggage</c> on an <see cref="HttpRequestMessage"/>: its
/// value is handed to the one outbound pipeline, which writes the single <c>baggage</c> (lane member first, then that
/// Activity baggage and the request's own members) and the lane header. On other carriers only the header is added,
/// and on a dictionary carrier (RabbitMQ.Client's message headers, when its publisher Activity injects trace context)
/// a <c>baggage</c> or lane header already there, the one Lanes' publish wrote, is kept rather than overwritten.
/// </summary>
internal sealed class LaneDistributedContextPropagator : DistributedContextPropagator
{
    // Inject is synchronous: the original setter and the captured value live on the calling thread for its duration.
    [ThreadStatic]
    private static PropagatorSetterCallback? t_setter;

    [ThreadStatic]
    private static string? t_baggage;

    private static readonly PropagatorSetterCallback s_withoutBaggage = static (carrier, key, value) =>
    {
        if (string.Equals(key, "baggage", StringComparison.OrdinalIgnoreCase))
        {
            t_baggage = value;
            return;
        }

        t_setter?.Invoke(carrier, key, value);
    };

    // The runtime's propagator writes Activity baggage as "baggage" and the Activity's trace state as "tracestate": on a
    // dictionary that already carries the one Lanes wrote (lane member first), that value stays.
    private static readonly PropagatorSetterCallback s_keepWrittenBaggage = static (carrier, key, value) =>
    {
        if ((string.Equals(key, "baggage", StringComparison.OrdinalIgnoreCase) || string.Equals(key, "tracestate", StringComparison.OrdinalIgnoreCase))
            && carrier is IDictionary<string, object?> written && written.ContainsKey(key))
        {
            return;
        }

        t_setter?.Invoke(carrier, key, value);
    };

    private readonly DistributedContextPropagator _inner;
    private readonly LanePropagator _lanes;
    private readonly IReadOnlyCollection<string> _fields;

    public LaneDistributedContextPropagator(DistributedContextPropagator inner, LanePropagator lanes)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(lanes);
        _inner = inner;
        _lanes = lanes;
        var fields = new List<string>(inner.Fields);
        if (!fields.Contains(lanes.HeaderName, StringComparer.OrdinalIgnoreCase))
        {
            fields.Add(lanes.HeaderName);
        }

        _fields = fields.AsReadOnly();
    }

    public DistributedContextPropagator Inner => _inner;

    public override IReadOnlyCollection<string> Fields => _fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (carrier is HttpRequestMessage request)
        {
            t_setter = setter;
            t_baggage = null;
            try
            {
                _inner.Inject(activity, carrier, s_withoutBaggage);
            }
            finally
            {
                t_setter = null;
            }

            var runtimeBaggage = t_baggage;
            t_baggage = null;
            var headers = new HttpRequestLaneCarrier(request.Headers);
            _lanes.InjectCall(ref headers, runtimeBaggage is null
                ? new LaneCallOptions { ExcludeActivityBaggage = true }
                : new LaneCallOptions { RuntimeBaggage = runtimeBaggage });
            return;
        }

        if (carrier is IDictionary<string, object?> dictionary && setter is not null)
        {
            t_setter = setter;
            try
            {
                _inner.Inject(activity, carrier, s_keepWrittenBaggage);
            }
            finally
            {
                t_setter = null;
            }

            if (dictionary.ContainsKey(_lanes.HeaderName))
            {
                return;                                   // the lane the publisher (or the application) wrote stays
            }
        }
        else
        {
            _inner.Inject(activity, carrier, setter);
        }

        var lane = _lanes.OutboundLane;
        if (setter is not null && carrier is not null && lane is not null)
        {
            setter(carrier, _lanes.HeaderName, lane);
        }
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
        => _inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
        => _inner.ExtractBaggage(carrier, getter);
}
