using Grpc.Core;
using Grpc.Core.Interceptors;
using Lanes.Resolution;
using Microsoft.Extensions.Primitives;

namespace Lanes.Grpc;

/// <summary>
/// Adds the current lane to every outgoing gRPC call (unary, blocking unary, client streaming, server streaming,
/// duplex) through the one outbound pipeline (<see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier)"/>): the
/// canonical header as metadata and, with baggage on, one <c>baggage</c> value, the lane member first, merged with the
/// call's own <c>baggage</c>, the inbound request's members, OpenTelemetry <c>Baggage.Current</c> and the Activity
/// baggage the runtime would send. A lane entry the caller put in the call's metadata is kept and is the lane the
/// member repeats (and the lane the <c>lanes</c> balancer routes by). The caller's <see cref="Metadata"/> is never
/// modified (it may be shared between calls): a copy carries the lane. Deadlines, cancellation, write options and
/// other entries are passed on as they were. With no lane, nothing is added.
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
        var headers = new MetadataLaneCarrier(context.Options.Headers);
        _propagator.InjectCall(ref headers);
        return headers.Copy is null
            ? context
            : new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers.Copy));
    }

    /// <summary>
    /// A call's metadata as a Lanes carrier that never modifies the caller's <see cref="Metadata"/>: the first write copies
    /// it, and the call goes out with the copy. gRPC keys are lower case; binary entries are neither read nor written.
    /// </summary>
    private struct MetadataLaneCarrier(Metadata? original) : ILaneCarrier
    {
        public Metadata? Copy { get; private set; }

        private readonly Metadata? Current => Copy ?? original;

        public readonly StringValues GetValues(string name)
        {
            var metadata = Current;
            if (metadata is null)
            {
                return StringValues.Empty;
            }

            var key = name.ToLowerInvariant();
            var values = StringValues.Empty;
            foreach (var entry in metadata)
            {
                if (!entry.IsBinary && string.Equals(entry.Key, key, StringComparison.Ordinal))
                {
                    values = StringValues.Concat(values, entry.Value);
                }
            }

            return values;
        }

        public void SetValue(string name, string value) => Writable().Add(name.ToLowerInvariant(), value);

        public void Remove(string name)
        {
            var key = name.ToLowerInvariant();
            if (Current is not { } metadata || metadata.Get(key) is null)
            {
                return;
            }

            var copy = Writable();
            for (var i = copy.Count - 1; i >= 0; i--)
            {
                if (!copy[i].IsBinary && string.Equals(copy[i].Key, key, StringComparison.Ordinal))
                {
                    copy.RemoveAt(i);
                }
            }
        }

        private Metadata Writable()
        {
            if (Copy is null)
            {
                var copy = new Metadata();
                if (original is not null)
                {
                    foreach (var entry in original)
                    {
                        copy.Add(entry);
                    }
                }

                Copy = copy;
            }

            return Copy;
        }
    }
}
