using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Failover;
using Lanes.ReverseProxy.Shadow;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Routing;

/// <summary>
/// The proxy pipeline step (src/Lanes.ReverseProxy/README.md, "Per request, in this order", step 5): after YARP has filtered destinations by health and before it load
/// balances, narrows <see cref="IReverseProxyFeature.AvailableDestinations"/> to the subset the request's lane selects
/// under the cluster's policy. Everything after it (session affinity, load balancing, retries that re-pick from
/// <c>AvailableDestinations</c>) stays inside that subset. An empty subset is answered here with 503
/// <c>no healthy upstream</c>.
/// </summary>
/// <remarks>
/// Failover (docs/behaviour.md, "Failover"): an attempt that failed before any response came back is sent again through
/// the rest of the pipeline, to the lane's subset without the destinations that refused a connection (those are out):
/// an instance not tried yet when there is one, else one tried before (a reset or a timeout may not repeat, as Envoy's
/// <c>previous_hosts</c> predicate prefers other hosts without giving up the lane); when every instance of the lane
/// refused, the choice the engine makes for the lane without its own instances
/// (<see cref="LaneSubsets{T}.SelectWithoutOwnInstances"/>: Strict answers 503). Any method when nothing reached the
/// instance (connection refused, HTTP/2 REFUSED_STREAM); idempotent methods otherwise; a request body only when it was
/// buffered (<c>MaxBodyBytes</c>); at most the cluster's retries, under its retry budget.
/// </remarks>
internal sealed class LaneSubsetMiddleware
{
    internal const string ServedHeader = "x-lane-served";
    internal const string FallbackHeader = "x-lane-fallback";

    private readonly RequestDelegate _next;
    private readonly LaneClusterRouting _routing;
    private readonly LaneGatewayConfigSource _config;
    private readonly LaneTelemetry _telemetry;
    private readonly LaneGatewayEvents _events;
    private readonly LaneGatewayFailover _failover;
    private readonly ILogger _logger;
    private readonly LaneShadowMirror _shadow;

    public LaneSubsetMiddleware(
        RequestDelegate next,
        LaneClusterRouting routing,
        LaneGatewayConfigSource config,
        LaneTelemetry telemetry,
        LaneGatewayEvents events,
        LaneGatewayFailover failover,
        LaneShadowMirror shadow,
        ILogger<LaneSubsetMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(shadow);
        _shadow = shadow;
        ArgumentNullException.ThrowIfNull(failover);
        ArgumentNullException.ThrowIfNull(logger);
        _failover = failover;
        _logger = logger;
        ArgumentNullException.ThrowIfNull(events);
        _events = events;
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(telemetry);
        _next = next;
        _routing = routing;
        _config = config;
        _telemetry = telemetry;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var cluster = context.GetRouteModel().Cluster;
        var subsets = cluster is null ? null : _routing.GetSubsets(cluster);
        if (subsets is null)
        {
            return _events.HasObservers ? NextAsync(context) : _next(context);
        }

        var lane = LaneContext.Current;
        var choice = subsets.Select(lane);
        var clusterId = cluster!.ClusterId;
        if (LaneContext.IsShadow && LaneRoutingNames.RefusesShadow(lane, choice))
        {
            // A shadow copy is served by its lane's own instances only (docs/behaviour.md, "Shadow lanes").
            _shadow.Refused(clusterId, lane!);
            return NoHealthyUpstreamAsync(context, clusterId, lane, LaneRoutingNames.ShadowDetail(clusterId, lane!));
        }

        var observed = _events.HasObservers;
        _telemetry.Routed(clusterId, lane, choice);

        var config = _config.Current;
        if (config.DebugHeaders)
        {
            DebugHeaders(context, choice);
        }

        if (choice.Instances.Length == 0)
        {
            return NoHealthyUpstreamAsync(context, clusterId, lane, LaneRoutingNames.NoHealthyUpstreamDetail(clusterId, lane, choice, _routing.Settings));
        }

        context.GetReverseProxyFeature().AvailableDestinations = choice.Instances;

        // Shadow lanes: a copy is chosen (and the response teed) before the primary runs, and sent after it finished.
        var copy = config.Shadows.Length == 0 ? null : _shadow.TryStart(context, cluster, subsets, choice, config.Shadows);
        var retries = LaneGatewayFailover.Retries(cluster.Model, config.Failover);
        var primary = retries > 0
            ? WithRetriesAsync(context, cluster, subsets, lane, choice, retries, config, observed)
            : observed ? NextAsync(context) : _next(context);
        return copy is null ? primary : MirroredAsync(primary, copy);
    }

