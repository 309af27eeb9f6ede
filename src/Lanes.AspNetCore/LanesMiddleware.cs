using System.Diagnostics;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.AspNetCore;

/// <summary>
/// Resolves the lane of every request (DESIGN 3), makes it current in <see cref="LaneContext"/> for the rest of
/// the pipeline, tags the server <see cref="Activity"/> with <c>lane</c> and <c>lane.source</c>, and puts the
/// lane in the logging scope. Answers 400 <c>application/problem+json</c> only where a policy rejects.
/// Bad input never throws out of here and is never echoed.
/// </summary>
internal sealed class LanesMiddleware
{
    internal const string LaneTag = "lane";
    internal const string LaneSourceTag = "lane.source";

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
        var reader = new HeaderReader(context.Request.Headers);
        var resolution = _resolver.Resolve(ref reader);
        if (resolution.IsRejected)
        {
            return WriteRejectionAsync(context, resolution.Rejection);
        }

        if (resolution.Lane is not null)
        {
            var activity = Activity.Current;
            if (activity is not null)
            {
                activity.SetTag(LaneTag, resolution.Lane);
                activity.SetTag(LaneSourceTag, LaneSourceNames.Get(resolution.Source));
            }
        }

        return InvokeWithLaneAsync(context, resolution);
    }

    private async Task InvokeWithLaneAsync(HttpContext context, LaneResolution resolution)
    {
        // Always set a frame, even an empty one, so nothing ambient from outside the request is visible in it.
        var frame = resolution.Lane is null ? LaneContext.Frame.Empty : new LaneContext.Frame(resolution.Lane, resolution.Source);
        var previous = LaneContext.Swap(frame);
        try
        {
            if (resolution.Lane is null)
            {
                await _next(context).ConfigureAwait(false);
                return;
            }

            using (_logger.BeginScope(new LaneLogScope(resolution.Lane, resolution.Source)))
            {
                await _next(context).ConfigureAwait(false);
            }
        }
        finally
        {
            LaneContext.Restore(previous);
        }
    }

    private Task WriteRejectionAsync(HttpContext context, LaneRejection rejection)
    {
        var headers = _settings.Aliases.Length == 0
            ? $"'{_settings.Header}'"
            : $"'{_settings.Header}' (or an alias: '{string.Join("', '", _settings.Aliases)}')";
        var (title, detail) = rejection switch
        {
            LaneRejection.InvalidValue => ("Invalid lane",
                $"The {headers} header holds an invalid lane: use 1 to {_settings.MaxLength} characters of A-Z a-z 0-9 . _ -, one lane per request."),
            LaneRejection.UnknownLane => ("Unknown lane", $"The lane in the {headers} header is not one of the lanes this service knows."),
            _ => ("Lane required", $"This service requires a lane: send the {headers} header."),
        };

        var problem = TypedResults.Problem(
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            title: title,
            type: "https://tools.ietf.org/html/rfc9110#section-15.5.1");
        return problem.ExecuteAsync(context);
    }

    private readonly struct HeaderReader(IHeaderDictionary headers) : ILaneValueReader
    {
        public StringValues GetValues(string name) => headers[name];
    }
}
