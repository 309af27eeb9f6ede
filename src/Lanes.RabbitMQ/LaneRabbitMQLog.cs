using Microsoft.Extensions.Logging;

namespace Lanes.RabbitMQ;

/// <summary>Log events of lane-aware consumers (ids 501–508; 505 is retired).</summary>
internal static partial class LaneRabbitMQLog
{
    [LoggerMessage(EventId = 501, EventName = "MessageLaneRejected", Level = LogLevel.Warning,
        Message = "A message on {Queue} was dead-lettered: its lane was refused ({Rejection}).")]
    public static partial void Rejected(ILogger logger, string queue, LaneRejection rejection);

    [LoggerMessage(EventId = 502, EventName = "MessageLaneWithoutQueue", Level = LogLevel.Warning,
        Message = "A message of lane '{Lane}' reached the baseline queue {Queue} under Strict (the lane has no queue); dead-lettered.")]
    public static partial void StrictDeadLettered(ILogger logger, string lane, string queue);

    [LoggerMessage(EventId = 509, EventName = "ShadowMessageDeadLettered", Level = LogLevel.Warning,
        Message = "A shadow copy of lane '{Lane}' reached the baseline queue {Queue} (the lane has no consumer); dead-lettered, the baseline does not handle it.")]
    public static partial void ShadowDeadLettered(ILogger logger, string lane, string queue);

    [LoggerMessage(EventId = 503, EventName = "MessageHandlerFailed", Level = LogLevel.Error,
        Message = "The handler failed for a message on {Queue} (lane '{Lane}'); {Action}.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string queue, string? lane, string action);

    [LoggerMessage(EventId = 504, EventName = "MessageLaneHeaderNotText", Level = LogLevel.Debug,
        Message = "A message on {Queue} has the lane header {Header} as {Type}, not text; it is ignored.")]
    public static partial void HeaderNotText(ILogger logger, string queue, string header, string type);

    [LoggerMessage(EventId = 506, EventName = "LaneConsumerDrainTimedOut", Level = LogLevel.Warning,
        Message = "{Count} handler(s) on {Queue} did not finish within {Timeout}; cancelled, their messages go back to the queue for the lane's next consumer (or the baseline after FallbackAfter).")]
    public static partial void DrainTimedOut(ILogger logger, string queue, TimeSpan timeout, int count);

    [LoggerMessage(EventId = 507, EventName = "LaneConsumerDrainCutShort", Level = LogLevel.Warning,
        Message = "Stopping {Queue} was cut short with {Count} handler(s) running; cancelled, their messages go back to the queue for the lane's next consumer (or the baseline after FallbackAfter).")]
    public static partial void DrainCutShort(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 508, EventName = "MessageForwardFailed", Level = LogLevel.Error,
        Message = "A message on {Queue} could not be forwarded to {Destination} (not confirmed); it goes back to its queue in {Delay}, and only the forward is tried again.")]
    public static partial void ForwardFailed(ILogger logger, Exception exception, string queue, string destination, TimeSpan delay);
}
