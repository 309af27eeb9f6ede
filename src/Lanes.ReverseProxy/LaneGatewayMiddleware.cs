using System.Text.RegularExpressions;
using Lanes.AspNetCore;
using Lanes.Resolution;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy;

/// <summary>
/// The gateway's entry (DESIGN 7, steps 1 to 4), run before routing so route matches see the result: trust, alias
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
    private readonly ILogger _logger;

    public LaneGatewayMiddleware(
        RequestDelegate next,
        LaneResolver resolver,
        LaneTelemetry telemetry,
        LaneGatewayConfigSource config,
        LaneClusterRouting routing,
        ILogger<LaneGatewayMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(logger);
        _next = next;
        _resolver = resolver;
        _telemetry = telemetry;
        _config = config;
        _routing = routing;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var config = _config.Current;
        var settings = _resolver.Settings;
        var headers = context.Request.Headers;
        LaneResolution resolution = default;
        if (config.Trust != LaneTrust.Ignore)
        {
            var reader = new HttpHeadersLaneReader(headers);
            resolution = _resolver.ResolveClient(ref reader);
            if (resolution.IsRejected)
            {
                _resolver.Record(resolution);
                return LaneRequests.WriteRejectionAsync(context, settings, resolution.Rejection);
            }

            if (config.Trust == LaneTrust.AcceptDeclared && resolution.Lane is not null && !_routing.IsDeclaredAnywhere(resolution.Lane))
            {
                LaneGatewayLog.UndeclaredLaneDropped(_logger, resolution.Lane);
                resolution = default;
            }
        }

        if (config.Rules.Length > 0 && Colour(context, config, resolution.Lane is not null) is { } coloured)
        {
            resolution = new LaneResolution(coloured, LaneSource.Colouring);
        }

        if (resolution.Lane is null)
        {
            resolution = _resolver.ResolveDefault();
        }

        _resolver.Record(resolution);
        if (resolution.IsRejected)
        {
            return LaneRequests.WriteRejectionAsync(context, settings, resolution.Rejection);
        }

        // Normalise before routing: route matches on the canonical header see the lane, whatever the client sent.
        foreach (var alias in settings.Aliases)
        {
            headers.Remove(alias);
        }

        if (resolution.Lane is null)
        {
            headers.Remove(settings.Header);
        }
        else
        {
            headers[settings.Header] = resolution.Lane;
        }

        // The client's baggage reaches the proxied request through YARP's header copy (and the lane step rewrites it
        // there), so the frame does not hold it again.
        return LaneRequests.RunAsync(context, _next, resolution, _telemetry, _logger, forwardInboundBaggage: false);
    }

    private string? Colour(HttpContext context, LaneGatewayConfig config, bool hasLane)
    {
        var rules = config.Rules;
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            if (hasLane && !rule.Override)
            {
                continue;
            }

            bool matched;
            try
            {
                matched = rule.Matches(context);
            }
            catch (RegexMatchTimeoutException)
            {
                LaneGatewayLog.ColouringRegexTimeout(_logger, rule.Index);
                matched = false;
            }

            if (matched)
            {
                LaneGatewayLog.Coloured(_logger, rule.Lane, rule.Index);
                return rule.Lane;
            }
        }

        return null;
    }
}
