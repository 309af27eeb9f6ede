using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lanes.Grpc.Routing;

/// <summary>
/// Failover for a lane-routed gRPC channel (docs/behaviour.md, "Failover"), the gRPC way: when the channel has no
/// service config of its own, Lanes gives it one whose retry policy retries every method on <c>UNAVAILABLE</c> (what
/// grpc-dotnet reports for a refused connection, a reset or a GOAWAY before the response, and what a gRPC server
/// answers when it cannot take the call) up to <c>Lanes:Failover:Retries</c> more times. gRPC retries a call only
/// before its response headers came back, and each retry is picked again by the lane picker, which leaves out instances
/// that are not connected: a call to a dead instance goes to another instance of its lane, then where the policy sends
/// the lane. gRPC's retry throttling is the budget: it stops retrying when failures outnumber successes by
/// <c>RetryBudgetPercent</c>. A channel that sets <c>ServiceConfig</c> itself keeps it as it is.
/// </summary>
internal static class LaneGrpcFailover
{
    /// <summary>
    /// The wait before a retry. gRPC needs one above zero; the retry goes to another instance, so there is nothing to
    /// wait for, and 10 ms only keeps a fleet that fails every call from being retried in a tight loop.
    /// </summary>
    private static readonly TimeSpan s_backoff = TimeSpan.FromMilliseconds(10);

    /// <summary>The service config for a lane-routed channel, or null when failover is off (or asks for no retries).</summary>
    public static ServiceConfig? ServiceConfig(IServiceProvider services)
    {
        var options = services.GetService<IOptionsMonitor<LaneFailoverOptions>>()?.CurrentValue ?? new LaneFailoverOptions();
        if (!options.Enabled || options.Retries <= 0)
        {
            return null;
        }

        var ratio = options.RetryBudgetPercent / 100.0;
        return new ServiceConfig
        {
            MethodConfigs =
            {
                new MethodConfig
                {
                    Names = { MethodName.Default },
                    RetryPolicy = new RetryPolicy
                    {
                        MaxAttempts = options.Retries + 1,
                        InitialBackoff = s_backoff,
                        MaxBackoff = s_backoff,
                        BackoffMultiplier = 1,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },

            // gRPC's budget: a token bucket of MaxTokens (one per failure, RetryBudgetPercent of one per success);
            // retries stop below half of it. MinRetriesPerSecond x 10 s sizes it as Lanes' own budget's floor.
            RetryThrottling = ratio > 0
                ? new RetryThrottlingPolicy { MaxTokens = Math.Clamp(options.MinRetriesPerSecond * 10, 2, 1000), TokenRatio = Math.Max(ratio, 0.001) }
                : null,
        };
    }
}
