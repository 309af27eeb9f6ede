namespace Lanes.ReverseProxy;

/// <summary>
/// One colouring rule of the gateway (src/Lanes.ReverseProxy/README.md, "Per request, in this order", step 3): when every condition it sets holds, the request gets
/// <see cref="Lane"/>. Rules are tried in order and the first match wins. They apply to requests without a trusted
/// lane, or to every request when <see cref="Override"/> is set.
/// </summary>
public sealed class LaneColouringRule
{
    /// <summary>The lane to assign. Required.</summary>
    public string? Lane { get; set; }

    /// <summary>Match on this request header (at most one of <see cref="Header"/>, <see cref="Cookie"/>, <see cref="Query"/>).</summary>
    public string? Header { get; set; }

    /// <summary>Match on this cookie.</summary>
    public string? Cookie { get; set; }

    /// <summary>Match on this query parameter.</summary>
    public string? Query { get; set; }

    /// <summary>How to compare the header, cookie or query value. Default <see cref="LaneMatch.Exact"/>.</summary>
    public LaneMatch Match { get; set; }

    /// <summary>The value to compare with (a regular expression for <see cref="LaneMatch.Regex"/>); not used with <see cref="LaneMatch.Present"/>.</summary>
    public string? Value { get; set; }

    /// <summary>The request path starts with this prefix, on a segment boundary, case-insensitively (ASP.NET Core's <c>StartsWithSegments</c>).</summary>
    public string? PathPrefix { get; set; }

    /// <summary>The request method (case-insensitive).</summary>
    public string? Method { get; set; }

    /// <summary>
    /// Of the requests that meet the conditions, the share (0 to 100, decimals allowed) that gets the lane. Without
    /// <see cref="StickyKey"/> each request is drawn at random; with it, the same key always gets the same answer.
    /// </summary>
    public double? Percentage { get; set; }

    /// <summary>
    /// Where the sticky key of <see cref="Percentage"/> comes from: <c>header:NAME</c>, <c>cookie:NAME</c> or
    /// <c>query:NAME</c>. A request without the key does not match the rule.
    /// </summary>
    public string? StickyKey { get; set; }

    /// <summary>Apply this rule even when the request already has a trusted lane.</summary>
    public bool Override { get; set; }
}
