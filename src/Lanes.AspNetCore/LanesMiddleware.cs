using System.Diagnostics;
using Lanes.Configuration;
using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore;

/// <summary>
/// Resolves the lane of every request (DESIGN 3), makes it current in <see cref="LaneContext"/> for the rest of
/// the pipeline, tags the server <see cref="Activity"/> with <c>lane</c> and <c>lane.source</c>, and puts the
/// lane in the logging scope. Answers 400 <c>application/problem+json</c> only where a policy rejects.
/// Bad input never throws out of here and is never echoed.
/// </summary>
internal sealed class LanesMiddleware
{
    internal const string LaneTag = LaneRequestPipeline.LaneTag;
    internal const string LaneSourceTag = LaneRequestPipeline.LaneSourceTag;

    private readonly RequestDelegate _next;
    private readonly LaneResolver _resolver;
    private readonly LaneSettings _settings;
    private readonly ILogger _logger;

    public LanesMiddleware(RequestDelegate next, LaneResolver resolver, ILogger<LanesMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _resolver = resolver;
        _settings = resolver.Settings;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var reader = new RequestHeaderReader(context.Request.Headers);
        var resolution = _resolver.Resolve(ref reader);
        if (resolution.IsRejected)
        {
            return LaneRequestPipeline.WriteRejectionAsync(context, _settings, resolution.Rejection);
        }

        return LaneRequestPipeline.RunAsync(context, _next, resolution, _logger);
    }
}
