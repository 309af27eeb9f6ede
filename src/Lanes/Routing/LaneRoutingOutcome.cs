namespace Lanes.Routing;

/// <summary>How a request was routed among a service's instances (the <c>outcome</c> tag of <c>lanes.routed</c>).</summary>
public enum LaneRoutingOutcome
{
    /// <summary>The request's lane had healthy instances and one of them served it.</summary>
    Matched = 0,

    /// <summary>The request had no lane, or its lane could not be served, and the policy chose another subset.</summary>
    Fallback = 1,

    /// <summary>Nothing could serve the request: it got 503 <c>no healthy upstream</c>.</summary>
    NoUpstream = 2,
}
