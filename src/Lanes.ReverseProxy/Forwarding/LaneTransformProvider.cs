using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Lanes.ReverseProxy.Forwarding;

/// <summary>
/// Adds one request transform to every route: the proxied request carries the gateway's lane (<see cref="LaneGatewayOutbound"/>).
/// It runs after the route's own transforms, so the lane header is set last. When a lane-aware cluster is reached
/// without the subset step, it refuses the request (500) instead of letting YARP balance across lanes.
/// </summary>
internal sealed class LaneTransformProvider : ITransformProvider
{
    private readonly LaneGatewayOutbound _outbound;
    private readonly LaneClusterRouting _routing;
    private readonly ILogger _logger;
    private readonly Func<RequestTransformContext, ValueTask> _transform;

    public LaneTransformProvider(LaneGatewayOutbound outbound, LaneClusterRouting routing, ILogger<LaneTransformProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(outbound);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(logger);
        _outbound = outbound;
        _routing = routing;
        _logger = logger;
        _transform = Transform;
    }

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddRequestTransform(_transform);
    }

    private ValueTask Transform(RequestTransformContext context)
    {
        var http = context.HttpContext;
        if (http.Features.Get<LaneSubsetMarker>() is null
            && http.GetRouteModel().Cluster is { } cluster
            && _routing.GetSubsets(cluster) is not null)
        {
            LaneGatewayLog.SubsetStepMissing(_logger, cluster.ClusterId);
            return new ValueTask(TypedResults.Problem(
                detail: "The gateway is misconfigured: lane subset selection is not in the proxy pipeline.",
                statusCode: StatusCodes.Status500InternalServerError,
                title: "Lane routing unavailable").ExecuteAsync(http));
        }

        _outbound.Apply(context.ProxyRequest, LaneContext.Current);
        return ValueTask.CompletedTask;
    }
}
