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
/// is put back as it was (not parsed again). The same holds for <c>tracestate</c> when the transform wrote it with the lane
/// member leftmost (carrier <c>tracecontext</c>, docs/polyglot.md). Without an Activity the runtime does not call it, and
/// the transform's headers go out as they are.
/// </summary>
/// <remarks>
/// It also puts the attempt timeout of failover (<see cref="LaneAttemptTimeoutHandler"/>) in every cluster's handler chain;
/// the handler does nothing for a cluster that does not route by lane.
/// </remarks>
internal sealed class LaneForwarderHttpClientFactory(
    ILogger<ForwarderHttpClientFactory> logger,
    LaneGatewayFailover failover,
    LaneClusterRouting routing,
    TimeProvider time,
    LanePropagator lanes) : ForwarderHttpClientFactory(logger)
{
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
        => new LaneAttemptTimeoutHandler(base.WrapHandler(context, handler), context.ClusterId, failover, routing, time);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (handler.ActivityHeadersPropagator is { } inner)
        {
            handler.ActivityHeadersPropagator = new KeepLaneBaggagePropagator(inner, lanes);
        }
    }

    internal sealed class KeepLaneBaggagePropagator(DistributedContextPropagator inner, LanePropagator lanes) : DistributedContextPropagator
    {
        private const string Baggage = "baggage";
        private const string TraceState = "tracestate";

        // Inject is synchronous: the original setter lives on the calling thread for its duration.
        [ThreadStatic]
        private static PropagatorSetterCallback? t_setter;

        private static readonly PropagatorSetterCallback s_withoutBaggage = static (carrier, key, value) =>
        {
            if (!string.Equals(key, Baggage, StringComparison.OrdinalIgnoreCase)
                && !(t_keepTraceState && string.Equals(key, TraceState, StringComparison.OrdinalIgnoreCase)))
            {
                t_setter?.Invoke(carrier, key, value);
            }
        };

        // The transform wrote tracestate with the lane member leftmost (carrier tracecontext): it stays.
        [ThreadStatic]
        private static bool t_keepTraceState;

        public DistributedContextPropagator Inner => inner;

        public override IReadOnlyCollection<string> Fields => inner.Fields;

        public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
        {
            if (carrier is not HttpRequestMessage request)
            {
                inner.Inject(activity, carrier, setter);
                return;
            }

            var laneState = LaneTraceState(request);
            var keepState = laneState is not null;
            var hasBaggage = request.Headers.NonValidated.TryGetValues(Baggage, out var values);
            if (!hasBaggage && !keepState)
            {
                inner.Inject(activity, carrier, setter);
                return;
            }

            string? written = null;
            if (hasBaggage)
            {
                foreach (var value in values)
                {
                    written = value;
                }
            }

            t_setter = setter;
            t_keepTraceState = keepState;
            try
            {
                inner.Inject(activity, carrier, s_withoutBaggage);
            }
            finally
            {
                t_setter = null;
                t_keepTraceState = false;
            }

            if (laneState is not null)
            {
                // YARP's propagator removed every trace-context field before the inner one wrote; the lane's list goes back.
                request.Headers.Remove(TraceState);
                request.Headers.TryAddWithoutValidation(TraceState, laneState);
            }

            if (!hasBaggage)
            {
                return;
            }

            request.Headers.Remove(Baggage);
            if (!string.IsNullOrEmpty(written))
            {
                request.Headers.TryAddWithoutValidation(Baggage, written);
            }
        }

        /// <summary>The request's <c>tracestate</c> when the lane transform wrote it: carrier <c>tracecontext</c>, and its first member is the lane's.</summary>
        private string? LaneTraceState(HttpRequestMessage request)
        {
            var settings = lanes.Settings;
            if (!settings.Uses(LanePropagators.TraceContext)
                || !request.Headers.NonValidated.TryGetValues(TraceState, out var states) || states.Count != 1
                || !request.Headers.NonValidated.TryGetValues(settings.Header, out var lanesSent) || lanesSent.Count != 1)
            {
                return null;
            }

            string state = string.Empty, lane = string.Empty;
            foreach (var value in states)
            {
                state = value;
            }

            foreach (var value in lanesSent)
            {
                lane = value;
            }

            var key = settings.TraceStateKey;
            return state.Length >= key.Length + 1 + lane.Length
                && state.StartsWith(key, StringComparison.Ordinal)
                && state[key.Length] == '='
                && string.CompareOrdinal(state, key.Length + 1, lane, 0, lane.Length) == 0
                && (state.Length == key.Length + 1 + lane.Length || state[key.Length + 1 + lane.Length] == ',')
                ? state
                : null;
        }

        public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
            => inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

        public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
            => inner.ExtractBaggage(carrier, getter);
    }
}
