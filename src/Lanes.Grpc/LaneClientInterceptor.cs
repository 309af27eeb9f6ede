using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Lanes.W3C;
using Microsoft.Extensions.Primitives;

namespace Lanes.Grpc;

/// <summary>
/// Adds the current lane to every outgoing gRPC call (unary, blocking unary, client streaming, server streaming,
/// duplex): the canonical header as metadata and, with baggage on, one <c>baggage</c> member merged with the call's
/// own <c>baggage</c>, OpenTelemetry <c>Baggage.Current</c> and the Activity baggage the runtime would send. A lane
/// entry the caller put in the call's metadata is kept and is the lane the member repeats. The caller's
/// <see cref="Metadata"/> is never modified (it may be shared between calls): a copy carries the lane. Deadlines,
/// cancellation, write options and other entries are passed on as they were. With no lane, nothing is added.
/// </summary>
public sealed class LaneClientInterceptor : Interceptor
{
    private readonly LanePropagator _propagator;

    /// <summary>Creates the interceptor; from DI it is registered by <c>AddGrpcLanePropagation()</c>.</summary>
    public LaneClientInterceptor(LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        _propagator = propagator;
    }

    /// <inheritdoc/>
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, BlockingUnaryCallContinuation<TRequest, TResponse> continuation)
        => continuation(request, WithLane(context));

    /// <inheritdoc/>
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        => continuation(request, WithLane(context));

    /// <inheritdoc/>
    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation)
        => continuation(WithLane(context));

    /// <inheritdoc/>
    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
        => continuation(request, WithLane(context));

    /// <inheritdoc/>
    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
        => continuation(WithLane(context));

    private ClientInterceptorContext<TRequest, TResponse> WithLane<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class
        where TResponse : class
    {
        var settings = _propagator.Settings;
        var existing = context.Options.Headers;
        var headerKey = settings.Header.ToLowerInvariant();
        var callerSet = existing?.Get(headerKey);
        if (callerSet is { IsBinary: true } || !_propagator.TryGetCallLane(callerSet?.Value, out var lane))
        {
            // Nothing to send, or the caller's own entry is not a valid lane: the call goes as the caller made it.
            return context;
        }

        var headers = new Metadata();
        var baggageKey = settings.BaggageKey;
        var baggage = StringValues.Empty;
        if (existing is not null)
        {
            foreach (var entry in existing)
            {
                if (baggageKey is not null && !entry.IsBinary && string.Equals(entry.Key, BaggageParser.HeaderName, StringComparison.Ordinal))
                {
                    baggage = StringValues.Concat(baggage, entry.Value);
                    continue;
                }

                headers.Add(entry);
            }
        }

        if (callerSet is null)
        {
            headers.Add(headerKey, lane);
        }

        if (baggageKey is not null)
        {
            var merged = OutboundBaggage.Merge(baggageKey, lane, baggage, OpenTelemetry.Baggage.Current, Activity.Current, OutboundBaggage.RuntimePropagator());
            if (merged is not null)
            {
                headers.Add(BaggageParser.HeaderName, merged);
            }
            else
            {
                foreach (var value in baggage)
                {
                    headers.Add(BaggageParser.HeaderName, value!);
                }
            }
        }

        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }
}
