using Lanes.Parsing;

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
    private static readonly AsyncLocal<Frame?> s_current = new();

    /// <summary>The current lane, or <see langword="null"/> when there is none.</summary>
    public static string? Current => s_current.Value?.Lane;

    /// <summary>Where <see cref="Current"/> came from; <see cref="LaneSource.None"/> when there is no lane.</summary>
    public static LaneSource CurrentSource => s_current.Value?.Source ?? LaneSource.None;

    /// <summary>
    /// Makes <paramref name="lane"/> current until the returned scope is disposed. <see langword="null"/>
    /// starts a scope with no lane (nothing is propagated inside it).
    /// </summary>
    /// <param name="lane">A lane: 1..256 characters of <c>A-Z a-z 0-9 . _ -</c>, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="lane"/> is not a valid lane. The message escapes it.</exception>
    public static LaneScope Begin(string? lane)
    {
        if (lane is not null && !LaneParser.IsValidLane(lane, LaneParser.AbsoluteMaxLength))
        {
            throw new ArgumentException(
                $"'{LaneParser.Escape(lane)}' is not a valid lane: use 1 to {LaneParser.AbsoluteMaxLength} characters of A-Z a-z 0-9 . _ -, or null for no lane.",
                nameof(lane));
        }

        return Push(lane, LaneSource.Scope);
    }

    /// <summary>
    /// Makes a resolved lane current (keeping its source) until the returned scope is disposed; for message
    /// consumers: <c>using (LaneContext.Begin(propagator.Extract(headers, getter))) { ... }</c>.
    /// </summary>
    public static LaneScope Begin(LaneResolution resolution) => Push(resolution.Lane, resolution.Source);

    /// <summary>The current frame; <see langword="null"/> outside any request or scope (then ambient fallbacks apply).</summary>
    internal static Frame? CurrentFrame => s_current.Value;

    internal static LaneScope Push(string? lane, LaneSource source)
    {
        var previous = s_current.Value;
        s_current.Value = lane is null ? Frame.Empty : new Frame(lane, source);
        return new LaneScope(previous);
    }

    /// <summary>Sets the current frame and returns the previous one, for the middleware's try/finally.</summary>
    internal static Frame? Swap(Frame? frame)
    {
        var previous = s_current.Value;
        s_current.Value = frame;
        return previous;
    }

    internal static void Restore(Frame? previous) => s_current.Value = previous;

    /// <summary>An immutable lane and its source; one per request or scope.</summary>
    internal sealed class Frame(string? lane, LaneSource source)
    {
        public static readonly Frame Empty = new(null, LaneSource.None);

        public string? Lane { get; } = lane;

        public LaneSource Source { get; } = source;
    }
}
