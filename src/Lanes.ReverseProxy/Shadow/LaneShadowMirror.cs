using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Lanes.Http;
using Lanes.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Shadow;

/// <summary>
/// Shadow lanes at the gateway (docs/behaviour.md, "Shadow lanes"): picks the requests a rule mirrors, captures the
/// primary's answer as it streams to the client, and once the primary has finished sends the copies — to an instance of
/// the shadow lane, and with <see cref="ShadowRule.Secondary"/> to another baseline instance — off the request's path,
/// then compares the answers. Nothing here waits on a copy before the primary answers, and nothing a copy returns
/// reaches the client.
/// </summary>
internal sealed partial class LaneShadowMirror
{
    /// <summary>The Activity of a shadow copy (source <c>Lanes.ReverseProxy</c>): a child of the primary request's, as Envoy's mirror keeps the trace.</summary>
    internal const string ShadowActivityName = "Lanes.Gateway.Shadow";

    private const string MarkerHeader = LaneContext.ShadowHeader;

    private static readonly ActivitySource s_activitySource = new(typeof(LaneShadowMirror).Assembly.GetName().Name!);

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length", "content-type", MarkerHeader,
    };

    private static readonly LaneCallOptions s_callOptions = new() { UntrustedBaggage = true };

    private readonly LanePropagator _propagator;
    private readonly TimeProvider _time;
    private readonly LaneTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ShadowState> _states = new(StringComparer.Ordinal);
    private readonly Counter<long> _mirrored;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _differing;

    public LaneShadowMirror(LanePropagator propagator, LaneTelemetry telemetry, TimeProvider time, ILogger<LaneShadowMirror> logger)
    {
        _propagator = propagator;
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
        _mirrored = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.ShadowMirroredInstrument, "{request}", "Requests mirrored into a shadow lane and compared, by cluster and lane.");
        _dropped = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.ShadowDroppedInstrument, "{request}", LaneRoutingNames.ShadowDroppedDescription);
        _differing = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.ShadowDifferingInstrument, "{request}", "Mirrored requests whose shadow answer differed from the primary's (noise excluded), by cluster, lane and what differed.");
    }

    /// <summary>Every rule's state, in name order (the admin report).</summary>
    public IReadOnlyList<ShadowState> States => [.. _states.Values.OrderBy(static s => s.Rule.Name, StringComparer.Ordinal)];

    /// <summary>
    /// The copy to make of this request, or null: the first rule for <paramref name="cluster"/> whose method, source lane
    /// and share match. A matching request that cannot be mirrored (body, concurrency, no shadow instance) is counted as dropped.
    /// </summary>
    public ShadowCopy? TryStart(HttpContext context, ClusterState cluster, LaneSubsets<DestinationState> subsets, LaneChoice<DestinationState> choice, ShadowRule[] rules)
    {
        foreach (var rule in rules)
        {
            if (!string.Equals(rule.Cluster, cluster.ClusterId, StringComparison.OrdinalIgnoreCase) || !rule.Methods.Contains(context.Request.Method))
            {
                continue;
            }

            var from = rule.FromLane ?? subsets.Settings.BaselineLane ?? LaneChoice<DestinationState>.UnlabelledSubset;
            if (!string.Equals(choice.Served, from, StringComparison.Ordinal) || context.Request.Headers.ContainsKey(MarkerHeader))
            {
                continue;
            }

            if (rule.Percent < 100 && (rule.Percent <= 0 || Random.Shared.NextDouble() * 100 >= rule.Percent))
            {
                return null;
            }

            var state = State(rule);
            if (IsUpgrade(context))
            {
                return null;
            }

            var body = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;
            if (body && (context.Request.ContentLength is not { } length || length > rule.MaxBodyBytes))
            {
                Drop(state, "body");
                return null;
            }

            var shadowChoice = subsets.Select(rule.Lane);
            if (shadowChoice.Outcome != LaneRoutingOutcome.Matched || shadowChoice.Instances.Length == 0)
            {
                // Only the shadow lane's own instances take a copy: never a fallback (the baseline would see it twice).
                Drop(state, "no-instance");
                return null;
            }

            if (!state.TryEnter(rule.MaxConcurrent))
            {
                Drop(state, "concurrency");
                return null;
            }

            if (body)
            {
                context.Request.EnableBuffering(rule.MaxBodyBytes);
            }

            var target = shadowChoice.Instances[Random.Shared.Next(shadowChoice.Instances.Length)];
            return new ShadowCopy(this, state, rule, context, cluster, choice, target, LaneContext.Current, body);
        }

        return null;
    }

    /// <summary>A shadow request (another gateway's copy, trusted under <c>Accept</c>) that its lane cannot serve here: counted, answered 503 by the caller.</summary>
    public void Refused(string cluster, string lane)
    {
        _dropped.Add(1, new TagList { { LanesDiagnostics.RoutingServiceAttribute, cluster }, { LanesDiagnostics.LaneAttribute, _telemetry.MetricLane(lane) }, { LanesDiagnostics.ShadowReasonAttribute, LaneRoutingNames.ShadowNoInstance } });
        LogRefused(_logger, cluster, lane);
    }

    private static bool IsUpgrade(HttpContext context)
        => context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    private ShadowState State(ShadowRule rule)
    {
        var state = _states.GetOrAdd(rule.Name, static (_, r) => new ShadowState(r), rule);
        state.Rule = rule;
        return state;
    }

    private void Drop(ShadowState state, string reason)
    {
        state.Drop(reason);
        _dropped.Add(1, new TagList { { LanesDiagnostics.RoutingServiceAttribute, state.Rule.Cluster }, { LanesDiagnostics.LaneAttribute, state.Rule.Lane }, { LanesDiagnostics.ShadowReasonAttribute, reason } });
    }

    /// <summary>Sends the copies and compares; runs after the primary finished, without the request's context.</summary>
    private async Task MirrorAsync(ShadowState state, ShadowRule rule, Request request, ShadowAnswer primary, double primaryMs, ClusterState cluster, DestinationState target, DestinationState? secondary, string? lane, ActivityContext parent)
    {
        // The copies' calls run under this Activity (when someone listens): their traceparent puts the shadow lane's
        // spans in the primary request's trace, under a span that says it is a copy.
        using var activity = s_activitySource.StartActivity(ShadowActivityName, ActivityKind.Internal, parent);
        activity?.SetTag(LanesDiagnostics.LaneAttribute, rule.Lane);
        activity?.SetTag("lanes.shadow.rule", rule.Name);
        try
        {
            var client = cluster.Model.HttpClient;
            using var timeout = new CancellationTokenSource(rule.Timeout, _time);
            var started = _time.GetTimestamp();
            var shadowTask = SendAsync(client, request, target, rule.Lane, rule, timeout.Token);
            var secondaryTask = secondary is null ? null : SendAsync(client, request, secondary, lane, rule, timeout.Token);
            ShadowAnswer shadow;
            try
            {
                shadow = await shadowTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                if (secondaryTask is not null)
                {
                    await Task.WhenAny(secondaryTask).ConfigureAwait(false);
                }

                var reason = timeout.IsCancellationRequested ? "timeout" : "error";
                LogCopyFailed(_logger, rule.Name, rule.Lane, reason);
                Drop(state, reason);
                return;
            }

            var shadowMs = _time.GetElapsedTime(started).TotalMilliseconds;
            List<ShadowDifference>? noise = null;
            if (secondaryTask is not null)
            {
                try
                {
                    noise = ShadowComparer.Compare(primary, await secondaryTask.ConfigureAwait(false), rule.Headers);
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                {
                    // No secondary answer: this comparison learns no noise, and is still made.
                }
            }

            var differences = ShadowComparer.Compare(primary, shadow, rule.Headers);
            var tags = new TagList { { LanesDiagnostics.RoutingServiceAttribute, rule.Cluster }, { LanesDiagnostics.LaneAttribute, rule.Lane } };
            _mirrored.Add(1, tags);
            if (state.Record(differences, noise, primaryMs, shadowMs))
            {
                tags.Add(LanesDiagnostics.ShadowReasonAttribute, Kind(differences));
                _differing.Add(1, tags);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogMirrorFailed(_logger, ex, rule.Name);
            Drop(state, "error");
        }
        finally
        {
            state.Exit();
        }
    }

    /// <summary>What differed, for the metric tag: <c>status</c>, <c>header</c> or <c>body</c> (bounded, unlike paths).</summary>
    private static string Kind(List<ShadowDifference> differences)
        => differences.Exists(static d => d.Path == "status") ? "status"
            : differences.TrueForAll(static d => d.Path.StartsWith("header:", StringComparison.Ordinal)) ? "header" : "body";

    private async Task<ShadowAnswer> SendAsync(HttpMessageInvoker client, Request request, DestinationState destination, string? lane, ShadowRule rule, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), RequestUtilities.MakeDestinationAddress(destination.Model.Config.Address, request.Path, request.Query))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (request.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
            if (request.ContentType is { } contentType)
            {
                message.Content.Headers.TryAddWithoutValidation("content-type", contentType);
            }
        }

        var settings = _propagator.Settings;
        foreach (var (name, values) in request.Headers)
        {
            if (!HopByHop.Contains(name) && !string.Equals(name, settings.Header, StringComparison.OrdinalIgnoreCase) && !settings.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(name, values);
            }
        }

        // A shadow scope: the lane in every configured carrier, and the shadow marker (header and baggage member).
        var carrier = new HttpRequestLaneCarrier(message.Headers);
        using (LaneContext.BeginShadow(lane))
        {
            _propagator.InjectCall(ref carrier, s_callOptions);
        }

        using var response = await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in rule.Headers)
        {
            if (response.Headers.NonValidated.TryGetValues(name, out var v) || response.Content.Headers.NonValidated.TryGetValues(name, out v))
            {
                headers[name] = v.ToString();
            }
        }

        var (bytes, truncated) = await ReadAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), rule.MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        var length = truncated ? response.Content.Headers.ContentLength ?? -1 : bytes.Length;
        return new ShadowAnswer((int)response.StatusCode, headers, bytes, length, truncated, response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<(byte[] Bytes, bool Truncated)> ReadAsync(Stream stream, int cap, CancellationToken cancellationToken)
    {
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[Math.Min(cap + 1, 16 * 1024)];
            using var collected = new MemoryStream();
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (collected.Length + read > cap)
                {
                    return ([], true);
                }

                collected.Write(buffer, 0, read);
            }

            return (collected.ToArray(), false);
        }
    }

    [LoggerMessage(EventId = 140, EventName = "ShadowCopyFailed", Level = LogLevel.Debug,
        Message = "Shadow rule '{Rule}': the copy to lane '{Lane}' got no answer ({Reason}); it is counted as dropped.")]
    private static partial void LogCopyFailed(ILogger logger, string rule, string lane, string reason);

    [LoggerMessage(EventId = 142, EventName = "ShadowCopyRefused", Level = LogLevel.Debug,
        Message = "A shadow copy to cluster '{Cluster}' in lane '{Lane}' was answered 503: the lane has no healthy instance of its own, and a shadow copy is never sent to another lane's instances.")]
    private static partial void LogRefused(ILogger logger, string cluster, string lane);

    [LoggerMessage(EventId = 141, EventName = "ShadowMirrorFailed", Level = LogLevel.Warning,
        Message = "Shadow rule '{Rule}': mirroring failed; the copy is counted as dropped (the primary was not affected).")]
    private static partial void LogMirrorFailed(ILogger logger, Exception exception, string rule);

    /// <summary>What a copy needs of the request, taken while it is alive.</summary>
    private sealed record Request(string Method, PathString Path, QueryString Query, KeyValuePair<string, string[]>[] Headers, byte[]? Body, string? ContentType);

    /// <summary>
    /// One mirrored request: installed before the primary runs (it tees the response body), completed after it
    /// (<see cref="Complete"/>), which starts the copies off the request's path.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Design", "CA1001", Justification = "The tee wraps the response body, which the server owns and disposes; its own buffer is memory only.")]
    internal sealed class ShadowCopy
    {
        private readonly LaneShadowMirror _mirror;
        private readonly ShadowState _state;
        private readonly ShadowRule _rule;
        private readonly HttpContext _context;
        private readonly ClusterState _cluster;
        private readonly LaneChoice<DestinationState> _choice;
        private readonly DestinationState _target;
        private readonly string? _lane;
        private readonly bool _body;
        private readonly Stream _originalBody;
        private readonly TeeStream _tee;
        private readonly long _started;

        internal ShadowCopy(LaneShadowMirror mirror, ShadowState state, ShadowRule rule, HttpContext context, ClusterState cluster, LaneChoice<DestinationState> choice, DestinationState target, string? lane, bool body)
        {
            _mirror = mirror;
            _state = state;
            _rule = rule;
            _context = context;
            _cluster = cluster;
            _choice = choice;
            _target = target;
            _lane = lane;
            _body = body;
            _originalBody = context.Response.Body;
            _tee = new TeeStream(_originalBody, rule.MaxBodyBytes);
            context.Response.Body = _tee;
            _started = mirror._time.GetTimestamp();
        }

        /// <summary>
        /// After the primary: puts the response body back, reads what the copies need while the request is alive, and
        /// starts them without the request's ExecutionContext (its lane, its activity). <paramref name="failed"/>: the
        /// primary threw; nothing is mirrored.
        /// </summary>
        public async Task Complete(bool failed)
        {
            var primaryMs = _mirror._time.GetElapsedTime(_started).TotalMilliseconds;
            _context.Response.Body = _originalBody;
            if (failed || _context.RequestAborted.IsCancellationRequested)
            {
                _mirror.Drop(_state, "primary-failed");
                _state.Exit();
                return;
            }

            try
            {
                byte[]? body = null;
                if (_body)
                {
                    var stream = _context.Request.Body;
                    stream.Position = 0;
                    (body, var truncated) = await ReadAsync(stream, _rule.MaxBodyBytes, _context.RequestAborted).ConfigureAwait(false);
                    if (truncated)
                    {
                        _mirror.Drop(_state, "body");
                        _state.Exit();
                        return;
                    }
                }

                var request = new Request(
                    _context.Request.Method,
                    _context.Request.Path,
                    _context.Request.QueryString,
                    [.. _context.Request.Headers.Select(static h => new KeyValuePair<string, string[]>(h.Key, h.Value.ToArray()!))],
                    body,
                    _context.Request.ContentType);
                var responseHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var name in _rule.Headers)
                {
                    if (_context.Response.Headers.TryGetValue(name, out var value))
                    {
                        responseHeaders[name] = value.ToString();
                    }
                }

                var primary = new ShadowAnswer(
                    _context.Response.StatusCode, responseHeaders, _tee.Captured, _tee.Written, _tee.Truncated,
                    Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(_context.Response.ContentType, out var media) ? media.MediaType.Value : null);
                var secondary = _rule.Secondary ? Secondary() : null;
                var parent = Activity.Current?.Context ?? default;
                using (ExecutionContext.SuppressFlow())
                {
                    _ = Task.Run(() => _mirror.MirrorAsync(_state, _rule, request, primary, primaryMs, _cluster, _target, secondary, _lane, parent));
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                _mirror.Drop(_state, "primary-failed");
                _state.Exit();
            }
        }

        /// <summary>Another baseline instance than the one that served the primary; null when there is none.</summary>
        private DestinationState? Secondary()
        {
            var served = _context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination;
            var others = _choice.Instances.Where(d => !ReferenceEquals(d, served)).ToArray();
            return others.Length == 0 ? null : others[Random.Shared.Next(others.Length)];
        }
    }

    /// <summary>The response body stream, copying the first <c>cap</c> bytes aside as they pass to the client.</summary>
    private sealed class TeeStream(Stream inner, int cap) : Stream
    {
        private readonly MemoryStream _captured = new();

        public byte[] Captured => Truncated ? [] : _captured.ToArray();

        /// <summary>Bytes written through, captured or not.</summary>
        public long Written { get; private set; }

        public bool Truncated { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Capture(buffer);
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Capture(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        private void Capture(ReadOnlySpan<byte> buffer)
        {
            Written += buffer.Length;
            if (Truncated)
            {
                return;
            }

            if (_captured.Length + buffer.Length > cap)
            {
                Truncated = true;
                return;
            }

            _captured.Write(buffer);
        }
    }
}
