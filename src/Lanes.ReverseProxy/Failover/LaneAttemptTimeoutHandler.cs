using Lanes.ReverseProxy.Routing;

namespace Lanes.ReverseProxy.Failover;

/// <summary>
/// The attempt timeout of a lane-aware cluster (docs/behaviour.md, "Failover"), in the handler chain of the cluster's
/// forwarder client: an attempt that has no response headers after <c>Lanes:Failover:AttemptTimeout</c> (or the cluster's
/// <c>laneAttemptTimeout</c>) is cancelled, which YARP reports as <c>RequestTimedOut</c>, and the subset step retries it on
/// another instance of the lane. The timer covers the wait for the response headers only: a streaming response body is
/// never cut. A request whose body is larger than <c>MaxBodyBytes</c>, or of unknown length, has no attempt timeout (a
/// large upload may take longer, and it could not be retried anyway). Time comes from the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class LaneAttemptTimeoutHandler : DelegatingHandler
{
    private static readonly Action<object?> s_cancel = static state => ((CancellationTokenSource)state!).Cancel();

    private readonly string _clusterId;
    private readonly LaneGatewayFailover _failover;
    private readonly LaneClusterRouting _routing;
    private readonly TimeProvider _time;

    public LaneAttemptTimeoutHandler(HttpMessageHandler inner, string clusterId, LaneGatewayFailover failover, LaneClusterRouting routing, TimeProvider time)
        : base(inner)
    {
        _clusterId = clusterId;
        _failover = failover;
        _routing = routing;
        _time = time;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            while (_pool.TryDequeue(out var source))
            {
                source.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var settings = _failover.Settings;
        if (!settings.Enabled
            || !_routing.IsLaneAware(_clusterId, out var clusterTimeout)
            || (clusterTimeout ?? settings.AttemptTimeout) is not { Ticks: > 0 } timeout
            || (request.Content is { } content && !(content.Headers.ContentLength <= settings.MaxBodyBytes)))
        {
            return base.SendAsync(request, cancellationToken);
        }

        return WithTimeoutAsync(request, timeout, cancellationToken);
    }

    private async Task<HttpResponseMessage> WithTimeoutAsync(HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var attempt = Rent();
        attempt.CancelAfter(timeout);
        var link = cancellationToken.UnsafeRegister(s_cancel, attempt);
        try
        {
            return await base.SendAsync(request, attempt.Token).ConfigureAwait(false);
        }
        finally
        {
            await link.DisposeAsync().ConfigureAwait(false);
            Return(attempt);
        }
    }

    /// <summary>
    /// Timers are pooled, as YARP pools its activity timeout sources: a source that did not fire is reset (its timer
    /// stopped) and used again, so a request that is answered in time allocates no timer.
    /// </summary>
    private CancellationTokenSource Rent()
        => _pool.TryDequeue(out var source) ? source : new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);

    private void Return(CancellationTokenSource source)
    {
        if (source.TryReset() && _pool.Count < MaxPooled)
        {
            _pool.Enqueue(source);
        }
        else
        {
            source.Dispose();
        }
    }

    /// <summary>Enough for the attempts a gateway has in flight at once per cluster; beyond it a source is disposed, not kept.</summary>
    private const int MaxPooled = 1024;

    private readonly System.Collections.Concurrent.ConcurrentQueue<CancellationTokenSource> _pool = new();
}
