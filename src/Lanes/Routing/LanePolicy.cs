namespace Lanes.Routing;

/// <summary>
/// What a service does with a request whose lane it cannot serve (docs/behaviour.md, "Subset selection"). The table in the package README
/// lists every case; <see cref="Permissive"/> is the default.
/// </summary>
public enum LanePolicy
{
    /// <summary>
    /// A lane without healthy instances falls back to the baseline, whether or not it is declared (ASM permissive,
    /// Polaris <c>PERMISSIVE</c>). Unlike Envoy, an all-unhealthy lane falls back too.
    /// </summary>
    Permissive = 0,

    /// <summary>A lane without healthy instances gets 503; only a request without a lane goes to the baseline (Envoy <c>NO_FALLBACK</c>).</summary>
    Strict = 1,

    /// <summary>
    /// Hango's table: a declared lane without healthy instances gets 503, an undeclared lane goes to the baseline.
    /// </summary>
    Declared = 2,

    /// <summary>A lane without healthy instances, and a request without a lane, go to every healthy instance (Envoy <c>ANY_ENDPOINT</c>).</summary>
    Any = 3,
}
