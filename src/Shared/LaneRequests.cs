using System.Diagnostics.CodeAnalysis;
using Lanes.Configuration;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore;

/// <summary>
/// What every Lanes entry point does with a resolved HTTP request, the service middleware and the YARP gateway alike:
/// a rejection becomes 400 <c>application/problem+json</c>; otherwise the request runs in its lane
/// (<see cref="LaneContext.RunAsync{TState}"/>: ambient lane, Activity tags, logging scope, inbound baggage kept for
/// forwarding) with the lane added to ASP.NET Core's own request metrics (<c>http.server.request.duration</c>,
/// attribute <c>lane.name</c>, bounded).
/// </summary>
internal static class LaneRequests
{
    private static readonly Func<(HttpContext Context, RequestDelegate Next), Task> s_next = static s => s.Next(s.Context);

    /// <summary>
    /// Runs <paramref name="next"/> for a request resolved as <paramref name="resolution"/>, or answers the rejection.
    /// With <paramref name="forwardInboundBaggage"/> (a service), the request's <c>baggage</c> members are forwarded as they
    /// came on every call it makes; a proxy whose forwarded request already carries them passes false.
    /// </summary>
    public static Task RunAsync(HttpContext context, RequestDelegate next, LaneResolution resolution, LaneTelemetry telemetry, ILogger logger, bool forwardInboundBaggage = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(telemetry);
        if (resolution.IsRejected)
        {
            return WriteRejectionAsync(context, context.RequestServices.GetLanePropagator().Settings, resolution.Rejection);
        }

        if (resolution.Lane is not null && context.Features.Get<IHttpMetricsTagsFeature>() is { } metricsTags)
        {
            metricsTags.Tags.Add(new(LanesDiagnostics.LaneAttribute, telemetry.MetricLane(resolution.Lane)));
        }

        return LaneContext.RunAsync(resolution, forwardInboundBaggage ? context.Request.Headers.Baggage : default, logger, s_next, (context, next));
    }

    /// <summary>400 <c>application/problem+json</c> naming the headers to send and the rule a lane follows, never the value received.</summary>
    public static Task WriteRejectionAsync(HttpContext context, LaneSettings settings, LaneRejection rejection)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        var headers = settings.Aliases.Length == 0
            ? $"'{settings.Header}'"
            : $"'{settings.Header}' (or an alias: '{string.Join("', '", settings.Aliases)}')";
        var (title, detail) = rejection switch
        {
            LaneRejection.InvalidValue => ("Invalid lane",
                $"The {headers} header holds an invalid lane: use {Parsing.LaneParser.Rule(settings.MaxLength)}, one lane per request."),
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

    [SuppressMessage("Style", "IDE0046", Justification = "Clearer with the exception on its own.")]
    private static LanePropagator GetLanePropagator(this IServiceProvider services)
        => services.GetService(typeof(LanePropagator)) as LanePropagator
           ?? throw new InvalidOperationException("Unable to find the Lanes services. Call 'services.AddLanes()'.");
}
