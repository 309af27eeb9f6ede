using System.Diagnostics;
using Lanes.Resolution;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore;

/// <summary>
/// Resolves the lane of every request (docs/behaviour.md, "Resolution"), makes it current in <see cref="LaneContext"/> for the rest of
/// the pipeline, tags the server <see cref="Activity"/> with <c>lane</c> and <c>lane.source</c>, and puts the
/// lane in the logging scope. Answers 400 <c>application/problem+json</c> only where a policy rejects.
/// Bad input never throws out of here and is never echoed. A request an outer Lanes entry (the gateway's) already
/// resolved and runs (<see cref="LaneContext.InRequest"/>) passes through untouched.
/// </summary>
internal sealed class LanesMiddleware
{
    private readonly RequestDelegate _next;
    private readonly LaneResolver _resolver;
    private readonly LaneTelemetry _telemetry;
    private readonly ILogger _logger;

    public LanesMiddleware(RequestDelegate next, LaneResolver resolver, LaneTelemetry telemetry, ILogger<LanesMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _resolver = resolver;
        _telemetry = telemetry;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (LaneContext.InRequest)
        {
            return _next(context);
        }

        var reader = new HttpHeadersLaneReader(context.Request.Headers);
        var resolution = _resolver.Resolve(ref reader);
        return LaneRequests.RunAsync(context, _next, resolution, _telemetry, _logger);
    }
}
