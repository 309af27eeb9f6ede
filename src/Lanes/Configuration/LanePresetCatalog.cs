namespace Lanes.Configuration;

/// <summary>The built-in presets (docs/behaviour.md, "Decisions where the contract is silent").</summary>
internal static class LanePresetCatalog
{
    internal sealed record PresetDefinition(string Header, string[] Aliases, string? DefaultLane);

    private static readonly PresetDefinition s_mspider = new("x-mspider-lane", ["x-mspider-laneid"], "green");
    private static readonly PresetDefinition s_nsf = new("x-nsf-mark", [], null);

    /// <summary>Every preset's lane headers (canonical and aliases) with the preset's name.</summary>
    public static readonly (string Header, string Preset)[] Headers =
    [
        (s_mspider.Header, LanePresets.MSpider),
        (s_mspider.Aliases[0], LanePresets.MSpider),
        (s_nsf.Header, LanePresets.Nsf),
    ];

    public static bool TryGet(string? name, out PresetDefinition? preset)
    {
        preset = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return true;
        }

        if (string.Equals(name.Trim(), LanePresets.MSpider, StringComparison.OrdinalIgnoreCase))
        {
            preset = s_mspider;
            return true;
        }

        if (string.Equals(name.Trim(), LanePresets.Nsf, StringComparison.OrdinalIgnoreCase))
        {
            preset = s_nsf;
            return true;
        }

        return false;
    }
}
