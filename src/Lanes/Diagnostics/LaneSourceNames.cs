namespace Lanes.Diagnostics;

/// <summary>Cached lower-case names of <see cref="LaneSource"/> values, for tags and log scopes (no per-request allocation).</summary>
internal static class LaneSourceNames
{
    public static string Get(LaneSource source) => source switch
    {
        LaneSource.None => "none",
        LaneSource.Header => "header",
        LaneSource.Alias => "alias",
        LaneSource.Default => "default",
        LaneSource.Scope => "scope",
        LaneSource.Baggage => "baggage",
        LaneSource.TraceCache => "trace_cache",
        LaneSource.Colouring => "colouring",
        LaneSource.TraceState => "tracestate",
        LaneSource.Jaeger => "jaeger",
        LaneSource.OtTrace => "ottrace",
        _ => "other",
    };
}
