namespace Lanes.Diagnostics;

/// <summary>Cached lower-case names of <see cref="LaneSource"/> values, for tags and log scopes (no per-request allocation).</summary>
internal static class LaneSourceNames
{
    private static readonly string[] s_names = ["none", "header", "alias", "default", "scope", "baggage", "trace_cache", "colouring"];

    public static string Get(LaneSource source)
    {
        var index = (int)source;
        return (uint)index < (uint)s_names.Length ? s_names[index] : "other";
    }
}
