using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Lanes.Parsing;

/// <summary>
/// Parses and validates lane values (docs/behaviour.md, "Lane values"). The one place that decides what a lane is: every package
/// (middleware, propagators, gateway, client routing) goes through it.
/// </summary>
/// <remarks>
/// A lane is 1..<c>maxLength</c> characters of <c>A-Z a-z 0-9 . _ -</c>; surrounding spaces and tabs are
/// trimmed. A header value may be a comma list and a header may repeat: identical lanes count as one,
/// different lanes are <see cref="LaneParseStatus.Ambiguous"/>. Empty list elements are ignored, as RFC 9110
/// section 5.6.1 asks of recipients; a value with no element at all is <see cref="LaneParseStatus.Empty"/>.
/// Parsing allocates nothing when the lane is the whole header value (the usual case).
/// </remarks>
internal static class LaneParser
{
    /// <summary>The default maximum length of a lane (docs/behaviour.md, "Lane values").</summary>
    public const int DefaultMaxLength = 63;

    /// <summary>The largest maximum length that options accept; <c>LaneContext.Begin</c> checks against it.</summary>
    public const int AbsoluteMaxLength = 256;

    /// <summary>The characters a lane may hold.</summary>
    public const string AllowedCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

    private static readonly SearchValues<char> s_laneChars = SearchValues.Create(AllowedCharacters);

    /// <summary>
    /// The rule a lane follows, for messages that tell a user what to write: "1 to 63 characters of A-Z a-z 0-9 . _ -".
    /// The one wording of it: option validation, routing metadata, problem details and exceptions all use it.
    /// </summary>
    public static string Rule(int maxLength)
        => $"1 to {maxLength.ToString(System.Globalization.CultureInfo.InvariantCulture)} characters of {AllowedCharacterRanges}";

    /// <summary>Parses every value of a (possibly repeated) header.</summary>
    public static LaneParseStatus Parse(StringValues values, int maxLength, out string? lane)
    {
        lane = null;
        var count = values.Count;
        if (count == 0)
        {
            return LaneParseStatus.Empty;
        }

        if (count == 1)
        {
            return Parse(values[0], maxLength, out lane);
        }

        for (var i = 0; i < count; i++)
        {
            var status = Parse(values[i], maxLength, out var candidate);
            if (status == LaneParseStatus.Empty)
            {
                continue;
            }

            if (status != LaneParseStatus.Valid)
            {
                lane = null;
                return status;
            }

            if (lane is null)
            {
                lane = candidate;
            }
            else if (!string.Equals(lane, candidate, StringComparison.Ordinal))
            {
                lane = null;
                return LaneParseStatus.Ambiguous;
            }
        }

        return lane is null ? LaneParseStatus.Empty : LaneParseStatus.Valid;
    }

    /// <summary>Parses one header value, which may be a comma list.</summary>
    public static LaneParseStatus Parse(string? value, int maxLength, out string? lane)
    {
        lane = null;
        if (string.IsNullOrEmpty(value))
        {
            return LaneParseStatus.Empty;
        }

        var span = value.AsSpan();
        var firstStart = -1;
        var firstLength = 0;
        var position = 0;
        while (position <= span.Length)
        {
            var rest = span[position..];
            var comma = rest.IndexOf(',');
            var elementLength = comma < 0 ? rest.Length : comma;
            var element = rest[..elementLength];

            var start = 0;
            var end = element.Length;
            while (start < end && IsOws(element[start]))
            {
                start++;
            }

            while (end > start && IsOws(element[end - 1]))
            {
                end--;
            }

            if (end > start)
            {
                var trimmed = element[start..end];
                var status = Validate(trimmed, maxLength);
                if (status != LaneParseStatus.Valid)
                {
                    return status;
                }

                if (firstStart < 0)
                {
                    firstStart = position + start;
                    firstLength = trimmed.Length;
                }
                else if (!trimmed.SequenceEqual(span.Slice(firstStart, firstLength)))
                {
                    return LaneParseStatus.Ambiguous;
                }
            }

            if (comma < 0)
            {
                break;
            }

            position += comma + 1;
        }

        if (firstStart < 0)
        {
            return LaneParseStatus.Empty;
        }

        lane = firstStart == 0 && firstLength == value.Length ? value : value.Substring(firstStart, firstLength);
        return LaneParseStatus.Valid;
    }

    /// <summary>Checks one already-trimmed lane.</summary>
    public static LaneParseStatus Validate(ReadOnlySpan<char> lane, int maxLength)
    {
        if (lane.IsEmpty)
        {
            return LaneParseStatus.Empty;
        }

        if (lane.Length > maxLength)
        {
            return LaneParseStatus.TooLong;
        }

        return lane.ContainsAnyExcept(s_laneChars) ? LaneParseStatus.InvalidCharacter : LaneParseStatus.Valid;
    }

    /// <summary>True when <paramref name="lane"/> is exactly one valid lane (no trimming, no list).</summary>
    public static bool IsValidLane(string? lane, int maxLength = DefaultMaxLength)
        => lane is not null && Validate(lane, maxLength) == LaneParseStatus.Valid;

    /// <summary>
    /// Makes an untrusted value safe to write in a log line: characters outside printable ASCII become
    /// <c>\xNN</c> or <c>\uNNNN</c>, backslashes are doubled, double quotes become <c>\x22</c>, and the result is cut to about
    /// <paramref name="maxChars"/> characters with the original length noted.
    /// </summary>
    public static string Escape(StringValues values, int maxChars = 64)
    {
        var builder = new StringBuilder(Math.Min(maxChars + 24, 128));
        var total = 0;
        var cut = false;
        for (var v = 0; v < values.Count; v++)
        {
            var value = values[v] ?? string.Empty;
            if (v > 0)
            {
                total += 2;
                if (!cut)
                {
                    builder.Append(", ");
                }
            }

            total += value.Length;
            foreach (var c in value)
            {
                if (builder.Length >= maxChars)
                {
                    cut = true;
                    break;
                }

                AppendEscaped(builder, c);
            }
        }

        if (cut)
        {
            builder.Append("...(").Append(total.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(" chars)");
        }

        return builder.ToString();
    }

    /// <summary>A short, stable, human-readable reason for a status, safe for logs and problem details.</summary>
    public static string Describe(LaneParseStatus status, int maxLength) => status switch
    {
        LaneParseStatus.Empty => "empty",
        LaneParseStatus.TooLong => $"longer than {maxLength.ToString(System.Globalization.CultureInfo.InvariantCulture)} characters",
        LaneParseStatus.InvalidCharacter => "characters outside " + AllowedCharacterRanges,
        LaneParseStatus.Ambiguous => "several different lanes",
        _ => "valid",
    };

    private const string AllowedCharacterRanges = "A-Z a-z 0-9 . _ -";

    private static bool IsOws(char c) => c is ' ' or '\t';

    private static void AppendEscaped(StringBuilder builder, char c)
    {
        if (c == '\\')
        {
            builder.Append(@"\\");
        }
        else if (c == '"')
        {
            // Log messages quote the value: an unescaped quote would let a value close the quotes and forge fields.
            builder.Append(@"\x22");
        }
        else if (c is >= ' ' and <= '~')
        {
            builder.Append(c);
        }
        else if (c <= 0xFF)
        {
            builder.Append(@"\x").Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            builder.Append(@"\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
