using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy;

/// <summary>Log events of the gateway, ids 100 and up (core uses 1 to 99; settings reloads are core's 20 and 21, routing decisions 30 and 31).</summary>
internal static partial class LaneGatewayLog
{
    [LoggerMessage(102, LogLevel.Information, "Client lane '{Lane}' dropped under Lanes:Trust AcceptDeclared: no cluster and no service under Lanes:Services declares it or has an instance of it, and it is not in Lanes:KnownLanes. The request goes on without it (colouring rules, then the default lane). Lanes this gateway admits: {Declared}. To admit '{Lane}', add it to Lanes:KnownLanes, declare it on a cluster (metadata 'lanes') or on its service under Lanes:Services, or give one of their instances that lane. Logged once per lane every {Interval}; lanes.rejected counts every drop (reason undeclared).")]
    public static partial void UndeclaredLaneDropped(ILogger logger, string lane, string declared, TimeSpan interval);

    [LoggerMessage(103, LogLevel.Debug, "Lane '{Lane}' assigned by colouring rule {Rule}.")]
    public static partial void Coloured(ILogger logger, string lane, int rule);

    [LoggerMessage(106, LogLevel.Error, "Cluster '{Cluster}' uses lanes but the proxy pipeline skipped lane subset selection: add proxy.UseLaneSubsets() before UseLoadBalancing() in MapReverseProxy(...). The request was refused rather than routed across lanes.")]
    public static partial void SubsetStepMissing(ILogger logger, string cluster);

    [LoggerMessage(107, LogLevel.Warning, "This gateway accepts the lane any client sends (Lanes:Trust Accept) and listens beyond loopback ({Addresses}): any client can put itself in any lane, and that lane reaches every hop and queue. Set Lanes:Trust to AcceptDeclared (only lanes some cluster declares) or Ignore (only the gateway's colouring rules assign lanes), and let chosen clients in with Lanes:Colouring rules.")]
    public static partial void AcceptOnPublicListener(ILogger logger, string addresses);

    /// <remarks>Every value is configuration.</remarks>
    [LoggerMessage(109, LogLevel.Information, "Lane gateway: lane header '{Header}' (aliases: {Aliases}), default lane {DefaultLane}, trust {Trust}, {Rules} colouring rule(s). Set Lanes:Preset (mspider, nsf), Lanes:Header, Lanes:DefaultLane, Lanes:Trust and Lanes:Colouring to change them; services behind the gateway must read the same header.")]
    public static partial void SettingsInForce(ILogger logger, string header, string aliases, string defaultLane, LaneTrust trust, int rules);

    [LoggerMessage(108, LogLevel.Debug, "Request sent on without a lane under Lanes:Trust AcceptDeclared or Ignore: it continues in a new trace, linked to the client's, so a replayed traceparent cannot restore a lane behind the gateway.")]
    public static partial void NewTrace(ILogger logger);
}
