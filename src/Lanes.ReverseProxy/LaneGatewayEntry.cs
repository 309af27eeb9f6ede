using Lanes.AspNetCore;
using Lanes.Resolution;
using Lanes.ReverseProxy.Colouring;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy;

/// <summary>What the entry decided for one request: the lane and its source (or a rejection), and the colouring rule that assigned it.</summary>
/// <param name="Resolution">The lane and its source, or a rejection.</param>
/// <param name="Rule">The colouring rule that assigned the lane, or null.</param>
/// <param name="DroppedLane">The client's lane that trust <see cref="LaneTrust.AcceptDeclared"/> dropped (no cluster or configured service has it), or null.</param>
internal readonly record struct LaneEntryDecision(LaneResolution Resolution, ColouringRule? Rule, string? DroppedLane);

/// <summary>
/// The gateway's entry decision (src/Lanes.ReverseProxy/README.md, "Per request, in this order", steps 1 to 4), with no side effect on the request: trust, colouring rules,
/// default lane. The entry middleware and the admin tracer both call it, so the tracer answers with this code, not a
/// copy of it. Counting and header normalisation are the caller's.
/// </summary>
internal static class LaneGatewayEntry
{
    // preview: the request tracer's call; it reads the trace cache but does not fill it or count invalid values.
    public static LaneEntryDecision Decide(HttpContext context, LaneGatewayConfig config, LaneResolver resolver, LaneClusterRouting routing, ILogger logger, bool preview = false)
    {
        LaneResolution resolution = default;
        string? dropped = null;
        var shadow = false;
        if (config.Trust != LaneTrust.Ignore)
        {
            var reader = new HttpHeadersLaneReader(context.Request.Headers);
            resolution = preview ? resolver.PreviewClient(ref reader) : resolver.ResolveClient(ref reader);
            if (resolution.IsRejected)
            {
                return new LaneEntryDecision(resolution, null, null);
            }

            if (config.Trust == LaneTrust.AcceptDeclared && resolution.Lane is not null && !routing.IsDeclaredAnywhere(resolution.Lane))
            {
                dropped = resolution.Lane;
                resolution = default;
            }

            // The shadow marker is trusted as the client's lane is under Accept (another gateway's copy passing
            // through); otherwise a client cannot make its request a shadow copy (docs/behaviour.md, "Shadow lanes").
            shadow = config.Trust == LaneTrust.Accept && resolution.IsShadow;
        }

        ColouringRule? fired = null;
        if (config.Rules.Length > 0 && Colour(context, config, resolution.Lane is not null, logger) is { } rule)
        {
            fired = rule;
            resolution = new LaneResolution(rule.Lane, LaneSource.Colouring);
        }

        if (resolution.Lane is null)
        {
            resolution = resolver.ResolveDefault();
        }

        if (!resolution.IsRejected && resolution.IsShadow != shadow)
        {
            resolution = new LaneResolution(resolution.Lane, resolution.Source, shadow);
        }

        return new LaneEntryDecision(resolution, fired, dropped);
    }

    /// <summary>
    /// Removes the client's lane from every carrier Lanes knows, configured or not (<see cref="LanePropagator.RemoveClientLane{TCarrier}(ref TCarrier, System.Diagnostics.Activity?)"/>;
    /// docs/polyglot.md, "At the gateway"), then sets the canonical header to the lane, so route matches on it see the lane
    /// whatever the client sent. The proxied request carries the gateway's lane in the configured carriers, written by the
    /// one outbound pipeline.
    /// </summary>
    public static void Normalise(IHeaderDictionary headers, LanePropagator propagator, string? lane, System.Diagnostics.Activity? activity)
    {
        var carrier = new HttpHeadersLaneReader(headers);
        propagator.RemoveClientLane(ref carrier, activity);
        if (lane is not null)
        {
            headers[propagator.HeaderName] = lane;
        }
    }

    private static ColouringRule? Colour(HttpContext context, LaneGatewayConfig config, bool hasLane, ILogger logger)
    {
        var rules = config.Rules;
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            if (hasLane && !rule.Override)
            {
                continue;
            }

            if (rule.Matches(context))
            {
                LaneGatewayLog.Coloured(logger, rule.Lane, rule.Index);
                return rule;
            }
        }

        return null;
    }
}
