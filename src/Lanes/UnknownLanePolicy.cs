namespace Lanes;

/// <summary>What to do with a valid lane that is not in <see cref="LaneOptions.KnownLanes"/> (docs/behaviour.md, "Lane values").</summary>
public enum UnknownLanePolicy
{
    /// <summary>Keep it and let it flow (the default: Hango's <c>dev3</c> must still reach the next hop).</summary>
    Keep = 0,

    /// <summary>Replace it by <see cref="LaneOptions.DefaultLane"/> (or by no lane when there is no default).</summary>
    UseDefault,

    /// <summary>Answer 400 <c>application/problem+json</c>.</summary>
    Reject,
}
