using Lanes.Parsing;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ;

/// <summary>
/// One consumer of a <see cref="LaneQueueTopology"/>: of a lane (its queue, declared and bound when it starts) or of the
/// baseline (the baseline queue). Each message's lane is read from its headers as untrusted input
/// (<see cref="LaneMessageHeaders.Extract(LanePropagator, IReadOnlyBasicProperties)"/>) and the handler runs in that
/// lane (<see cref="LaneContext.RunAsync{TState}"/>: every call it makes carries the lane, its logs have it in scope). A
/// message is acknowledged after the handler completes (at least once); a failing handler's message is requeued once,
/// then dead-lettered. The consumer has its own channel on the connection it is given.
/// </summary>
public sealed class LaneQueueConsumer : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly LaneQueueTopology _topology;
    private readonly LanePropagator _propagator;
    private readonly Func<LaneMessage, CancellationToken, Task> _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _drainToken;
    private string _consumerTag = string.Empty;
    private int _inFlight;
    private int _stopped;

    private LaneQueueConsumer(IConnection connection, IChannel channel, LaneQueueTopology topology, string? lane, LanePropagator propagator, Func<LaneMessage, CancellationToken, Task> handler, ILogger logger)
    {
        _connection = connection;
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
    /// consumer). A lane consumer declares its lane's queue and binds it, so from then on the lane's messages come to it.
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
        var consumer = new LaneQueueConsumer(connection, channel, topology, lane, propagator, handler, logger ?? NullLogger.Instance);
        try
        {
            await channel.BasicQosAsync(0, topology.Options.Prefetch, global: false, cancellationToken).ConfigureAwait(false);
            if (lane is not null)
            {
                await topology.DeclareLaneAsync(channel, lane, cancellationToken).ConfigureAwait(false);
            }

            consumer._consumerTag = await channel.BasicConsumeAsync(consumer.Queue, autoAck: false, new Dispatcher(consumer), cancellationToken).ConfigureAwait(false);
            if (lane is not null)
            {
                // A last consumer of the lane leaving at this moment may have unbound the queue after the bind above.
                await topology.BindAsync(channel, lane, cancellationToken).ConfigureAwait(false);
            }

            return consumer;
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Leaves gracefully. The last consumer of a Permissive lane first unbinds its queue (new messages of the lane go to
    /// the baseline from that moment), then handles everything already in the queue (a marker it sends to its own queue
    /// tells it when it has seen the last one), then leaves, and the broker deletes the empty queue. Any other consumer
    /// stops taking messages and waits for the handlers in progress. Consumers of one lane leave one at a time (a lock on
    /// the broker and in the process), so when every consumer of a lane stops at once exactly one of them drains. Idempotent.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        // Consumers of a lane leave one at a time (LaneLeaveLock), each cancelling and closing its channel before the
        // next looks: the last one then sees itself alone and drains the queue, even when every replica stops at once.
        LaneLeaveLock.Held? leaving = null;
        try
        {
            // A closed channel (the connection went) has no consumer left on the broker and nothing to drain.
            if (Lane is { } lane && !_topology.LaneQueuesOutliveConsumers(lane) && _channel.IsOpen)
            {
                // The one before may drain for up to DrainTimeout, then cancel and close: wait up to twice that.
                leaving = await LaneLeaveLock.AcquireAsync(_connection, Queue, _topology.Options.DrainTimeout * 2, _logger, cancellationToken).ConfigureAwait(false);
                await LeaveLaneAsync(lane, cancellationToken).ConfigureAwait(false);
            }

            if (_channel.IsOpen)
            {
                await _channel.BasicCancelAsync(_consumerTag, noWait: false, cancellationToken).ConfigureAwait(false);
            }

            while (Volatile.Read(ref _inFlight) > 0)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            if (_channel.IsOpen)
            {
                await _channel.CloseAsync(CancellationToken.None).ConfigureAwait(false);   // requeues what it had not acknowledged
            }

            await _channel.DisposeAsync().ConfigureAwait(false);
            _stopping.Dispose();
            if (leaving is not null)
            {
                await leaving.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task LeaveLaneAsync(string lane, CancellationToken cancellationToken)
    {
        var state = await _channel.QueueDeclarePassiveAsync(Queue, cancellationToken).ConfigureAwait(false);
        if (state.ConsumerCount > 1)
        {
            return;                                          // the lane keeps other consumers; the queue stays bound
        }

        LaneRabbitMQLog.Leaving(_logger, lane, Queue);
        await _topology.UnbindAsync(_channel, lane, cancellationToken).ConfigureAwait(false);
        var token = Guid.NewGuid().ToString("N");
        Volatile.Write(ref _drainToken, token);
        var marker = new BasicProperties { Headers = new Dictionary<string, object?> { [LaneQueueTopology.DrainHeader] = token } };
        await _channel.BasicPublishAsync(string.Empty, Queue, mandatory: false, marker, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        try
        {
            await _drained.Task.WaitAsync(_topology.Options.DrainTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LaneRabbitMQLog.DrainTimedOut(_logger, lane, Queue, _topology.Options.DrainTimeout);
        }

        // A consumer of the lane that started while this one drained keeps the lane: bind the queue again for it.
        state = await _channel.QueueDeclarePassiveAsync(Queue, cancellationToken).ConfigureAwait(false);
        if (state.ConsumerCount > 1)
        {
            await _topology.BindAsync(_channel, lane, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(ulong deliveryTag, bool redelivered, string exchange, string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            var headers = new DecodedHeaders(properties.Headers);
            if (Volatile.Read(ref _drainToken) is { } token && headers.Get(LaneQueueTopology.DrainHeader) is { } marker)
            {
                await _channel.BasicAckAsync(deliveryTag, multiple: false).ConfigureAwait(false);
                if (string.Equals(marker, token, StringComparison.Ordinal))
                {
                    _drained.TrySetResult();
                }

                return;
            }

            if (headers.HasNonText(_topology.Header, out var type))
            {
                LaneRabbitMQLog.HeaderNotText(_logger, Queue, _topology.Header, type!);
            }

            var resolution = LaneMessageHeaders.Extract(_propagator, headers);
            if (resolution.IsRejected)
            {
                LaneRabbitMQLog.Rejected(_logger, Queue, resolution.Rejection);
                await _channel.BasicRejectAsync(deliveryTag, requeue: false).ConfigureAwait(false);
                return;
            }

            if (Lane is null && _topology.Options.Policy == LanePolicy.Strict && resolution.Lane is { } lane
                && resolution.Source is not (LaneSource.Default or LaneSource.None)
                && !string.Equals(lane, _topology.BaselineLane, StringComparison.Ordinal))
            {
                // Strict: a lane's messages never fall back. This one's lane had no queue when it was published.
                LaneRabbitMQLog.StrictDeadLettered(_logger, lane, Queue);
                await _channel.BasicRejectAsync(deliveryTag, requeue: false).ConfigureAwait(false);
                return;
            }

            var message = new LaneMessage(resolution, Lane, Queue, deliveryTag, redelivered, exchange, routingKey, properties, body);
            try
            {
                await LaneContext.RunAsync(resolution, headers.GetValues("baggage"), _logger, static s => s.Handler(s.Message, s.Token), (Handler: _handler, Message: message, Token: _stopping.Token)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                LaneRabbitMQLog.HandlerFailed(_logger, ex, Queue, resolution.Lane, redelivered ? "dead-lettered (it failed before)" : "requeued once");
                await _channel.BasicNackAsync(deliveryTag, multiple: false, requeue: !redelivered).ConfigureAwait(false);
                return;
            }

            await _channel.BasicAckAsync(deliveryTag, multiple: false).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

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
