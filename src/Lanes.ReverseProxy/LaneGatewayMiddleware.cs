using Lanes.AspNetCore;
using Lanes.Resolution;
using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy;

/// <summary>
/// The gateway's entry (src/Lanes.ReverseProxy/README.md, "Per request, in this order", steps 1 to 4), run before routing so route matches see the result: trust, alias
/// normalisation, colouring rules, default lane. The request then carries only the canonical header, set to the
/// lane (or no lane header at all), and the lane is current in <see cref="LaneContext"/>, tagged on the Activity
/// and in the logging scope, as in every Lanes service (<see cref="LaneRequests"/>): an <c>app.UseLanes()</c> later in
/// the pipeline sees the request already run by this entry (<see cref="LaneContext.InRequest"/>) and does not resolve or count it again.
/// </summary>
internal sealed class LaneGatewayMiddleware
{
    private readonly RequestDelegate _next;
    private readonly LaneResolver _resolver;
    private readonly LaneTelemetry _telemetry;
    private readonly LaneGatewayConfigSource _config;
    private readonly LaneClusterRouting _routing;
    private readonly LaneObservedLanes _observed;
    private readonly ILogger _logger;

    public LaneGatewayMiddleware(
        RequestDelegate next,
        LaneResolver resolver,
        LaneTelemetry telemetry,
        LaneGatewayConfigSource config,
        LaneClusterRouting routing,
        LaneObservedLanes observed,
        ILogger<LaneGatewayMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(logger);
        _observed = observed;
        _next = next;
        _resolver = resolver;
        _telemetry = telemetry;
        _config = config;
        _routing = routing;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var settings = _resolver.Settings;
        var decision = LaneGatewayEntry.Decide(context, _config.Current, _resolver, _routing, _logger);
        var resolution = decision.Resolution;
        _resolver.Record(resolution);
        if (resolution.IsRejected)
        {
            return LaneRequests.WriteRejectionAsync(context, settings, resolution.Rejection);
        }

        decision.Rule?.Hit();
        if (resolution.Lane is { } lane)
        {
            _observed.Observe(lane);
        }

        // Normalise before routing: route matches on the canonical header see the lane, whatever the client sent.
        LaneGatewayEntry.Normalise(context.Request.Headers, settings, resolution.Lane);

        // The client's baggage reaches the proxied request through YARP's header copy (and the lane step rewrites it
        // there), so the frame does not hold it again.
        return LaneRequests.RunAsync(context, _next, resolution, _telemetry, _logger, forwardInboundBaggage: false);
    }
}
