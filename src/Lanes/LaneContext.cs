using System.Diagnostics;
using Lanes.Caching;
using Lanes.Diagnostics;
using Lanes.Parsing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Lanes;

/// <summary>
/// The ambient lane of the current request or scope. It flows with the <see cref="ExecutionContext"/>, so
/// awaits, <c>Task.Run</c> and fire-and-forget work started from a request see the request's lane, and no
/// other request ever sees it.
/// </summary>
/// <example>
/// <code>
/// // In a background service or a message consumer:
/// using (LaneContext.Begin("yellow"))
/// {
///     await client.GetAsync("/orders"); // carries the lane
/// }
/// </code>
/// </example>
public static class LaneContext
{
    /// <summary>The tag holding the lane on the Activity of a request (docs/behaviour.md, "Metrics").</summary>
    public const string ActivityLaneTag = "lane";

    /// <summary>The tag holding where the lane came from on the Activity of a request (docs/behaviour.md, "Metrics").</summary>
    public const string ActivityLaneSourceTag = "lane.source";

    /// <summary>The header that marks a shadow copy (docs/behaviour.md, "Shadow lanes"); its value is <c>1</c>.</summary>
    public const string ShadowHeader = "x-lanes-shadow";

    /// <summary>The <c>baggage</c> member key that marks a shadow copy (<c>lanes-shadow=1</c>), for hops that forward only baggage.</summary>
    public const string ShadowBaggageKey = "lanes-shadow";

    private static readonly AsyncLocal<Frame?> s_current = new();

    /// <summary>The current lane, or <see langword="null"/> when there is none.</summary>
    public static string? Current => s_current.Value?.Lane;

    /// <summary>Where <see cref="Current"/> came from; <see cref="LaneSource.None"/> when there is no lane.</summary>
    public static LaneSource CurrentSource => s_current.Value?.Source ?? LaneSource.None;

    /// <summary>
    /// True while handling an inbound request or message that an entry point resolved and runs through
    /// <see cref="RunAsync{TState}"/> (with or without a lane); false in plain <see cref="Begin(string?)"/> scopes and
    /// outside any. A second entry point on the same request (the service middleware behind the gateway's entry) uses it
    /// to leave the request as the first one resolved it.
    /// </summary>
    public static bool InRequest => s_current.Value?.Request == true;

    /// <summary>
    /// True while handling a shadow copy (docs/behaviour.md, "Shadow lanes"): a request or message a gateway mirrored
    /// into a lane to compare its answer, or code inside <see cref="BeginShadow"/>. Every call made inside carries the
    /// shadow marker, and client-side routing never sends it to another lane's instances (503 instead). Check it to skip
    /// side effects a copy must not have (payments, e-mails, writes outside the lane).
    /// </summary>
    public static bool IsShadow => s_current.Value?.Shadow == true;

    /// <summary>
    /// Makes <paramref name="lane"/> current until the returned scope is disposed. <see langword="null"/>
    /// starts a scope with no lane (nothing is propagated inside it).
    /// </summary>
    /// <param name="lane">A lane: 1..256 characters of <c>A-Z a-z 0-9 . _ -</c>, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="lane"/> is not a valid lane. The message escapes it.</exception>
    public static IDisposable Begin(string? lane)
    {
        ThrowIfInvalid(lane);
        return Push(Frame.For(lane, LaneSource.Scope));
    }

    /// <summary>
    /// Makes a resolved lane current (keeping its source) until the returned scope is disposed; for message
    /// consumers: <c>using (LaneContext.Begin(propagator.Extract(headers, getter))) { ... }</c>.
    /// </summary>
    public static IDisposable Begin(LaneResolution resolution)
        => Push(resolution.IsShadow ? new Frame(resolution.Lane, resolution.Source, request: false, shadow: true) : Frame.For(resolution.Lane, resolution.Source));

    /// <summary>
    /// Like <see cref="Begin(string?)"/>, and marks everything inside as a shadow copy (<see cref="IsShadow"/>): calls
    /// carry the lane and the shadow marker, and client-side routing never falls back to another lane for them. For
    /// code that replays or mirrors traffic itself (the gateway's shadow rules do it for you).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="lane"/> is not a valid lane.</exception>
    public static IDisposable BeginShadow(string? lane)
    {
        ThrowIfInvalid(lane);
        return Push(new Frame(lane, LaneSource.Scope, request: false, shadow: true));
    }

