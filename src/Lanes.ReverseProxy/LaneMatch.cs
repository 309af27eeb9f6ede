namespace Lanes.ReverseProxy;

/// <summary>How a colouring rule compares a header, cookie or query value.</summary>
public enum LaneMatch
{
    /// <summary>The value equals <see cref="LaneColouringRule.Value"/> (ordinal, case-sensitive, like Istio <c>exact</c>).</summary>
    Exact = 0,

    /// <summary>The value starts with <see cref="LaneColouringRule.Value"/> (ordinal).</summary>
    Prefix = 1,

    /// <summary>
    /// The whole value matches the regular expression <see cref="LaneColouringRule.Value"/> (anchored, like Istio
    /// <c>regex</c>). Compiled non-backtracking: time linear in the input, so no input can make it slow.
    /// </summary>
    Regex = 2,

    /// <summary>The header, cookie or query parameter is present, whatever its value.</summary>
    Present = 3,
}
