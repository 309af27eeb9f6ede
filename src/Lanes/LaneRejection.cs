namespace Lanes;

/// <summary>Why a request was refused a lane by policy; <see cref="None"/> when it was not.</summary>
public enum LaneRejection
{
    /// <summary>Not rejected.</summary>
    None = 0,

    /// <summary>A lane header held an invalid value and <see cref="LaneOptions.InvalidLanePolicy"/> is <see cref="InvalidLanePolicy.Reject"/>.</summary>
    InvalidValue,

    /// <summary>The lane is not in <see cref="LaneOptions.KnownLanes"/> and <see cref="LaneOptions.UnknownLanePolicy"/> is <see cref="UnknownLanePolicy.Reject"/>.</summary>
    UnknownLane,

    /// <summary>No lane resolved and <see cref="LaneOptions.RequireLane"/> is set.</summary>
    Missing,
}
