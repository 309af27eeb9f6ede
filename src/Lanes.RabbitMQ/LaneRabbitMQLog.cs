using Microsoft.Extensions.Logging;

namespace Lanes.RabbitMQ;

/// <summary>Log events of lane-aware consumers (ids 501–506).</summary>
internal static partial class LaneRabbitMQLog
{
    [LoggerMessage(EventId = 501, EventName = "MessageLaneRejected", Level = LogLevel.Warning,
        Message = "A message on {Queue} was dead-lettered: its lane was refused ({Rejection}).")]
    public static partial void Rejected(ILogger logger, string queue, LaneRejection rejection);

    [LoggerMessage(EventId = 502, EventName = "MessageLaneWithoutQueue", Level = LogLevel.Warning,
        Message = "A message of lane '{Lane}' reached the baseline queue {Queue} under Strict (the lane has no queue); dead-lettered.")]
    public static partial void StrictDeadLettered(ILogger logger, string lane, string queue);

    [LoggerMessage(EventId = 503, EventName = "MessageHandlerFailed", Level = LogLevel.Error,
        Message = "The handler failed for a message on {Queue} (lane '{Lane}'); {Action}.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string queue, string? lane, string action);

    [LoggerMessage(EventId = 504, EventName = "MessageLaneHeaderNotText", Level = LogLevel.Debug,
        Message = "A message on {Queue} has the lane header {Header} as {Type}, not text; it is ignored.")]
    public static partial void HeaderNotText(ILogger logger, string queue, string header, string type);

    [LoggerMessage(EventId = 505, EventName = "LaneConsumerLeaving", Level = LogLevel.Information,
        Message = "The last consumer of lane '{Lane}' is leaving {Queue}: unbound, draining, then its messages go to the baseline.")]
    public static partial void Leaving(ILogger logger, string lane, string queue);

    [LoggerMessage(EventId = 506, EventName = "LaneConsumerDrainTimedOut", Level = LogLevel.Warning,
        Message = "Lane '{Lane}' did not drain {Queue} within {Timeout}; leaving anyway (unacknowledged messages are redelivered while the queue exists).")]
    public static partial void DrainTimedOut(ILogger logger, string lane, string queue, TimeSpan timeout);

    [LoggerMessage(EventId = 507, EventName = "LaneConsumerLeaveLockTimedOut", Level = LogLevel.Warning,
        Message = "Could not take the leave lock of {Queue} within {Timeout}; leaving without it (if every consumer of the lane leaves at once, messages still in the queue can be lost).")]
    public static partial void LeaveLockTimedOut(ILogger logger, string queue, TimeSpan timeout);
}
