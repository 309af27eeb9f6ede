namespace Lanes;

/// <summary>What to do with an invalid lane value: too long, other characters, CR/LF, empty, ambiguous (docs/behaviour.md, "Lane values").</summary>
public enum InvalidLanePolicy
{
    /// <summary>Treat it as absent: the next source is tried (aliases, then the default). The default.</summary>
    Ignore = 0,

    /// <summary>Answer 400 <c>application/problem+json</c>. The value is never echoed.</summary>
    Reject,
}
