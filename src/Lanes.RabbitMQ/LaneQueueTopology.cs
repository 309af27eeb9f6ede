using System.Globalization;
using System.Text;
using Lanes.Parsing;
using Lanes.Routing;
using RabbitMQ.Client;

namespace Lanes.RabbitMQ;

/// <summary>
/// The broker objects of one lane-routed message stream named <see cref="Name"/> (docs/behaviour.md, "Messages"), all routing done by
/// RabbitMQ itself:
/// <list type="bullet">
/// <item><c>{name}</c>: a headers exchange, the one publishers send to (any routing key), with the alternate exchange
/// <c>{name}.baseline</c>;</item>
/// <item><c>{name}.lane.{lane}</c>: one durable queue per lane, bound to <c>{name}</c> on <c>x-match: all-with-x</c> and
/// <c>{header}: {lane}</c>, declared by the lane's first consumer and outliving its consumers (<c>all-with-x</c>,
/// RabbitMQ 3.10 and later, because a headers exchange ignores binding keys that start with <c>x-</c> under plain
/// <c>all</c>, and most lane headers do); a lane that falls back (Permissive) has the message TTL
/// <see cref="LaneQueueOptions.FallbackAfter"/> and the baseline exchange as its dead-letter exchange;</item>
/// <item><c>{name}.baseline</c>: a fanout exchange and the baseline queue bound to it: every message no lane queue
/// matched (no lane, an invalid one, a lane with no queue) lands there;</item>
/// <item><c>{name}.dead-letter</c>: a fanout exchange and queue: messages of any queue whose handler failed twice,
/// whose lane was refused, or (Strict) whose lane had no queue, each with its headers and the reason.</item>
/// </list>
/// </summary>
public sealed class LaneQueueTopology
{
    /// <summary>The header that counts a message's failed attempts (a redelivery after a crash is not one).</summary>
    internal const string AttemptHeader = "x-lanes-attempt";

    /// <summary>The header a dead-lettered message carries the reason in.</summary>
    public const string DeadLetterReasonHeader = "x-lanes-dead-letter-reason";

    /// <summary>The header a dead-lettered message carries the queue it came from in.</summary>
    public const string DeadLetterQueueHeader = "x-lanes-dead-letter-queue";

    private const string LaneQueueInfix = ".lane.";
    private const int MaxAmqpName = 255;

    private readonly string[] _declared;

