using Lanes.Http;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Polly;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Sends a request addressed to a logical service (<c>http://details/...</c>) to an instance of the request's lane
/// under the service's policy (docs/behaviour.md, "Subset selection", "Client-side HTTP routing", "Service discovery and resilience", "Failover"). The instances come from service discovery
/// (<see cref="LaneServiceEndpoints"/>: <c>Lanes:Services</c>, configuration, any provider); a host no provider knows
/// passes through. The request URI is put back after each attempt, so a retry is routed again.
/// </summary>
/// <remarks>
/// Failover, as the gateway's (<c>Lanes:Failover</c>): an attempt that failed before any response came back goes again to
/// another instance of the lane, then where the policy sends the lane with none left (Strict: the local 503); every
/// method when nothing reached the instance (connection refused, HTTP/2 REFUSED_STREAM), idempotent methods otherwise, a
/// body only when it was buffered (<c>MaxBodyBytes</c>); at most <c>Retries</c>, under the service's retry budget; each
/// attempt waits at most <c>AttemptTimeout</c> for the response headers. A refused connection ejects the instance at
/// once, <c>ConsecutiveFailures</c> failures in a row (5xx, timeouts, resets) eject it too.
/// Under a resilience pipeline (the standard resilience handler outside this one) Lanes adds no retries and no timeout
/// of its own, so attempts never multiply: the pipeline's retries and attempt timeout apply, and each of its attempts
/// picks again, leaving out the instances this call already failed at (or that answered 5xx). The one exception is a
/// connection that was refused on the first attempt: nothing reached the instance, so another is picked at once rather
/// than after the pipeline's retry delay. An empty subset throws
/// <see cref="LaneUnavailableException"/>, which resilience predicates do not retry and the client's outermost handler
/// answers with the local 503. <c>Send</c> (synchronous) follows the same rules without the attempt timeout.
/// </remarks>
internal sealed class LaneRoutingHandler : LaneAttemptHandler
{
    private static readonly ResiliencePropertyKey<CallState> s_call = new("Lanes.Call");

    private readonly LaneHttpRouter _router;
    private readonly LaneServiceEndpoints _endpoints;
    private readonly LanePropagator _propagator;
    private readonly LaneClientFailover _failover;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public LaneRoutingHandler(LaneHttpRouter router, LaneServiceEndpoints endpoints, LanePropagator propagator, LaneClientFailover failover, TimeProvider time, ILogger<LaneRoutingHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(propagator);
        ArgumentNullException.ThrowIfNull(failover);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _router = router;
        _endpoints = endpoints;
        _propagator = propagator;
        _failover = failover;
        _time = time;
        _logger = logger;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var logical = request.RequestUri;
        if (logical is not { IsAbsoluteUri: true }
            || await _endpoints.GetAsync(logical.Scheme, logical.Host, cancellationToken).ConfigureAwait(false) is not { } snapshot)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var call = Start(request, snapshot);
        if (call.Body == Body.Buffer)
        {
            await request.Content!.LoadIntoBufferAsync(call.Settings.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
            call.Body = Body.Buffered;
        }

        for (var attempt = 1; ; attempt++)
        {
            var instance = Pick(call, request, logical);
            var sent = NextAttempt(request);
            using var timer = call.AttemptTimeout > TimeSpan.Zero ? new CancellationTokenSource(call.AttemptTimeout, _time) : null;
            using var link = timer is null ? default : cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timer);
            try
            {
                var response = await base.SendAsync(sent, timer?.Token ?? cancellationToken).ConfigureAwait(false);
                Answered(call, instance, response);
                return response;
            }
            catch (OperationCanceledException e) when (timer is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
            {
                if (!Retry(call, instance, LaneAttemptFailure.Timeout, attempt))
                {
                    throw new TaskCanceledException($"No response from '{instance.Id}' of '{call.Service.Name}' within the attempt timeout ({call.AttemptTimeout}, Lanes:Failover:AttemptTimeout).", new TimeoutException(e.Message, e));
                }
            }
            catch (HttpRequestException e) when (Retry(call, instance, LaneFailoverSettings.Classify(e), attempt))
            {
            }
            finally
            {
                request.RequestUri = logical;
            }
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var logical = request.RequestUri;
        if (logical is not { IsAbsoluteUri: true } || ResolveNow(logical, cancellationToken) is not { } snapshot)
        {
            return base.Send(request, cancellationToken);
        }

        var call = Start(request, snapshot);
        if (call.Body == Body.Buffer)
        {
            request.Content!.LoadIntoBufferAsync(call.Settings.MaxBodyBytes, cancellationToken).GetAwaiter().GetResult();
            call.Body = Body.Buffered;
        }

        for (var attempt = 1; ; attempt++)
        {
            var instance = Pick(call, request, logical);
            var sent = NextAttempt(request);
            try
            {
                var response = base.Send(sent, cancellationToken);
                Answered(call, instance, response);
                return response;
            }
            catch (HttpRequestException e) when (Retry(call, instance, LaneFailoverSettings.Classify(e), attempt))
            {
            }
            finally
            {
                request.RequestUri = logical;
            }
        }
    }

    internal static Uri Rebase(Uri logical, Uri instance)
    {
        var builder = new UriBuilder(instance)
        {
            Path = instance.AbsolutePath.TrimEnd('/') + logical.AbsolutePath,
            Query = logical.Query.TrimStart('?'),
        };
        return builder.Uri;
    }

    /// <summary>What this call may do: its lane, retries, attempt timeout and body; under a resilience pipeline, shared by the pipeline's attempts.</summary>
    private CallState Start(HttpRequestMessage request, LaneServiceSnapshot snapshot)
    {
        var settings = _failover.Settings;
        var resilience = request.GetResilienceContext();
        if (resilience is not null && resilience.Properties.TryGetValue(s_call, out var shared) && string.Equals(shared.Snapshot.Key, snapshot.Key, StringComparison.Ordinal))
        {
            if (snapshot.Version > shared.Snapshot.Version)
            {
                shared.Snapshot = snapshot;                   // a later attempt of the call sees the newer instances
            }

            return shared;
        }

        var call = new CallState(snapshot, OutboundLane(request), settings)
        {
            Method = request.Method.Method,
            Shadow = LaneRoutingNames.IsShadow(request.Headers),
            UnderResilience = resilience is not null,
            Retries = settings.Enabled && resilience is null ? settings.Retries : 0,
            AttemptTimeout = settings.Enabled && resilience is null ? settings.AttemptTimeout : TimeSpan.Zero,
            Body = request.Content is not { } content ? Body.None
                : content.Headers.ContentLength is { } length && length <= settings.MaxBodyBytes ? Body.Buffer
                : Body.Streamed,
        };
        if (call.Body == Body.Streamed)
        {
            call.AttemptTimeout = TimeSpan.Zero;                   // a large upload may take longer, and it cannot be retried
        }

        if (call.Retries > 0)
        {
            _failover.Budget(snapshot.Service).Request();
        }

        resilience?.Properties.Set(s_call, call);
        return call;
    }

    /// <summary>
    /// The service for a synchronous call. Resolved services answer at once; the first synchronous call to a service
    /// not resolved yet waits for its resolution, as <c>HttpClient.Send</c> waits for everything else.
    /// </summary>
    private LaneServiceSnapshot? ResolveNow(Uri logical, CancellationToken cancellationToken)
    {
        var pending = _endpoints.GetAsync(logical.Scheme, logical.Host, cancellationToken);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Picks an instance and points the request at it; throws <see cref="LaneUnavailableException"/> when there is none.</summary>
    private LaneServiceInstance Pick(CallState call, HttpRequestMessage request, Uri logical)
    {
        LaneChoice<LaneServiceInstance> choice;
        var instance = call.Tried is null
            ? _router.Pick(call.Snapshot, call.Lane, call.Shadow, out choice)
            : _router.PickAgain(call.Snapshot, call.Lane, call.Shadow, call.Tried, out choice);
        if (instance is null)
        {
            LaneResilienceTelemetry.MarkLocalUnavailable(request);
            throw call.Shadow && LaneRoutingNames.RefusesShadow(call.Lane, choice)
                ? new LaneUnavailableException(call.Service.Name, call.Lane, choice, LaneRoutingNames.ShadowDetail(call.Service.Name, call.Lane!))
                : new LaneUnavailableException(call.Service.Name, call.Lane, choice, _propagator.Settings);
        }

        request.RequestUri = Rebase(logical, instance.Address);
        return instance;
    }

    /// <summary>An answer came back: a 5xx counts towards ejection (and sends a resilience retry elsewhere), anything else resets the count.</summary>
    private void Answered(CallState call, LaneServiceInstance instance, HttpResponseMessage response)
    {
        if ((int)response.StatusCode >= 500)
        {
            if (call.Settings.Enabled)
            {
                _router.Failed(call.Snapshot, instance, LaneAttemptFailure.Reset, call.Settings.ConsecutiveFailures);
            }

            lock (call)
            {
                (call.Tried ??= []).Add(instance);
            }
        }
        else
        {
            _router.Succeeded(call.Snapshot, instance);
        }
    }

    /// <summary>A failed attempt: ejects as failover says, remembers the instance, and says whether to try again here.</summary>
    private bool Retry(CallState call, LaneServiceInstance instance, LaneAttemptFailure failure, int attempt)
    {
        var settings = call.Settings;
        if (settings.Enabled || failure == LaneAttemptFailure.ConnectFailure)
        {
            _router.Failed(call.Snapshot, instance, failure, settings.ConsecutiveFailures);
        }

        lock (call)
        {
            (call.Tried ??= []).Add(instance);
        }

        string outcome;
        if (call.UnderResilience)
        {
            // The pipeline retries (after its delay); one immediate pick of another instance when nothing reached this one.
            return attempt == 1 && failure is LaneAttemptFailure.ConnectFailure or LaneAttemptFailure.RefusedStream && call.Body != Body.Streamed;
        }

        if (attempt > call.Retries)
        {
            if (call.Retries == 0)
            {
                return false;                                      // failover is off, or Retries is 0
            }

            outcome = LaneFailoverNames.RetriesExhausted;
        }
        else if (failure is LaneAttemptFailure.Reset or LaneAttemptFailure.Timeout && !LaneFailoverSettings.IsIdempotent(call.Method))
        {
            outcome = LaneFailoverNames.NotIdempotent;
        }
        else if (call.Body == Body.Streamed && failure != LaneAttemptFailure.ConnectFailure)
        {
            outcome = LaneFailoverNames.BodyNotBuffered;
        }
        else if (!_failover.Budget(call.Service.Name).TryRetry(settings.RetryRatio, settings.MinRetriesPerSecond))
        {
            outcome = LaneFailoverNames.BudgetExhausted;
        }
        else
        {
            _failover.Record(call.Service.Name, call.Lane, failure, LaneFailoverNames.Retried);
            return true;
        }

        _failover.Record(call.Service.Name, call.Lane, failure, outcome);
        if (_logger.IsEnabled(LogLevel.Information))
        {
#pragma warning disable CA1873 // Guarded by the IsEnabled check above.
            LaneHttpLog.NotRetried(_logger, call.Method, call.Service.Name, call.Lane ?? "(none)", LaneFailoverNames.Get(failure), outcome);
#pragma warning restore CA1873
        }

        return false;
    }

    /// <summary>The lane the request will carry, by the one outbound rule: a canonical header the app set, else the ambient lane.</summary>
    private string? OutboundLane(HttpRequestMessage request)
    {
        var carrier = new HttpRequestLaneCarrier(request.Headers);
        return _propagator.TryGetCallLane(carrier.GetValues(_propagator.HeaderName), out var lane) ? lane : null;
    }

    private enum Body
    {
        None,
        Buffer,
        Buffered,
        Streamed,
    }

    /// <summary>One call's failover state: what it may do, and the instances it failed at.</summary>
    private sealed class CallState(LaneServiceSnapshot snapshot, string? lane, LaneFailoverSettings settings)
    {
        public LaneServiceSnapshot Snapshot { get; set; } = snapshot;

        public LaneServiceDefinition Service => Snapshot.Definition;

        public string? Lane { get; } = lane;

        public LaneFailoverSettings Settings { get; } = settings;

        public string Method { get; init; } = "GET";

        /// <summary>The call carries the shadow marker: only its lane's own instances may serve it.</summary>
        public bool Shadow { get; init; }

        public bool UnderResilience { get; init; }

        public int Retries { get; init; }

        public TimeSpan AttemptTimeout { get; set; }

        public Body Body { get; set; }

        public List<LaneServiceInstance>? Tried { get; set; }
    }
}
