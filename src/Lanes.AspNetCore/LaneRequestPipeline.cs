using System.Diagnostics;
using Lanes.Caching;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes.AspNetCore;

/// <summary>
/// What every Lanes entry point does with a resolved request, shared by the service middleware and the gateway:
/// the Activity tags, the <see cref="LaneContext"/> frame, the logging scope, and the 400 problem for a rejection.
/// </summary>
internal static class LaneRequestPipeline
{
    internal const string LaneTag = "lane";
    internal const string LaneSourceTag = "lane.source";

    /// <summary>Runs <paramref name="next"/> with the lane current, tagged and in the logging scope; restores the caller's context after.</summary>
    public static Task RunAsync(HttpContext context, RequestDelegate next, LaneResolution resolution, ILogger logger)
    {
        if (resolution.Lane is not null)
        {
            var activity = Activity.Current;
            if (activity is not null)
            {
                activity.SetTag(LaneTag, resolution.Lane);
                activity.SetTag(LaneSourceTag, LaneSourceNames.Get(resolution.Source));
            }
        }

        return RunWithFrameAsync(context, next, resolution, logger);
    }

    private static async Task RunWithFrameAsync(HttpContext context, RequestDelegate next, LaneResolution resolution, ILogger logger)
    {
        // Always set a frame, even an empty one, so nothing ambient from outside the request is visible in it.
        // No restore is needed: this is an async method, so the runtime puts the caller's execution context back
        // when it returns, synchronously or not, and the frame never reaches the caller.
        if (resolution.Lane is null)
        {
            LaneContext.Swap(LaneContext.Frame.Empty);
            await next(context).ConfigureAwait(false);
            return;
        }

        var state = RequestState.Get(resolution.Lane, resolution.Source);
        LaneContext.Swap(state.Frame);
        using (logger.BeginScope(state.LogScope))
        {
            await next(context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The frame and the logging scope of a lane and source, both immutable, cached for the first
    /// 256 combinations so a request of a known lane allocates neither.
    /// </summary>
    private sealed class RequestState(LaneContext.Frame frame, LaneLogScope logScope)
    {
        private static readonly BoundedCache<(string Lane, LaneSource Source), RequestState> s_cache = new(256);

        public LaneContext.Frame Frame { get; } = frame;

        public LaneLogScope LogScope { get; } = logScope;

        public static RequestState Get(string lane, LaneSource source)
            => s_cache.GetOrCreate((lane, source), static k => new RequestState(new LaneContext.Frame(k.Lane, k.Source), new LaneLogScope(k.Lane, k.Source)));
    }

    /// <summary>400 <c>application/problem+json</c> naming the headers to send, never the value received.</summary>
    public static Task WriteRejectionAsync(HttpContext context, LaneSettings settings, LaneRejection rejection)
    {
        var headers = settings.Aliases.Length == 0
            ? $"'{settings.Header}'"
            : $"'{settings.Header}' (or an alias: '{string.Join("', '", settings.Aliases)}')";
        var (title, detail) = rejection switch
        {
            LaneRejection.InvalidValue => ("Invalid lane",
                $"The {headers} header holds an invalid lane: use 1 to {settings.MaxLength} characters of A-Z a-z 0-9 . _ -, one lane per request."),
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
}

/// <summary>Reads lane sources from request headers for <see cref="LaneResolver"/>.</summary>
internal readonly struct RequestHeaderReader(IHeaderDictionary headers) : ILaneValueReader
{
    public StringValues GetValues(string name) => headers[name];
}
