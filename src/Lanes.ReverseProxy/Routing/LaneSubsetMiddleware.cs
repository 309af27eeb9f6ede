using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Configuration;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
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
internal sealed class LaneSubsetMiddleware
{
    internal const string ServedHeader = "x-lane-served";
    internal const string FallbackHeader = "x-lane-fallback";

    private readonly RequestDelegate _next;
    private readonly LaneClusterRouting _routing;
    private readonly LaneGatewayConfigSource _config;
    private readonly LaneTelemetry _telemetry;
    private readonly LaneDestinationFailures _failures;
    private readonly LaneAdminPaths _admin;

    public LaneSubsetMiddleware(
        RequestDelegate next,
        LaneClusterRouting routing,
        LaneGatewayConfigSource config,
        LaneTelemetry telemetry,
        LaneDestinationFailures failures,
        LaneAdminPaths admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        _admin = admin;
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(failures);
        _failures = failures;
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
            return _admin.Mapped ? NextAsync(context) : _next(context);
        }

        var lane = LaneContext.Current;
        var choice = subsets.Select(lane);
        var clusterId = cluster!.ClusterId;
        var admin = _admin.Mapped;
        if (admin)
        {
            _routing.Count(clusterId, choice);                          // the admin page's per-cluster counts
        }

        _telemetry.Routed(clusterId, lane, choice);

        if (_config.Current.DebugHeaders)
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

        if (choice.Instances.Length == 0)
        {
            return NoHealthyUpstreamAsync(context, clusterId, lane, LaneRoutingNames.NoHealthyUpstreamDetail(clusterId, lane, choice, _routing.Settings));
        }

        context.GetReverseProxyFeature().AvailableDestinations = choice.Instances;
        return admin ? NextAsync(context) : _next(context);
    }

    /// <summary>Runs the rest of the proxy pipeline and counts a failed forward against the destination (the admin page's recent failures; only when it is mapped).</summary>
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
            _failures.Failed(destination);
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
