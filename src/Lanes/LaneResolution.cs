namespace Lanes;

/// <summary>The outcome of resolving the lane of a request or message (docs/behaviour.md, "Resolution").</summary>
public readonly struct LaneResolution : IEquatable<LaneResolution>
{
    /// <summary>A resolution to <paramref name="lane"/> (null: none) from <paramref name="source"/>, for entry points that decide a lane themselves (the gateway's colouring rules).</summary>
    public LaneResolution(string? lane, LaneSource source)
        : this(lane, source, LaneRejection.None)
    {
    }

    /// <summary>
    /// A resolution to <paramref name="lane"/> from <paramref name="source"/> that is (or is not) a shadow copy
    /// (<see cref="IsShadow"/>), for entry points that decide both themselves (a gateway that trusts a client's marker).
    /// </summary>
    public LaneResolution(string? lane, LaneSource source, bool isShadow)
        : this(lane, source, LaneRejection.None, isShadow)
    {
    }

    internal LaneResolution(string? lane, LaneSource source, LaneRejection rejection, bool isShadow = false)
    {
        Lane = lane;
        Source = lane is null ? LaneSource.None : source;
        Rejection = rejection;
        IsShadow = isShadow && rejection == LaneRejection.None;
    }

    /// <summary>The lane, or <see langword="null"/> when none resolved or the input was rejected.</summary>
    public string? Lane { get; }

    /// <summary>Where <see cref="Lane"/> came from.</summary>
    public LaneSource Source { get; }

    /// <summary>Why a policy refused the input; <see cref="LaneRejection.None"/> otherwise.</summary>
    public LaneRejection Rejection { get; }

    /// <summary>
    /// True when the request or message is a shadow copy (docs/behaviour.md, "Shadow lanes"): it carried
    /// <see cref="LaneContext.ShadowHeader"/> <c>1</c> or the <c>baggage</c> member <see cref="LaneContext.ShadowBaggageKey"/><c>=1</c>.
    /// </summary>
    public bool IsShadow { get; }

    /// <summary>True when a policy refused the input (the middleware answers 400).</summary>
    public bool IsRejected => Rejection != LaneRejection.None;

    /// <inheritdoc />
    public bool Equals(LaneResolution other)
        => string.Equals(Lane, other.Lane, StringComparison.Ordinal) && Source == other.Source && Rejection == other.Rejection && IsShadow == other.IsShadow;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LaneResolution other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Lane is null ? 0 : StringComparer.Ordinal.GetHashCode(Lane), Source, Rejection, IsShadow);

    /// <inheritdoc />
    public override string ToString() => (IsRejected ? $"rejected: {Rejection}" : Lane is null ? "none" : $"{Lane} ({Source})") + (IsShadow ? ", shadow" : string.Empty);

    /// <summary>The same resolution, marked as a shadow copy.</summary>
    internal LaneResolution AsShadow() => new(Lane, Source, Rejection, isShadow: true);

    /// <summary>Equality.</summary>
    public static bool operator ==(LaneResolution left, LaneResolution right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(LaneResolution left, LaneResolution right) => !left.Equals(right);
}