    private static async Task MirroredAsync(Task primary, LaneShadowMirror.ShadowCopy copy)
    {
        var failed = true;
        try
        {
            await primary.ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            await copy.Complete(failed).ConfigureAwait(false);
        }
    }

    private static void DebugHeaders(HttpContext context, LaneChoice<DestinationState> choice)
    {
        var headers = context.Response.Headers;
        if (choice.Served is not null)
        {
            headers[ServedHeader] = choice.Served;
        }

        if (LaneRoutingNames.Get(choice.Reason) is { } reason)
        {
            headers[FallbackHeader] = reason;
        }
    }

    /// <summary>The proxy pipeline, then again for each failed attempt failover may retry (see the remarks of this class).</summary>
    private async Task WithRetriesAsync(
        HttpContext context,
        ClusterState cluster,
        LaneSubsets<DestinationState> subsets,
        string? lane,
        LaneChoice<DestinationState> choice,
        int retries,
        LaneGatewayConfig config,
        bool observed)
    {
        var failover = config.Failover;
        var clusterFailover = _failover.Cluster(cluster.ClusterId);
        clusterFailover.Budget.Request();
        var body = PrepareBody(context, failover.MaxBodyBytes);
        var ownLane = choice.Outcome == LaneRoutingOutcome.Matched;
        List<DestinationState>? tried = null;
        List<DestinationState>? refused = null;
        for (var attempt = 1; ; attempt++)
        {
            await _next(context).ConfigureAwait(false);
            if (observed)
            {
                Observe(context);
            }

            if (context.Features.Get<IForwarderErrorFeature>() is not { } error || context.Response.HasStarted)
            {
                return;
            }

            var failure = LaneGatewayFailover.Classify(error);
            if (failure == LaneAttemptFailure.None)
            {
                return;
            }

            var proxy = context.GetReverseProxyFeature();
            var method = context.Request.Method;
            string outcome;
            if (attempt > retries)
            {
                outcome = LaneFailoverNames.RetriesExhausted;
            }
            else if (failure is LaneAttemptFailure.Reset or LaneAttemptFailure.Timeout && !LaneFailoverSettings.IsIdempotent(method))
            {
                outcome = LaneFailoverNames.NotIdempotent;
            }
            else if (body == Body.Streamed && failure != LaneAttemptFailure.ConnectFailure)
            {
                outcome = LaneFailoverNames.BodyNotBuffered;
            }
            else
            {
                if (proxy.ProxiedDestination is { } failed)
                {
                    (tried ??= []).Add(failed);
                    if (failure == LaneAttemptFailure.ConnectFailure)
                    {
                        (refused ??= []).Add(failed);
                    }
                }

                var next = Next(choice.Instances, refused, tried);
                if (next.Length == 0 && ownLane && LaneContext.IsShadow && lane is not null)
                {
                    // A shadow copy whose lane's instances all refused does not fall back.
                    _failover.Record(clusterFailover, cluster.ClusterId, lane, failure, LaneFailoverNames.LaneExhausted);
                    _shadow.Refused(cluster.ClusterId, lane);
                    ResetForRetry(context, proxy, body);
                    await NoHealthyUpstreamAsync(context, cluster.ClusterId, lane, LaneRoutingNames.ShadowDetail(cluster.ClusterId, lane)).ConfigureAwait(false);
                    return;
                }

                if (next.Length == 0 && ownLane)
                {
                    // Every instance of the lane refused: where the policy sends the lane with none (Strict: 503).
                    ownLane = false;
                    choice = subsets.SelectWithoutOwnInstances(lane);
                    _telemetry.Routed(cluster.ClusterId, lane, choice);
                    if (choice.Instances.Length == 0)
                    {
                        _failover.Record(clusterFailover, cluster.ClusterId, lane, failure, LaneFailoverNames.LaneExhausted);
                        ResetForRetry(context, proxy, body);
                        if (config.DebugHeaders)
                        {
                            DebugHeaders(context, choice);
                        }

                        await NoHealthyUpstreamAsync(context, cluster.ClusterId, lane, LaneRoutingNames.NoHealthyUpstreamDetail(cluster.ClusterId, lane, choice, _routing.Settings)).ConfigureAwait(false);
                        return;
                    }

                    next = Next(choice.Instances, refused, tried);
                }

                if (next.Length == 0)
                {
                    outcome = LaneFailoverNames.LaneExhausted;
                }
                else if (!clusterFailover.Budget.TryRetry(failover.RetryRatio, failover.MinRetriesPerSecond))
                {
                    outcome = LaneFailoverNames.BudgetExhausted;
                }
                else
                {
                    _failover.Record(clusterFailover, cluster.ClusterId, lane, failure, LaneFailoverNames.Retried);
                    if (_logger.IsEnabled(LogLevel.Debug))
                    {
                        LaneFailoverLog.Retrying(_logger, cluster.ClusterId, lane ?? "(none)", proxy.ProxiedDestination?.DestinationId ?? "-", LaneFailoverNames.Get(failure), attempt + 1, choice.Served ?? "-");
                    }

                    ResetForRetry(context, proxy, body);
                    if (config.DebugHeaders)
                    {
                        DebugHeaders(context, choice);
                    }

                    proxy.AvailableDestinations = next;
                    continue;
                }
            }

            _failover.Record(clusterFailover, cluster.ClusterId, lane, failure, outcome);
            LaneFailoverLog.NotRetried(_logger, method, cluster.ClusterId, lane ?? "(none)", LaneFailoverNames.Get(failure), outcome, Hint(outcome));
            return;
        }
    }