    private static void ThrowIfInvalid(string? lane, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(lane))] string? name = null)
    {
        if (lane is not null && !LaneParser.IsValidLane(lane, LaneParser.AbsoluteMaxLength))
        {
            throw new ArgumentException(
                $"'{LaneParser.Escape(lane)}' is not a valid lane: use {LaneParser.Rule(LaneParser.AbsoluteMaxLength)}, or null for no lane.",
                name);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> as the handling of one inbound request or message in <paramref name="resolution"/>'s
    /// lane, as the ASP.NET Core middleware and the gateway do: the lane is current (and nothing ambient from outside is
    /// visible, even when the resolution has no lane), the current <see cref="Activity"/> is tagged
    /// <see cref="ActivityLaneTag"/> and <see cref="ActivityLaneSourceTag"/>, and every log line written inside has
    /// <c>Lane</c> and <c>LaneSource</c> in its scope. <paramref name="inboundBaggage"/> is the <c>baggage</c> the request
    /// arrived with: its members are forwarded on every call made inside exactly as they came (W3C), not as another
    /// parser read them. The caller's lane is current again when the returned task completes.
    /// </summary>
    /// <remarks>For requests of a known lane with no other baggage this allocates nothing beyond what <paramref name="body"/> does.</remarks>
    /// <typeparam name="TState">State passed to <paramref name="body"/>, so it can be a static lambda.</typeparam>
    public static Task RunAsync<TState>(
        LaneResolution resolution,
        StringValues inboundBaggage,
        ILogger? logger,
        Func<TState, Task> body,
        TState state)
    {
        ArgumentNullException.ThrowIfNull(body);
        var lane = resolution.Lane;
        Frame frame;
        if (lane is null)
        {
            frame = inboundBaggage.Count == 0 && !resolution.IsShadow ? Frame.EmptyRequest : new Frame(null, LaneSource.None, request: true, inboundBaggage, resolution.IsShadow);
            return RunInFrameAsync(frame, logScope: null, logger, body, state);
        }

        var activity = Activity.Current;
        if (activity is not null)
        {
            activity.SetTag(ActivityLaneTag, lane);
            activity.SetTag(ActivityLaneSourceTag, LaneSourceNames.Get(resolution.Source));
        }

        var cached = Cached.Get(lane, resolution.Source, request: true);
        frame = inboundBaggage.Count == 0 && !resolution.IsShadow ? cached.Frame : new Frame(lane, resolution.Source, request: true, inboundBaggage, resolution.IsShadow);
        return RunInFrameAsync(frame, cached.LogScope, logger, body, state);
    }

    /// <summary>The current frame; <see langword="null"/> outside any request or scope (then ambient fallbacks apply).</summary>
    internal static Frame? CurrentFrame => s_current.Value;

    internal static LaneScope Push(string? lane, LaneSource source) => Push(Frame.For(lane, source));

    internal static void Restore(Frame? previous) => s_current.Value = previous;

    private static LaneScope Push(Frame frame)
    {
        var previous = s_current.Value;
        s_current.Value = frame;
        return new LaneScope(previous);
    }

    private static async Task RunInFrameAsync<TState>(Frame frame, LaneLogScope? logScope, ILogger? logger, Func<TState, Task> body, TState state)
    {
        // No restore is needed: this is an async method, so the runtime puts the caller's execution context back
        // when it returns, synchronously or not, and the frame never reaches the caller.
        s_current.Value = frame;
        if (logScope is null || logger is null)
        {
            await body(state).ConfigureAwait(false);
            return;
        }

        using (logger.BeginScope(logScope))
        {
            await body(state).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An immutable lane, its source and the inbound <c>baggage</c> of the request it belongs to (empty for scopes and
    /// for requests without one); one per request or scope.
    /// </summary>
    internal sealed class Frame
    {
        public static readonly Frame Empty = new(null, LaneSource.None, request: false);

        public static readonly Frame EmptyRequest = new(null, LaneSource.None, request: true);

        public Frame(string? lane, LaneSource source, bool request, StringValues inboundBaggage = default, bool shadow = false)
        {
            Lane = lane;
            Shadow = shadow;
            Source = lane is null ? LaneSource.None : source;
            Request = request;
            InboundBaggage = inboundBaggage;

            // What OpenTelemetry made of the same header when the request arrived, to tell later edits apart.
            EntryBaggage = inboundBaggage.Count == 0 ? default : OpenTelemetry.Baggage.Current;
        }

        public string? Lane { get; }

        public LaneSource Source { get; }

        /// <summary>Set by <see cref="RunAsync{TState}"/> (an inbound request or message), not by a plain scope.</summary>
        public bool Request { get; }

        /// <summary>A shadow copy (<see cref="IsShadow"/>): never cached, so a cached frame is never one.</summary>
        public bool Shadow { get; }

        public StringValues InboundBaggage { get; }

        public OpenTelemetry.Baggage EntryBaggage { get; }

        public static Frame For(string? lane, LaneSource source) => lane is null ? Empty : Cached.Get(lane, source, request: false).Frame;

        /// <summary>
        /// The lane's own <c>baggage</c> member (<c>key=lane</c>) for <paramref name="key"/>, kept on the frame: a cached
        /// frame serves every request of its lane, so the usual outgoing call finds its member here without a lookup.
        /// </summary>
        public string LaneMember(string key)
        {
            var memo = _laneMember;
            if (memo is not null && string.Equals(memo.Key, key, StringComparison.Ordinal))
            {
                return memo.Value;
            }

            var value = W3C.OutboundBaggage.Member(key, Lane!);
            _laneMember = new Memo(key, value);
            return value;
        }

        private Memo? _laneMember;

        private sealed record Memo(string Key, string Value);
    }

    /// <summary>
    /// The frame and the logging scope of a lane and source, both immutable, cached for the first 256 combinations so
    /// a request of a known lane allocates neither.
    /// </summary>
    private sealed class Cached(Frame frame, LaneLogScope logScope)
    {
        private static readonly BoundedCache<(string Lane, LaneSource Source, bool Request), Cached> s_cache = new(256);

        public Frame Frame { get; } = frame;

        public LaneLogScope LogScope { get; } = logScope;

        public static Cached Get(string lane, LaneSource source, bool request)
            => s_cache.GetOrCreate((lane, source, request), static k => new Cached(new Frame(k.Lane, k.Source, k.Request), new LaneLogScope(k.Lane, k.Source)));
    }
}
