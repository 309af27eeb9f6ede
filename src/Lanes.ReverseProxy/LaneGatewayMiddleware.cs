using System.Diagnostics;
using Lanes.AspNetCore;
using Lanes.Resolution;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

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
    /// <summary>The name of the Activity that starts a new trace for a request the gateway sends on without a lane under <see cref="LaneTrust.Ignore"/> or <see cref="LaneTrust.AcceptDeclared"/>.</summary>
    internal const string NewTraceActivityName = "Lanes.Gateway.NewTrace";

    private static readonly ActivitySource s_activitySource = new(typeof(LaneGatewayMiddleware).Assembly.GetName().Name!);

    private readonly RequestDelegate _next;
    private readonly LaneResolver _resolver;
    private readonly LanePropagator _propagator;
    private readonly LaneTelemetry _telemetry;
    private readonly LaneGatewayConfigSource _config;
    private readonly LaneClusterRouting _routing;
    private readonly LaneGatewayEvents _events;
    private readonly LaneDropLog _drops;
    private readonly ILogger _logger;
    private LaneGatewayConfig? _metricLanesOf;

    public LaneGatewayMiddleware(
        RequestDelegate next,
        LaneResolver resolver,
        LanePropagator propagator,
        LaneTelemetry telemetry,
        LaneGatewayConfigSource config,
        LaneClusterRouting routing,
        LaneGatewayEvents events,
        TimeProvider time,
        ILogger<LaneGatewayMiddleware> logger)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(propagator);
        _propagator = propagator;
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(routing);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _events = events;
        _drops = new LaneDropLog(time, logger);
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
        var config = _config.Current;
        if (!ReferenceEquals(config, Volatile.Read(ref _metricLanesOf)))
        {
            KeepColouringLanes(config);
        }

        var decision = LaneGatewayEntry.Decide(context, config, _resolver, _routing, _logger);
        var resolution = decision.Resolution;
        var counted = _events.IsCounted(context.Request.Path);
        if (counted)
        {
            _resolver.Record(resolution);
        }

        if (resolution.IsRejected)
        {
            return LaneRequests.WriteRejectionAsync(context, settings, resolution.Rejection);
        }

        if (counted)
        {
            if (decision.DroppedLane is { } dropped)
            {
                Dropped(dropped);
            }

            if (decision.Rule is { } rule)
            {
                _events.Coloured(rule.Index, rule.Lane);
            }

            if (resolution.Lane is { } lane && _events.HasObservers)
            {
                _events.LaneSeen(lane, resolution.Source);
            }
        }

        // Normalise before routing: route matches on the canonical header see the lane, whatever the client sent.
        LaneGatewayEntry.Normalise(context.Request.Headers, _propagator, resolution.Lane, Activity.Current);

        if (resolution.Lane is null && config.Trust != LaneTrust.Accept && context.Request.Headers.ContainsKey(HeaderNames.TraceParent))
        {
            return RunInNewTraceAsync(context, resolution);
        }

        // The client's baggage reaches the proxied request through YARP's header copy (and the lane step rewrites it
        // there), so the frame does not hold it again.
        return LaneRequests.RunAsync(context, _next, resolution, _telemetry, _logger, forwardInboundBaggage: false);
    }

    /// <summary>A client lane trust AcceptDeclared dropped: counted (<c>lanes.rejected</c>, reason <c>undeclared</c>), logged once per lane per interval, and told to observers (the admin page lists it).</summary>
    private void Dropped(string lane)
    {
        _resolver.RecordDropped(LaneRejection.Undeclared);
        _drops.Dropped(lane, _routing.DeclaredLanes());
        if (_events.HasObservers)
        {
            _events.LaneDropped(lane);
        }
    }

    /// <summary>The lanes colouring rules assign keep their own metric tag (checked once per configuration).</summary>
    private void KeepColouringLanes(LaneGatewayConfig config)
    {
        var lanes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in config.Rules)
        {
            lanes.Add(rule.Lane);
        }

        _telemetry.KeepMetricLanes("colouring", lanes);
        Volatile.Write(ref _metricLanesOf, config);
    }

    /// <summary>
    /// The gateway sends this request on without a lane, and clients do not choose lanes here: the client's trace id must
    /// not reach the services behind the gateway, whose trace caches would otherwise restore a lane from a replayed
    /// <c>traceparent</c> (docs/reliability.md). The rest of the pipeline runs under a new root Activity linked to the
    /// client's span context, as OpenTelemetry's public-endpoint instrumentations do; the sampled flag is kept.
    /// </summary>
    private async Task RunInNewTraceAsync(HttpContext context, LaneResolution resolution)
    {
        var headers = context.Request.Headers;
        var hasClientContext = ActivityContext.TryParse(headers.TraceParent.ToString(), headers.TraceState.ToString(), isRemote: true, out var clientContext);
        ActivityLink[]? links = hasClientContext ? [new ActivityLink(clientContext)] : null;
        var previous = Activity.Current;
        Activity.Current = null;
        var root = s_activitySource.CreateActivity(NewTraceActivityName, ActivityKind.Internal, default(ActivityContext), links: links, idFormat: ActivityIdFormat.W3C);
        if (root is null)
        {
            root = new Activity(NewTraceActivityName);
            root.SetIdFormat(ActivityIdFormat.W3C);
            if (hasClientContext)
            {
                root.AddLink(links![0]);
            }
        }

        if (hasClientContext)
        {
            root.ActivityTraceFlags = clientContext.TraceFlags;
        }

        LaneGatewayLog.NewTrace(_logger);
        try
        {
            root.Start();
            await LaneRequests.RunAsync(context, _next, resolution, _telemetry, _logger, forwardInboundBaggage: false);
        }
        finally
        {
            root.Stop();
            Activity.Current = previous;
        }
    }
}
