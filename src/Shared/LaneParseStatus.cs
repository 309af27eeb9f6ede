namespace Lanes.Parsing;

/// <summary>Outcome of parsing a lane value.</summary>
internal enum LaneParseStatus
{
    /// <summary>One valid lane (repeated identical values count as one).</summary>
    Valid,

    /// <summary>The value is empty or whitespace only.</summary>
    Empty,

    /// <summary>A lane is longer than the configured maximum length.</summary>
    TooLong,

    /// <summary>A lane holds a character outside <c>A-Z a-z 0-9 . _ -</c> (CR, LF, NUL, non-ASCII, ...).</summary>
    InvalidCharacter,

    /// <summary>Several different lanes (repeated header or comma list).</summary>
    Ambiguous,
}
