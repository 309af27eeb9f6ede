namespace Lanes;

/// <summary>The outcome of resolving the lane of a request or message (docs/behaviour.md, "Resolution").</summary>
public readonly struct LaneResolution : IEquatable<LaneResolution>
{
    /// <summary>A resolution to <paramref name="lane"/> (null: none) from <paramref name="source"/>, for entry points that decide a lane themselves (the gateway's colouring rules).</summary>
    public LaneResolution(string? lane, LaneSource source)
        : this(lane, source, LaneRejection.None)
    {
    }

    internal LaneResolution(string? lane, LaneSource source, LaneRejection rejection)
    {
        Lane = lane;
        Source = lane is null ? LaneSource.None : source;
        Rejection = rejection;
    }

    /// <summary>The lane, or <see langword="null"/> when none resolved or the input was rejected.</summary>
    public string? Lane { get; }

    /// <summary>Where <see cref="Lane"/> came from.</summary>
    public LaneSource Source { get; }

    /// <summary>Why a policy refused the input; <see cref="LaneRejection.None"/> otherwise.</summary>
    public LaneRejection Rejection { get; }

    /// <summary>True when a policy refused the input (the middleware answers 400).</summary>
    public bool IsRejected => Rejection != LaneRejection.None;

    /// <inheritdoc />
    public bool Equals(LaneResolution other)
        => string.Equals(Lane, other.Lane, StringComparison.Ordinal) && Source == other.Source && Rejection == other.Rejection;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LaneResolution other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Lane is null ? 0 : StringComparer.Ordinal.GetHashCode(Lane), Source, Rejection);

    /// <inheritdoc />
    public override string ToString() => IsRejected ? $"rejected: {Rejection}" : Lane is null ? "none" : $"{Lane} ({Source})";

    /// <summary>Equality.</summary>
    public static bool operator ==(LaneResolution left, LaneResolution right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(LaneResolution left, LaneResolution right) => !left.Equals(right);
}