    private static string Hint(string outcome) => outcome switch
    {
        LaneFailoverNames.NotIdempotent => "It may have reached the instance, and its method is not idempotent.",
        LaneFailoverNames.BodyNotBuffered => "Its body was not buffered: raise Lanes:Failover:MaxBodyBytes above its Content-Length to retry it.",
        LaneFailoverNames.BudgetExhausted => "The cluster's retry budget is spent (Lanes:Failover:RetryBudgetPercent, MinRetriesPerSecond).",
        LaneFailoverNames.LaneExhausted => "Every destination its lane may use refused a connection.",
        _ => "Its retries are used up (Lanes:Failover:Retries, cluster metadata laneRetries).",
    };

    /// <summary>The request body as failover sees it: none, buffered so it can be sent again, or streamed once.</summary>
    private enum Body
    {
        None,
        Buffered,
        Streamed,
    }

    private static Body PrepareBody(HttpContext context, int maxBytes)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return Body.None;
        }

        if (context.Request.ContentLength is { } length && length <= maxBytes)
        {
            if (length == 0)
            {
                return Body.None;
            }

            context.Request.EnableBuffering(bufferThreshold: (int)length, bufferLimit: maxBytes);
            return Body.Buffered;
        }

        return Body.Streamed;
    }

    private static void ResetForRetry(HttpContext context, IReverseProxyFeature proxy, Body body)
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        proxy.ProxiedDestination = null;
        if (body == Body.Buffered)
        {
            context.Request.Body.Position = 0;
        }
    }

    /// <summary>
    /// Where the next attempt may go: <paramref name="instances"/> without those that <paramref name="refused"/> a
    /// connection, and without those already <paramref name="tried"/> unless no other is left (a failure path only: allocates).
    /// </summary>
    private static DestinationState[] Next(DestinationState[] instances, List<DestinationState>? refused, List<DestinationState>? tried)
    {
        var untried = new List<DestinationState>(instances.Length);
        var usable = new List<DestinationState>(instances.Length);
        foreach (var instance in instances)
        {
            if (refused is not null && refused.Contains(instance))
            {
                continue;
            }

            usable.Add(instance);
            if (tried is null || !tried.Contains(instance))
            {
                untried.Add(instance);
            }
        }

        return untried.Count > 0 ? [.. untried] : [.. usable];
    }

    /// <summary>Runs the rest of the proxy pipeline and tells the gateway's observers about a failed forward (only when some are subscribed).</summary>
    private Task NextAsync(HttpContext context)
    {
        var task = _next(context);
        if (!task.IsCompletedSuccessfully)
        {
            return AwaitedAsync(task, context);
        }

        Observe(context);
        return Task.CompletedTask;
    }

    private async Task AwaitedAsync(Task task, HttpContext context)
    {
        await task.ConfigureAwait(false);
        Observe(context);
    }

    private void Observe(HttpContext context)
    {
        if ((context.Response.StatusCode >= StatusCodes.Status500InternalServerError || context.Features.Get<IForwarderErrorFeature>() is not null)
            && context.GetReverseProxyFeature().ProxiedDestination is { } destination)
        {
            _events.DestinationFailed(destination);
        }
    }

    private static Task NoHealthyUpstreamAsync(HttpContext context, string cluster, string? lane, string detail)
    {
        var problem = TypedResults.Problem(
            detail: detail,
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: LaneRoutingNames.NoHealthyUpstream,
            type: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
            extensions: new Dictionary<string, object?> { ["lane"] = lane, ["cluster"] = cluster });
        return problem.ExecuteAsync(context);
    }
}
