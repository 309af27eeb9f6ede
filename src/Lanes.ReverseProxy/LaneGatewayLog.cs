using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy;

/// <summary>Log events of the gateway, ids 100 and up (core uses 1 to 99).</summary>
internal static partial class LaneGatewayLog
{
    [LoggerMessage(100, LogLevel.Information, "Lane gateway settings reloaded.")]
    public static partial void GatewayConfigReloaded(ILogger logger);

    [LoggerMessage(101, LogLevel.Error, "Lane gateway settings change refused; the last good settings stay in force. {Reason}")]
    public static partial void GatewayConfigRefused(ILogger logger, string reason);

    [LoggerMessage(102, LogLevel.Debug, "Client lane '{Lane}' dropped: no cluster declares it (trust AcceptDeclared).")]
    public static partial void UndeclaredLaneDropped(ILogger logger, string lane);

    [LoggerMessage(103, LogLevel.Debug, "Lane '{Lane}' assigned by colouring rule {Rule}.")]
    public static partial void Coloured(ILogger logger, string lane, int rule);

    [LoggerMessage(104, LogLevel.Warning, "Colouring rule {Rule} timed out matching a regular expression; it counts as not matching.")]
    public static partial void ColouringRegexTimeout(ILogger logger, int rule);

    [LoggerMessage(105, LogLevel.Warning, "No healthy upstream in cluster '{Cluster}' for lane '{Lane}' (policy {Policy}).")]
    public static partial void NoHealthyUpstream(ILogger logger, string cluster, string lane, string policy);

    [LoggerMessage(106, LogLevel.Error, "Cluster '{Cluster}' uses lanes but the proxy pipeline skipped lane subset selection: add proxyPipeline.UseLanes() before UseLoadBalancing() in MapReverseProxy(...). The request was refused rather than routed across lanes.")]
    public static partial void SubsetStepMissing(ILogger logger, string cluster);
}
