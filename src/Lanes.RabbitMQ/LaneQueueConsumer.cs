using Lanes.Parsing;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ;

/// <summary>
/// One consumer of a <see cref="LaneQueueTopology"/>: of a lane (its queue, declared and bound when it starts) or of the
/// baseline (the baseline queue). Each message's lane is read from its headers as untrusted input
/// (<see cref="LaneChannelExtensions.ExtractLane"/>) and the handler runs in that
/// lane (<see cref="LaneContext.RunAsync{TState}"/>: every call it makes carries the lane, its logs have it in scope). A
/// message is acknowledged after the handler completes (at least once); a failing handler's message is tried once more
/// (re-published to its queue with an attempt count, confirmed, then acknowledged), then dead-lettered with its reason.
/// Nothing is acknowledged before the broker has confirmed where it went next, so no crash loses a message. The
/// consumer has its own channel (with publisher confirms) on the connection it is given.
/// </summary>
public sealed class LaneQueueConsumer : IAsyncDisposable
{
    private readonly IChannel _channel;
    private readonly LaneQueueTopology _topology;
    private readonly LanePropagator _propagator;
    private readonly Func<LaneMessage, CancellationToken, Task> _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Unforwarded> _unforwarded = new(StringComparer.Ordinal);
    private string _consumerTag = string.Empty;
    private int _forwardFailures;
    private int _inFlight;
    private int _stopped;
    private volatile bool _closing;

    // Handlers' acknowledgements and forwards on the channel in progress, and the signal that the last one ended after
    // closing began: the channel is closed only when none is, because a frame the broker gets on a channel it closed
    // is a connection error (504 "expected 'channel.open'") that closes every channel of the connection, the
    // application's publishers included (found under stress-ng: issue 42).
    private int _settling;
    private readonly TaskCompletionSource _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Messages remembered as "only the forward is left" at most (beyond that, a handler may run again: at-least-once).</summary>
    private const int MaxRemembered = 1024;

    private LaneQueueConsumer(IChannel channel, LaneQueueTopology topology, string? lane, LanePropagator propagator, Func<LaneMessage, CancellationToken, Task> handler, ILogger logger)
    {
        _channel = channel;
        _topology = topology;
        _propagator = propagator;
        _handler = handler;
        _logger = logger;
        Lane = lane;
        Queue = lane is null ? topology.BaselineQueue : topology.LaneQueue(lane);
    }

    /// <summary>The lane this consumer serves; <see langword="null"/> for a baseline consumer.</summary>
    public string? Lane { get; }

    /// <summary>The queue it consumes.</summary>
    public string Queue { get; }

