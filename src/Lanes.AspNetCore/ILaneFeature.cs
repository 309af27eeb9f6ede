namespace Lanes.AspNetCore;

/// <summary>
/// The lane an entry point resolved for this request, as an <c>HttpContext</c> feature. Set by an entry that runs
/// before <c>app.UseLanes()</c> (the YARP gateway's): <c>UseLanes()</c> then leaves the request alone, so a gateway
/// that also calls it resolves and counts each request once.
/// </summary>
public interface ILaneFeature
{
    /// <summary>The request's resolution.</summary>
    LaneResolution Resolution { get; }
}
