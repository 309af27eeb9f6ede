namespace Lanes;

/// <summary>Names of the built-in presets for <see cref="LaneOptions.Preset"/>, written as strings by users (docs/behaviour.md, "Decisions where the contract is silent").</summary>
internal static class LanePresets
{
    /// <summary>DaoCloud mspider: header <c>x-mspider-lane</c>, alias <c>x-mspider-laneid</c>, default lane <c>green</c>.</summary>
    public const string MSpider = "mspider";

    /// <summary>NetEase Hango / NSF: header <c>x-nsf-mark</c>, no alias, no default lane.</summary>
    public const string Nsf = "nsf";
}
