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

    /// <summary>
    /// A gateway with <c>Lanes:Trust</c> <c>AcceptDeclared</c> dropped the client's lane: no cluster and no configured
    /// service declares it or has an instance of it, and it is not in <see cref="LaneOptions.KnownLanes"/>. The request is
    /// not refused: it goes on without that lane (colouring rules and the default lane apply).
    /// </summary>
    Undeclared,
}
