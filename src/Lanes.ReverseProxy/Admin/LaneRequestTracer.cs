using System.Diagnostics;
using System.Globalization;
using Lanes.Resolution;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Lanes.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// Answers "where would this request go, and why" without sending it (docs/behaviour.md, "The admin page and tracer"): the request is built as an
/// <see cref="HttpContext"/>, run through the entry's own decision (<see cref="LaneGatewayEntry"/>), matched by ASP.NET
/// Core routing against the application's own endpoints (so YARP's path, method, host, header and query matches all
/// apply), and the matched route's cluster asked for its subset by the engine (<see cref="LaneSubsets{T}.Select"/>).
/// The endpoints it matches against are copies whose handlers do nothing: no endpoint ever runs. The only state it
/// touches is the trace cache, read (and filled, for a valid lane with a <c>traceparent</c>) as a real request would.
/// </summary>
internal sealed class LaneRequestTracer : IDisposable
{
    private readonly IServiceProvider _services;
    private readonly LaneResolver _resolver;
    private readonly LanePropagator _propagator;
    private readonly LaneGatewayConfigSource _config;
    private readonly LaneClusterRouting _routing;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private ICollection<EndpointDataSource>? _sources;
    private RequestDelegate? _matcher;
    private ServiceProvider? _routingServices;

    public LaneRequestTracer(IServiceProvider services, LaneResolver resolver, LanePropagator propagator, LaneGatewayConfigSource config, LaneClusterRouting routing, ILogger<LaneRequestTracer> logger)
    {
        _services = services;
        _resolver = resolver;
        _propagator = propagator;
        _config = config;
        _routing = routing;
        _logger = logger;
    }

    /// <summary>The application's endpoint sources (those <c>MapReverseProxy</c> adds to), read when the first trace runs.</summary>
    public void UseEndpoints(ICollection<EndpointDataSource> sources) => _sources ??= sources;

    public async Task<LaneTraceResult> TraceAsync(LaneTraceRequest request, HttpContext original)
    {
        var context = Build(request, original);
        var decision = LaneGatewayEntry.Decide(context, _config.Current, _resolver, _routing, _logger, preview: true);
        var result = await ExplainAsync(context, decision).ConfigureAwait(false);
        return decision.DroppedLane is not { } dropped
            ? result
            : result with
            {
                DroppedLane = dropped,
                Detail = $"The client's lane '{dropped}' is dropped (Lanes:Trust AcceptDeclared): no cluster and no service under Lanes:Services "
                    + "declares it or has an instance of it, and Lanes:KnownLanes does not list it. " + result.Detail,
            };
    }

    private async Task<LaneTraceResult> ExplainAsync(DefaultHttpContext context, LaneEntryDecision decision)
    {
        var resolution = decision.Resolution;
        var rule = decision.Rule is { } fired ? new LaneTraceRule(fired.Index, fired.Lane, fired.Describe()) : null;
        if (resolution.IsRejected)
        {
            return new LaneTraceResult(null, "rejected", rule, null, null, null, "rejected", null, null, StatusCodes.Status400BadRequest, [],
                $"The lane value is refused ({resolution.Rejection}); the gateway answers 400 before routing.");
        }

        var lane = resolution.Lane;
        var source = LanesDiagnostics.GetSourceName(resolution.Source);
        LaneGatewayEntry.Normalise(context.Request.Headers, _propagator, lane, activity: null);

        await Matcher()(context).ConfigureAwait(false);
        var endpoint = context.GetEndpoint();
        var matched = context.Response.StatusCode;
        if (endpoint is null)
        {
            return new LaneTraceResult(lane, source, rule, null, null, null, "no-route", null, null, StatusCodes.Status404NotFound, [],
                "No route matches: the gateway answers 404.");
        }

        if (endpoint.Metadata.GetMetadata<RouteModel>() is not { } route)
        {
            // Routing's own endpoint for a method no route takes set 405 when it ran; an inert copy sets nothing.
            var status = matched == StatusCodes.Status405MethodNotAllowed ? StatusCodes.Status405MethodNotAllowed : (int?)null;
            return new LaneTraceResult(lane, source, rule, null, null, null, status is null ? "local" : "no-route", null, null, status, [],
                status is null
                    ? $"Served by the gateway itself (endpoint '{endpoint.DisplayName}'), not proxied."
                    : "A route matches the path but not the method: the gateway answers 405.");
        }

        var routeId = route.Config.RouteId;
        if (route.Cluster is not { } cluster)
        {
            return new LaneTraceResult(lane, source, rule, routeId, null, null, "no-upstream", null, null, StatusCodes.Status503ServiceUnavailable, [],
                $"Route '{routeId}' names no cluster that exists: YARP answers 503.");
        }

        var subsets = _routing.GetSubsets(cluster);
        if (subsets is null)
        {
            var available = cluster.DestinationsState.AvailableDestinations;
            return new LaneTraceResult(lane, source, rule, routeId, cluster.ClusterId, null, available.Count == 0 ? "no-upstream" : "not-lane-aware", null,
                available.Count == 0 ? null : LaneChoice<DestinationState>.AllSubset, available.Count == 0 ? StatusCodes.Status503ServiceUnavailable : null,
                Ids(available), $"Cluster '{cluster.ClusterId}' does not use lanes: every available destination is eligible.");
        }

        var choice = subsets.Select(lane);
        var outcome = LaneRoutingNames.Get(choice.Outcome);
        var reason = LaneRoutingNames.Get(choice.Reason);
        var detail = choice.Instances.Length == 0
            ? LaneRoutingNames.NoHealthyUpstreamDetail(cluster.ClusterId, lane, choice, _resolver.Settings)
            : string.Create(CultureInfo.InvariantCulture, $"Forwarded to one of {choice.Instances.Length} destination(s) of subset {choice.Served}; the upstream answers.");
        return new LaneTraceResult(lane, source, rule, routeId, cluster.ClusterId, subsets.Settings.Policy.ToString(), outcome, reason, choice.Served,
            choice.Instances.Length == 0 ? StatusCodes.Status503ServiceUnavailable : null, Ids(choice.Instances), detail);
    }

