using System.Diagnostics;
using Lanes.W3C;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Lanes.ReverseProxy.Forwarding;

/// <summary>
/// YARP's client factory with one change: the handler's <see cref="SocketsHttpHandler.ActivityHeadersPropagator"/>
/// (YARP's <c>ReverseProxyPropagator</c>, which removes <c>baggage</c> and writes the Activity's) is wrapped so the
/// lane member is merged back in after it ran. Without an Activity the runtime does not call it, and the header
/// the request transform wrote goes out as it is.
/// </summary>
internal sealed class LaneForwarderHttpClientFactory : ForwarderHttpClientFactory
{
    private readonly LaneGatewayOutbound _outbound;

    public LaneForwarderHttpClientFactory(LaneGatewayOutbound outbound, ILogger<ForwarderHttpClientFactory> logger)
        : base(logger)
    {
        ArgumentNullException.ThrowIfNull(outbound);
        _outbound = outbound;
    }

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (handler.ActivityHeadersPropagator is { } inner && _outbound.Settings.BaggageKey is not null)
        {
            handler.ActivityHeadersPropagator = new LaneForwardingPropagator(inner, _outbound);
        }
    }

    private sealed class LaneForwardingPropagator(DistributedContextPropagator inner, LaneGatewayOutbound outbound)
        : DistributedContextPropagator, IWrappingPropagator
    {
        public DistributedContextPropagator Inner => inner;

        public override IReadOnlyCollection<string> Fields => inner.Fields;

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
        {
            inner.Inject(activity, carrier, setter);
            if (carrier is HttpRequestMessage request)
            {
                outbound.ReapplyBaggage(request);
            }
        }

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
            => inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
            => inner.ExtractBaggage(carrier, getter);
    }
}
