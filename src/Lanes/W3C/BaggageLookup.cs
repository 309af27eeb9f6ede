namespace Lanes.W3C;

/// <summary>The outcome of looking a key up in baggage.</summary>
internal enum BaggageLookup
{
    /// <summary>No member has the key.</summary>
    NotFound,

    /// <summary>One value (possibly repeated identically).</summary>
    Found,

    /// <summary>The key appears with different values.</summary>
    Conflict,
}
