using System.Diagnostics;
using Lanes.ReverseProxy.Failover;
using Lanes.ReverseProxy.Routing;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Lanes.ReverseProxy.Forwarding;

/// <summary>
/// YARP's client factory with one change, the one step YARP forces on Lanes: its handler's
/// <see cref="SocketsHttpHandler.ActivityHeadersPropagator"/> (YARP's <c>ReverseProxyPropagator</c>) removes
/// <c>baggage</c> and writes the Activity's, which would undo the value the lane transform wrote. The wrapper keeps that
/// value: the inner propagator still writes trace context, its <c>baggage</c> write is dropped, and the transform's value
/// is put back as it was (not parsed again). Without an Activity the runtime does not call it, and the transform's
/// header goes out as it is.
/// </summary>
/// <remarks>
/// It also puts the attempt timeout of failover (<see cref="LaneAttemptTimeoutHandler"/>) in every cluster's handler chain;
/// the handler does nothing for a cluster that does not route by lane.
/// </remarks>
internal sealed class LaneForwarderHttpClientFactory(
    ILogger<ForwarderHttpClientFactory> logger,
    LaneGatewayFailover failover,
    LaneClusterRouting routing,
    TimeProvider time) : ForwarderHttpClientFactory(logger)
{
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
        => new LaneAttemptTimeoutHandler(base.WrapHandler(context, handler), context.ClusterId, failover, routing, time);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (handler.ActivityHeadersPropagator is { } inner)
        {
            handler.ActivityHeadersPropagator = new KeepLaneBaggagePropagator(inner);
        }
    }

    internal sealed class KeepLaneBaggagePropagator(DistributedContextPropagator inner) : DistributedContextPropagator
    {
        private const string Baggage = "baggage";

        // Inject is synchronous: the original setter lives on the calling thread for its duration.
        [ThreadStatic]
        private static PropagatorSetterCallback? t_setter;

        private static readonly PropagatorSetterCallback s_withoutBaggage = static (carrier, key, value) =>
        {
            if (!string.Equals(key, Baggage, StringComparison.OrdinalIgnoreCase))
            {
                t_setter?.Invoke(carrier, key, value);
            }
        };

        public DistributedContextPropagator Inner => inner;

        public override IReadOnlyCollection<string> Fields => inner.Fields;

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
        {
            if (carrier is not HttpRequestMessage request || !request.Headers.NonValidated.TryGetValues(Baggage, out var values))
            {
                inner.Inject(activity, carrier, setter);
                return;
            }

            string? written = null;
            foreach (var value in values)
            {
                written = value;
            }

            t_setter = setter;
            try
            {
                inner.Inject(activity, carrier, s_withoutBaggage);
            }
            finally
            {
                t_setter = null;
            }

            request.Headers.Remove(Baggage);
            if (!string.IsNullOrEmpty(written))
            {
                request.Headers.TryAddWithoutValidation(Baggage, written);
            }
        }

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
            => inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
            => inner.ExtractBaggage(carrier, getter);
    }
}
