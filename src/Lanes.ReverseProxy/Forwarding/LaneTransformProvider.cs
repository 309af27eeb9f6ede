using Lanes.Http;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Lanes.ReverseProxy.Forwarding;

/// <summary>
/// Adds one request transform to every route (src/Lanes.ReverseProxy/README.md, "Per request, in this order", step 6): the proxied request carries the gateway's lane, written
/// by the one outbound pipeline (<see cref="LanePropagator.InjectCall{TCarrier}(ref TCarrier, LaneCallOptions)"/>): the canonical
/// header set to the lane (Istio <c>set</c>: whatever a client or a route transform put there, and any alias, is
/// replaced), and one <c>baggage</c> value with the lane member first and the client's other members as they came (a
/// client's lane member is never forwarded). It runs after the route's own transforms. When a lane-aware cluster is
/// reached without the subset step, it refuses the request (500) instead of letting YARP balance across lanes.
/// </summary>
internal sealed class LaneTransformProvider : ITransformProvider
{
    private static readonly LaneCallOptions s_clientBaggage = new() { UntrustedBaggage = true };

    private readonly LanePropagator _propagator;
    private readonly LaneClusterRouting _routing;
    private readonly ILogger _logger;
    private readonly Func<RequestTransformContext, ValueTask> _transform;

    public LaneTransformProvider(LanePropagator propagator, LaneClusterRouting routing, ILogger<LaneTransformProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(logger);
        _propagator = propagator;
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
        if (!_routing.SubsetStepInstalled
            && http.GetRouteModel().Cluster is { } cluster
            && _routing.GetSubsets(cluster) is not null)
        {
            LaneGatewayLog.SubsetStepMissing(_logger, cluster.ClusterId);
            return new ValueTask(TypedResults.Problem(
                detail: "The gateway is misconfigured: lane subset selection is not in the proxy pipeline (proxy.UseLaneSubsets()).",
                statusCode: StatusCodes.Status500InternalServerError,
                title: "Lane routing unavailable").ExecuteAsync(http));
        }

        var headers = context.ProxyRequest.Headers;
        var settings = _propagator.Settings;
        headers.Remove(settings.Header);
        foreach (var alias in settings.Aliases)
        {
            headers.Remove(alias);
        }

        var carrier = new HttpRequestLaneCarrier(headers);
        _propagator.InjectCall(ref carrier, s_clientBaggage);
        return ValueTask.CompletedTask;
    }
}
