namespace Lanes.Routing;

/// <summary>Why a request was not served by its own lane (the <c>x-lane-fallback</c> debug header and the <c>reason</c> metric tag).</summary>
public enum LaneFallbackReason
{
    /// <summary>The request was served by its own lane.</summary>
    None = 0,

    /// <summary>The request had no lane (<c>no-lane</c>).</summary>
    NoLane = 1,

    /// <summary>The lane is declared, or has instances, but none is healthy (<c>lane-unavailable</c>).</summary>
    LaneUnavailable = 2,

    /// <summary>The lane is neither declared nor carried by any instance (<c>lane-undeclared</c>).</summary>
    LaneUndeclared = 3,
}