    /// <summary>
    /// Starts a consumer of <paramref name="lane"/> (<see langword="null"/>, or the topology's baseline lane: a baseline
    /// consumer). A lane consumer declares its lane's queue and binds it, so from then on the lane's messages come to it,
    /// with whatever the lane's queue kept while the lane had no consumer.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="lane"/> is not a valid lane.</exception>
    public static async Task<LaneQueueConsumer> StartAsync(
        IConnection connection,
        LaneQueueTopology topology,
        string? lane,
        LanePropagator propagator,
        Func<LaneMessage, CancellationToken, Task> handler,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(handler);
        if (lane is not null && !LaneParser.IsValidLane(lane, propagator.Settings.MaxLength))
        {
            throw new ArgumentException($"'{LaneParser.Escape(lane)}' is not a lane ({LaneParser.Rule(propagator.Settings.MaxLength)}).", nameof(lane));
        }

        if (string.Equals(lane, topology.BaselineLane, StringComparison.Ordinal))
        {
            lane = null;
        }

        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken).ConfigureAwait(false);
        var consumer = new LaneQueueConsumer(channel, topology, lane, propagator, handler, logger ?? NullLogger.Instance);
        try
        {
            await channel.BasicQosAsync(0, topology.Options.Prefetch, global: false, cancellationToken).ConfigureAwait(false);
            if (lane is not null)
            {
                await topology.DeclareLaneAsync(channel, lane, cancellationToken).ConfigureAwait(false);
            }

            consumer._consumerTag = await channel.BasicConsumeAsync(consumer.Queue, autoAck: false, new Dispatcher(consumer), cancellationToken).ConfigureAwait(false);
            return consumer;
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Leaves gracefully: stops taking messages, waits up to <see cref="LaneQueueOptions.DrainTimeout"/> (or until
    /// <paramref name="cancellationToken"/>, the host's shutdown) for the handlers in progress, cancels those still
    /// running, and closes its channel. Every message it had not acknowledged goes back to its queue, where the lane's
    /// next consumer takes it or, for a lane that falls back, the baseline after
    /// <see cref="LaneQueueOptions.FallbackAfter"/>: nothing is lost, and the queue stays bound, so the lane's new
    /// messages wait the same way. Idempotent; never throws for a connection that went away.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            if (_channel.IsOpen)
            {
                await _channel.BasicCancelAsync(_consumerTag, noWait: false, cancellationToken).ConfigureAwait(false);
            }

            if (Interlocked.Decrement(ref _inFlight) >= 0)   // the stop's own count: 0 means no handler runs
            {
                await _idle.Task.WaitAsync(_topology.Options.DrainTimeout, _topology.Options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            LaneRabbitMQLog.DrainTimedOut(_logger, Queue, _topology.Options.DrainTimeout, Volatile.Read(ref _inFlight) + 1);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LaneRabbitMQLog.DrainCutShort(_logger, Queue, Volatile.Read(ref _inFlight) + 1);
        }
        catch (Exception ex) when (!_channel.IsOpen && ex is not OutOfMemoryException)
        {
            // The connection went: the broker has already given back what this consumer held.
        }
        finally
        {
            _closing = true;
            await _stopping.CancelAsync().ConfigureAwait(false);         // handlers still running see it; their messages go back
            await SettledAsync().ConfigureAwait(false);                  // no acknowledgement or forward still on the channel
            if (_channel.IsOpen)
            {
                try
                {
                    await _channel.CloseAsync(CancellationToken.None).ConfigureAwait(false);   // requeues what it had not acknowledged
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && !_channel.IsOpen)
                {
                    // Closed under us by the connection going away: the broker requeued the same.
                }
            }

            await _channel.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Enters a handler's use of the channel; false once closing has begun (then nothing is sent: the close gives the message back).</summary>
    private bool TryEnterChannel()
    {
        Interlocked.Increment(ref _settling);                           // a full fence: the read below sees a close that began
        if (_closing)
        {
            ExitChannel();
            return false;
        }

        return true;
    }

    private void ExitChannel()
    {
        if (Interlocked.Decrement(ref _settling) == 0 && _closing)
        {
            _settled.TrySetResult();
        }
    }

    /// <summary>Waits, after closing began, until no handler uses the channel (at most the drain timeout, on the options' clock).</summary>
    private async Task SettledAsync()
    {
        Interlocked.MemoryBarrier();                                    // _closing is written before _settling is read
        if (Volatile.Read(ref _settling) == 0)
        {
            return;
        }

        try
        {
            await _settled.Task.WaitAsync(_topology.Options.DrainTimeout, _topology.Options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LaneRabbitMQLog.DrainTimedOut(_logger, Queue, _topology.Options.DrainTimeout, Volatile.Read(ref _settling));
        }
    }

    private async Task HandleAsync(ulong deliveryTag, bool redelivered, string exchange, string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (_closing)
            {
                return;                                   // not acknowledged: closing the channel gives it back
            }

            if (!_unforwarded.IsEmpty && _unforwarded.TryGetValue(KeyOf(properties, body), out var left))
            {
                // Its handler already ran (and failed) or it was refused: only the forward is left to do.
                await ForwardAsync(deliveryTag, properties, body, left.Exchange, left.RoutingKey, left.Added).ConfigureAwait(false);
                return;
            }

            var headers = new DecodedHeaders(properties.Headers);
            if (headers.HasNonText(_topology.Header, out var type))
            {
                LaneRabbitMQLog.HeaderNotText(_logger, Queue, _topology.Header, type!);
            }

            var resolution = LaneMessageHeaders.Extract(_propagator, headers);
            if (resolution.IsRejected)
            {
                LaneRabbitMQLog.Rejected(_logger, Queue, resolution.Rejection);
                await DeadLetterAsync(deliveryTag, properties, body, $"lane refused: {resolution.Rejection}").ConfigureAwait(false);
                return;
            }

            if (Lane is null && _topology.Options.Policy == LanePolicy.Strict && resolution.Lane is { } lane
                && resolution.Source is not (LaneSource.Default or LaneSource.None)
                && !string.Equals(lane, _topology.BaselineLane, StringComparison.Ordinal))
            {
                // Strict: a lane's messages never fall back. This one's lane had no queue when it was published.
                LaneRabbitMQLog.StrictDeadLettered(_logger, lane, Queue);
                await DeadLetterAsync(deliveryTag, properties, body, "lane has no queue (Strict)").ConfigureAwait(false);
                return;
            }

            if (Lane is null && resolution.IsShadow && resolution.Lane is { } shadowLane
                && !string.Equals(shadowLane, _topology.BaselineLane, StringComparison.Ordinal))
            {
                // A shadow copy never reaches the baseline (docs/behaviour.md, "Shadow lanes"), whatever the policy:
                // its lane had no queue, or no consumer within FallbackAfter.
                LaneRabbitMQLog.ShadowDeadLettered(_logger, shadowLane, Queue);
                await DeadLetterAsync(deliveryTag, properties, body, "shadow copy of a lane without a consumer").ConfigureAwait(false);
                return;
            }

            var message = new LaneMessage(resolution, Lane, Queue, deliveryTag, redelivered, exchange, routingKey, properties, body);
            try
            {
                await LaneContext.RunAsync(resolution, headers.GetValues("baggage"), _logger, static s => s.Handler(s.Message, s.Token), (Handler: _handler, Message: message, Token: _stopping.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;                                   // stopped, not failed: it goes back without spending its retry
            }
            catch (Exception ex)
            {
                // A redelivery after a crash is not a failure: only the attempt header counts them.
                var failedBefore = headers.Get(LaneQueueTopology.AttemptHeader) is not null;
                LaneRabbitMQLog.HandlerFailed(_logger, ex, Queue, resolution.Lane, failedBefore ? "dead-lettered (it failed before)" : "tried once more");
                if (failedBefore)
                {
                    await DeadLetterAsync(deliveryTag, properties, body, $"handler failed twice: {ex.GetType().Name}").ConfigureAwait(false);
                }
                else
                {
                    await ForwardAsync(deliveryTag, properties, body, string.Empty, Queue, (LaneQueueTopology.AttemptHeader, "1")).ConfigureAwait(false);
                }

                return;
            }

            if (!TryEnterChannel())
            {
                return;                                   // closing: not acknowledged, the close gives it back (at-least-once)
            }

            try
            {
                await _channel.BasicAckAsync(deliveryTag, multiple: false).ConfigureAwait(false);
            }
            finally
            {
                ExitChannel();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && (_closing || !_channel.IsOpen))
        {
            // The channel closed under the message: the broker gives it back, nothing to do here.
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) < 0)
            {
                _idle.TrySetResult();                     // the last handler after StopAsync began
            }
        }
    }

    /// <summary>Sends the message to the dead-letter exchange with the reason, then acknowledges it.</summary>
    private Task DeadLetterAsync(ulong deliveryTag, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, string reason)
        => ForwardAsync(deliveryTag, properties, body, _topology.DeadLetterQueue, string.Empty, (LaneQueueTopology.DeadLetterReasonHeader, reason), (LaneQueueTopology.DeadLetterQueueHeader, Queue));

    /// <summary>
    /// Publishes a copy of the message (its properties and headers, plus <paramref name="added"/>) and acknowledges the
    /// original only once the broker has confirmed the copy; if the copy is not confirmed, the original goes back to
    /// its queue instead, so the message is never in neither place.
    /// </summary>
    private async Task ForwardAsync(ulong deliveryTag, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, string exchange, string routingKey, params (string Key, string Value)[] added)
    {
        if (!TryEnterChannel())
        {
            return;                                       // closing: the close gives the original back
        }

        try
        {
            await ForwardOnChannelAsync(deliveryTag, properties, body, exchange, routingKey, added).ConfigureAwait(false);
        }
        finally
        {
            ExitChannel();
        }
    }

    private async Task ForwardOnChannelAsync(ulong deliveryTag, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, string exchange, string routingKey, (string Key, string Value)[] added)
    {
        var headers = properties.Headers is null ? new Dictionary<string, object?>(StringComparer.Ordinal) : new Dictionary<string, object?>(properties.Headers, StringComparer.Ordinal);
        foreach (var (key, value) in added)
        {
            headers[key] = value;
        }

        var copy = new BasicProperties(properties) { Headers = headers };
        try
        {
            await _channel.BasicPublishAsync(exchange, routingKey, mandatory: true, copy, body).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && _channel.IsOpen)
        {
            // Not confirmed: the message goes back to its queue, after a wait that doubles with each forward in a row that
            // fails (on the options' clock), remembering that only the forward is left so the handler does not run again.
            var failures = Interlocked.Increment(ref _forwardFailures);
            var delay = ForwardDelay(failures);
            LaneRabbitMQLog.ForwardFailed(_logger, ex, Queue, exchange.Length == 0 ? routingKey : exchange, delay);
            if (_unforwarded.Count < MaxRemembered)
            {
                _unforwarded[KeyOf(properties, body)] = new Unforwarded(exchange, routingKey, added);
            }

            try
            {
                await Task.Delay(delay, _topology.Options.TimeProvider, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopping: it goes back now.
            }

            await _channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true).ConfigureAwait(false);
            return;
        }

        Volatile.Write(ref _forwardFailures, 0);
        if (!_unforwarded.IsEmpty)
        {
            _unforwarded.TryRemove(KeyOf(properties, body), out _);
        }

        await _channel.BasicAckAsync(deliveryTag, multiple: false).ConfigureAwait(false);
    }

    /// <summary><see cref="LaneQueueOptions.ForwardRetryDelay"/> doubled for each failure in a row after the first, at most <see cref="LaneQueueOptions.MaxForwardRetryDelay"/>.</summary>
    private TimeSpan ForwardDelay(int failures)
    {
        var options = _topology.Options;
        var delay = options.ForwardRetryDelay;
        for (var i = 1; i < failures && delay < options.MaxForwardRetryDelay; i++)
        {
            delay += delay;
        }

        return delay < options.MaxForwardRetryDelay ? delay : options.MaxForwardRetryDelay;
    }

    /// <summary>A message's identity across redeliveries: its message id, else a hash of its body.</summary>
    private static string KeyOf(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
        => properties.MessageId is { Length: > 0 } id ? "id:" + id : "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body.Span));

    /// <summary>Where a message whose handler is done still has to go.</summary>
    private sealed record Unforwarded(string Exchange, string RoutingKey, (string Key, string Value)[] Added);

    private sealed class Dispatcher(LaneQueueConsumer owner) : AsyncDefaultBasicConsumer(owner._channel)
    {
        public override Task HandleBasicDeliverAsync(
            string consumerTag,
            ulong deliveryTag,
            bool redelivered,
            string exchange,
            string routingKey,
            IReadOnlyBasicProperties properties,
            ReadOnlyMemory<byte> body,
            CancellationToken cancellationToken = default)
            => owner.HandleAsync(deliveryTag, redelivered, exchange, routingKey, properties, body);
    }
}