    private static string[] Ids(IReadOnlyList<DestinationState> destinations)
    {
        var ids = new string[destinations.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = destinations[i].DestinationId;
        }

        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }

    private static DefaultHttpContext Build(LaneTraceRequest trace, HttpContext original)
    {
        var context = new DefaultHttpContext { RequestServices = original.RequestServices };
        var request = context.Request;
        request.Method = string.IsNullOrEmpty(trace.Method) ? HttpMethods.Get : trace.Method.ToUpperInvariant();
        request.Scheme = original.Request.Scheme;
        request.Host = original.Request.Host;
        var path = string.IsNullOrEmpty(trace.Path) ? "/" : trace.Path;
        var question = path.IndexOf('?', StringComparison.Ordinal);
        var query = new QueryBuilder();
        if (question >= 0)
        {
            foreach (var (name, values) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(path[question..]))
            {
                foreach (var value in values)
                {
                    query.Add(name, value ?? string.Empty);
                }
            }

            path = path[..question];
        }

        request.Path = PathString.FromUriComponent(path);
        foreach (var (name, value) in trace.Query ?? [])
        {
            query.Add(name, value ?? string.Empty);
        }

        request.QueryString = query.ToQueryString();
        foreach (var (name, value) in trace.Headers ?? [])
        {
            if (string.Equals(name, "host", StringComparison.OrdinalIgnoreCase))
            {
                request.Host = HostString.FromUriComponent(value ?? string.Empty);
            }
            else
            {
                request.Headers.Append(name, value);
            }
        }

        if (trace.Cookies is { Count: > 0 } cookies)
        {
            var pairs = new List<string>(cookies.Count);
            foreach (var (name, value) in cookies)
            {
                pairs.Add(name + "=" + Uri.EscapeDataString(value ?? string.Empty));
            }

            request.Headers.Append("Cookie", string.Join("; ", pairs));
        }

        return context;
    }

    /// <summary>The tracer's own routing services once it has traced (tests tell its meters from other applications' by them).</summary>
    internal IServiceProvider? RoutingServicesForTests => _routingServices;

    /// <summary>Disposes the tracer's own routing services.</summary>
    public void Dispose() => _routingServices?.Dispose();

    private RequestDelegate Matcher()
    {
        if (Volatile.Read(ref _matcher) is { } matcher)
        {
            return matcher;
        }

        lock (_gate)
        {
            if (_matcher is null)
            {
                // ASP.NET Core's own routing, through its public pipeline (UseRouting, UseEndpoints), over inert copies of
                // the application's endpoints: it picks the endpoint exactly as the real pipeline does (the application's
                // matcher policies, YARP's header and query matches among them) and runs only what it picked: an inert
                // copy does nothing, routing's own 405 endpoint sets the status the trace reports. It runs in services of
                // its own, so the copies never join the application's endpoints (ApiExplorer, health checks, the admin
                // decision all read those) and its routing metrics are not the application's.
                _routingServices = RoutingServices(_services);
                var app = new ApplicationBuilder(_routingServices);
                app.UseRouting();
                app.UseEndpoints(endpoints => endpoints.DataSources.Add(new InertEndpointDataSource(new CompositeEndpointDataSource(_sources ?? []))));
                app.Run(static _ => Task.CompletedTask);
                _matcher = app.Build();
            }

            return _matcher;
        }
    }

    /// <summary>
    /// Routing and the application's matcher policies (those routing does not bring itself), its logging and
    /// diagnostics. Security metadata is left to the real pipeline: nothing that runs here (inert copies, routing's
    /// 405) is something a policy guards, and the real request still meets the policy.
    /// </summary>
    private static ServiceProvider RoutingServices(IServiceProvider application)
    {
        var services = new ServiceCollection();
        services.AddSingleton(application.GetRequiredService<ILoggerFactory>());
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(application.GetService<DiagnosticListener>() ?? new DiagnosticListener("Lanes.ReverseProxy.Tracer"));
        services.AddMetrics();
        services.AddRouting(static o => o.SuppressCheckForUnhandledSecurityMetadata = true);
        var routing = services.Where(static d => d.ServiceType == typeof(MatcherPolicy)).Select(static d => d.ImplementationType).ToHashSet();
        foreach (var policy in application.GetServices<MatcherPolicy>())
        {
            if (!routing.Contains(policy.GetType()))
            {
                services.AddSingleton(policy);
            }
        }

        return services.BuildServiceProvider();
    }
}
