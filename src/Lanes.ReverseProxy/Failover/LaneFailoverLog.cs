using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy.Failover;

/// <summary>Log events of gateway failover, ids 120 and up (docs/behaviour.md, "Failover").</summary>
internal static partial class LaneFailoverLog
{
    [LoggerMessage(120, LogLevel.Warning, "Destination '{Destination}' of cluster '{Cluster}' (lane {Lane}) left its subset for {Period} ({Reason}); requests of its lane go to the lane's other instances, then where the cluster's policy sends the lane.")]
    public static partial void Ejected(ILogger logger, string destination, string cluster, string lane, string reason, TimeSpan period);

    [LoggerMessage(121, LogLevel.Information, "Request {Method} to cluster '{Cluster}' (lane {Lane}) failed before any response ({Reason}) and was not retried: {Outcome}. {Hint}")]
    public static partial void NotRetried(ILogger logger, string method, string cluster, string lane, string reason, string outcome, string hint);

    [LoggerMessage(122, LogLevel.Debug, "Request to cluster '{Cluster}' (lane {Lane}) failed before any response at destination '{Destination}' ({Reason}); attempt {Attempt} goes to subset {Subset}.")]
    public static partial void Retrying(ILogger logger, string cluster, string lane, string destination, string reason, int attempt, string subset);
}
