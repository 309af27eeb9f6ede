namespace Lanes.Testing;

/// <summary>
/// DESIGN 6's table for Strict, Permissive and Declared over one fleet, shared by every transport that routes by
/// lane (HTTP client routing, gRPC balancing): green, yellow and unlabelled instances are up; red is declared and
/// its only instance is down; blue is declared with no instance; purple is neither. The baseline is the
/// unlabelled instance. Each row: policy, the call's lane (null: none), the instance that must answer ("503": none).
/// </summary>
public static class Design6Rows
{
    public static TheoryData<string, string?, string> Rows => new()
    {
        { "strict", null, "unlabelled" },
        { "permissive", null, "unlabelled" },
        { "declared", null, "unlabelled" },
        { "strict", "yellow", "yellow" },
        { "permissive", "yellow", "yellow" },
        { "declared", "yellow", "yellow" },
        { "strict", "red", "503" },
        { "permissive", "red", "unlabelled" },
        { "declared", "red", "503" },
        { "strict", "blue", "503" },
        { "permissive", "blue", "unlabelled" },
        { "declared", "blue", "503" },
        { "strict", "purple", "503" },
        { "permissive", "purple", "unlabelled" },
        { "declared", "purple", "unlabelled" },
    };
}