    /// <summary>Describes the topology; nothing is declared until <see cref="DeclareAsync"/>.</summary>
    /// <param name="name">The stream's name, the prefix of every object (1 to 200 characters, no spaces, and short enough that a lane queue's name fits AMQP's 255 bytes: at most 178 bytes with the default lane length of 63).</param>
    /// <param name="propagator">Its settings give the lane header and, unless <see cref="LaneQueueOptions.BaselineLane"/> is set, the baseline lane.</param>
    /// <param name="options">Policy and consumer settings; default: Permissive.</param>
    public LaneQueueTopology(string name, LanePropagator propagator, LaneQueueOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(propagator);
        options ??= new LaneQueueOptions();
        if (name.Length > 200 || name.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException("A lane queue topology's name is 1 to 200 characters with no whitespace (it prefixes exchange and queue names).", nameof(name));
        }

        // AMQP names are at most 255 bytes; the longest one is a lane queue, "{name}.lane.{lane}".
        var maxNameBytes = MaxAmqpName - LaneQueueInfix.Length - propagator.Settings.MaxLength;
        if (Encoding.UTF8.GetByteCount(name) > maxNameBytes)
        {
            throw new ArgumentException(
                maxNameBytes < 1
                ? $"Lanes of up to {propagator.Settings.MaxLength} characters (LaneOptions.MaxLength) leave no room for a lane queue topology's name in AMQP's {MaxAmqpName}-byte queue names: use a MaxLength of at most {MaxAmqpName - LaneQueueInfix.Length - 1}." :
                $"A lane queue topology's name is at most {maxNameBytes} bytes with lanes of up to {propagator.Settings.MaxLength} characters: " +
                $"'{{name}}{LaneQueueInfix}{{lane}}' must fit AMQP's {MaxAmqpName} bytes.",
                nameof(name));
        }

        if (options.Policy is not (LanePolicy.Permissive or LanePolicy.Strict or LanePolicy.Declared))
        {
            throw new ArgumentException($"LaneQueueOptions.Policy {options.Policy} is not supported for queues: use Permissive, Strict or Declared (a queue with no lane routing is a plain queue).", nameof(options));
        }

        var settings = propagator.Settings;
        foreach (var lane in options.DeclaredLanes)
        {
            if (!LaneParser.IsValidLane(lane, settings.MaxLength))
            {
                throw new ArgumentException($"LaneQueueOptions.DeclaredLanes holds '{LaneParser.Escape(lane)}', which is not a lane ({LaneParser.Rule(settings.MaxLength)}).", nameof(options));
            }
        }

        if (options.BaselineLane is { } baseline && !LaneParser.IsValidLane(baseline, settings.MaxLength))
        {
            throw new ArgumentException($"LaneQueueOptions.BaselineLane '{LaneParser.Escape(baseline)}' is not a lane ({LaneParser.Rule(settings.MaxLength)}).", nameof(options));
        }

        if (options.Prefetch == 0)
        {
            throw new ArgumentException("LaneQueueOptions.Prefetch must be at least 1.", nameof(options));
        }

        if (options.DrainTimeout <= TimeSpan.Zero || options.DrainTimeout > LaneQueueOptions.MaxDrainTimeout)
        {
            throw new ArgumentException($"LaneQueueOptions.DrainTimeout must be more than zero and at most {LaneQueueOptions.MaxDrainTimeout.TotalHours} hour.", nameof(options));
        }

        if (options.ForwardRetryDelay <= TimeSpan.Zero || options.MaxForwardRetryDelay < options.ForwardRetryDelay || options.MaxForwardRetryDelay > LaneQueueOptions.MaxDrainTimeout)
        {
            throw new ArgumentException("LaneQueueOptions.ForwardRetryDelay must be more than zero, and MaxForwardRetryDelay at least that and at most 1 hour.", nameof(options));
        }

        if (options.FallbackAfter < TimeSpan.FromMilliseconds(1) || options.FallbackAfter > LaneQueueOptions.MaxFallbackAfter)
        {
            throw new ArgumentException($"LaneQueueOptions.FallbackAfter must be at least 1 ms and at most {LaneQueueOptions.MaxFallbackAfter.TotalHours} hours (RabbitMQ's message TTL).", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(options.TimeProvider, "options.TimeProvider");

        Name = name;
        Options = options;
        Header = settings.Header;
        BaselineLane = options.BaselineLane ?? settings.DefaultLane;
        _declared = [.. options.DeclaredLanes.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The stream's name: the headers exchange publishers send to.</summary>
    public string Name { get; }

    /// <summary>The exchange publishers send to (<see cref="Name"/>).</summary>
    public string Exchange => Name;

    /// <summary>The lane header the bindings match (the settings' canonical header).</summary>
    public string Header { get; }

    /// <summary>The lane the baseline consumers serve; <see langword="null"/>: unlabelled.</summary>
    public string? BaselineLane { get; }

    /// <summary>The options.</summary>
    public LaneQueueOptions Options { get; }

    /// <summary>The baseline exchange and queue.</summary>
    public string BaselineQueue => Name + ".baseline";

    /// <summary>The dead-letter exchange and queue.</summary>
    public string DeadLetterQueue => Name + ".dead-letter";

    /// <summary>
    /// True when <paramref name="lane"/>'s messages wait for its consumers without a limit (Strict, and Declared's
    /// declared lanes); false when they move on to the baseline after <see cref="LaneQueueOptions.FallbackAfter"/>.
    /// </summary>
    public bool LaneWaits(string lane)
        => Options.Policy == LanePolicy.Strict || (Options.Policy == LanePolicy.Declared && Array.IndexOf(_declared, lane) >= 0);

    /// <summary>The queue of <paramref name="lane"/>.</summary>
    public string LaneQueue(string lane) => Name + LaneQueueInfix + lane;

    /// <summary>Declares the exchanges, the baseline and dead-letter queues, and the declared lanes' queues. Idempotent.</summary>
    public async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        await channel.ExchangeDeclareAsync(DeadLetterQueue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterQueue, string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false);

        await channel.ExchangeDeclareAsync(BaselineQueue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        var baseline = QueueArguments();
        baseline["x-dead-letter-exchange"] = DeadLetterQueue;
        await channel.QueueDeclareAsync(BaselineQueue, durable: true, exclusive: false, autoDelete: false, arguments: baseline, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(BaselineQueue, BaselineQueue, string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false);

        await channel.ExchangeDeclareAsync(
            Exchange, ExchangeType.Headers, durable: true, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["alternate-exchange"] = BaselineQueue }, cancellationToken: cancellationToken).ConfigureAwait(false);

        if (Options.Policy != LanePolicy.Permissive)
        {
            foreach (var lane in _declared)
            {
                if (!string.Equals(lane, BaselineLane, StringComparison.Ordinal))
                {
                    await DeclareLaneAsync(channel, lane, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Deletes the exchanges, the baseline and dead-letter queues and the queues of the declared lanes and of
    /// <paramref name="lanes"/>, with their messages (a sample's or a test's clean-up: this loses what they hold).
    /// </summary>
    public async Task DeleteAsync(IChannel channel, IEnumerable<string>? lanes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        foreach (var lane in _declared.Concat(lanes ?? []).Distinct(StringComparer.Ordinal))
        {
            await channel.QueueDeleteAsync(LaneQueue(lane), ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        await channel.ExchangeDeleteAsync(Exchange, ifUnused: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueDeleteAsync(BaselineQueue, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.ExchangeDeleteAsync(BaselineQueue, ifUnused: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueDeleteAsync(DeadLetterQueue, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.ExchangeDeleteAsync(DeadLetterQueue, ifUnused: false, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Declares <paramref name="lane"/>'s queue and binds it to the exchange (a consumer of the lane does this when it
    /// starts). The queue is durable and not auto-deleted, so a crash or a stop of the lane's last consumer leaves its
    /// messages where the lane's next consumer (or, for a lane that falls back, the baseline after
    /// <see cref="LaneQueueOptions.FallbackAfter"/>) takes them.
    /// </summary>
    internal async Task DeclareLaneAsync(IChannel channel, string lane, CancellationToken cancellationToken)
    {
        var arguments = QueueArguments();
        if (!LaneWaits(lane))
        {
            arguments["x-message-ttl"] = (long)Options.FallbackAfter.TotalMilliseconds;
            arguments["x-dead-letter-exchange"] = BaselineQueue;
        }

        await channel.QueueDeclareAsync(LaneQueue(lane), durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueBindAsync(LaneQueue(lane), Exchange, string.Empty, Binding(lane), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Options.Policy}, header {Header})");

    private Dictionary<string, object?> Binding(string lane) => new(StringComparer.Ordinal) { ["x-match"] = "all-with-x", [Header] = lane };

    private Dictionary<string, object?> QueueArguments()
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (Options.SingleActiveConsumer)
        {
            arguments["x-single-active-consumer"] = true;
        }

        return arguments;
    }
}
