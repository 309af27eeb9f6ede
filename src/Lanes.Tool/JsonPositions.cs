using System.Text.RegularExpressions;

namespace Lanes.Tool;

/// <summary>
/// Where a configuration key (<c>Lanes:Services:details:Instances:a:Address</c>) named by a validation message is in
/// its JSON file: each segment's quoted property name is found after the previous one, so the position is that of
/// the last segment. Configuration keys are case-insensitive, so is the search. Line 1, column 1 when not found.
/// </summary>
internal static partial class JsonPositions
{
    public static (int Line, int Column) Find(string json, string message)
    {
        if (KeyPath().Match(message) is not { Success: true } key)
        {
            return (1, 1);
        }

        var at = -1;
        var from = 0;
        foreach (var segment in key.Value.Split(':'))
        {
            var next = json.IndexOf("\"" + segment + "\"", from, StringComparison.OrdinalIgnoreCase);
            if (next < 0)
            {
                break;                                                  // an array index or a default: the closest found
            }

            at = next;
            from = next + segment.Length + 2;
        }

        if (at < 0)
        {
            return (1, 1);
        }

        var line = 1 + json.AsSpan(0, at).Count('\n');
        var column = at - (json.LastIndexOf('\n', Math.Max(at - 1, 0)) + 1) + 1;
        return (line, column);
    }

    [GeneratedRegex(@"Lanes(:[A-Za-z0-9_.\-]+)+")]
    private static partial Regex KeyPath();
}
