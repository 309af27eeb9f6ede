using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Lanes.W3C;

/// <summary>
/// Reads and writes the lane's member of a W3C <c>tracestate</c> list (<c>https://www.w3.org/TR/trace-context/#tracestate-header</c>;
/// docs/polyglot.md, "The carriers").
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Several <c>tracestate</c> headers are one list, in order; optional whitespace around members is ignored and
/// empty members are skipped, as the specification asks.</item>
/// <item>A member is <c>key=value</c>: a key is 1 to 256 of <c>a-z 0-9 _ - * / @</c> starting with a letter or digit, a
/// value 1 to 256 printable ASCII characters other than <c>,</c> and <c>=</c>, not ending in a space. A list with a
/// member that breaks the grammar, or with more than <see cref="MaxMembers"/> members, is invalid: it is not read, and
/// when rewritten it is discarded whole (the lane member goes alone), as the W3C test suite expects.</item>
/// <item>Limits: at most <see cref="MaxMembers"/> members are written (the lane's first, then the others from the left,
/// the rightmost dropped); a list longer than <see cref="MaxLength"/> characters is not read and, when rewritten,
/// members are dropped from the right until it fits, never a partial member.</item>
/// </list>
/// </remarks>
internal static class TraceState
{
    public const string HeaderName = "tracestate";

    /// <summary>The specification's limit on list members.</summary>
    public const int MaxMembers = 32;

    /// <summary>The longest list read or written: as the largest <c>baggage</c> Lanes reads (the specification asks for at least 512).</summary>
    public const int MaxLength = 8192;

    [ThreadStatic]
    private static LastBuild? t_last;

    private static readonly SearchValues<char> s_keyChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_-*/@");
    private static readonly SearchValues<char> s_lowerAlphaDigit = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789");

    /// <summary>
    /// True when <paramref name="key"/> is a W3C <c>tracestate</c> key: 1 to 256 characters, a lower-case letter or digit,
    /// then <c>a-z 0-9 _ - * / @</c> (the grammar of the current specification and of its test suite, which also
    /// accepts the older simple and multi-tenant keys).
    /// </summary>
    public static bool IsValidKey(ReadOnlySpan<char> key)
        => key.Length is >= 1 and <= 256 && s_lowerAlphaDigit.Contains(key[0]) && !key[1..].ContainsAnyExcept(s_keyChars);

    /// <summary>True when <paramref name="value"/> is a W3C <c>tracestate</c> value.</summary>
    public static bool IsValidValue(ReadOnlySpan<char> value)
    {
        if (value.Length is < 1 or > 256 || value[^1] == ' ')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or ',' or '=')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Finds the member with <paramref name="key"/>. A list over <see cref="MaxLength"/> is not read (<see cref="BaggageLookup.NotFound"/>);
    /// the key repeated with different values is <see cref="BaggageLookup.Conflict"/>; a malformed member with the key
    /// is <see cref="BaggageLookup.Found"/> with its raw value, which the caller then finds invalid as a lane.
    /// </summary>
    public static BaggageLookup Find(StringValues headers, string key, out string? value)
    {
        value = null;
        if (TotalLength(headers) > MaxLength || !IsValidList(headers))
        {
            return BaggageLookup.NotFound;
        }

        var members = new Members(headers);
        while (members.MoveNext())
        {
            var member = members.Current;
            var eq = member.IndexOf('=');
            if (eq <= 0 || !member[..eq].SequenceEqual(key))
            {
                continue;
            }

            var found = member[(eq + 1)..];
            if (value is null)
            {
                value = found.ToString();
            }
            else if (!found.SequenceEqual(value))
            {
                value = null;
                return BaggageLookup.Conflict;
            }
        }

        return value is null ? BaggageLookup.NotFound : BaggageLookup.Found;
    }

    /// <summary>True when some member of <paramref name="headers"/> has <paramref name="key"/>.</summary>
    public static bool Mentions(StringValues headers, string key)
    {
        var members = new Members(headers);
        while (members.MoveNext())
        {
            var eq = members.Current.IndexOf('=');
            if (eq > 0 && members.Current[..eq].SequenceEqual(key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The list to send: <c>key=lane</c> first (when <paramref name="lane"/> is set), then every valid member of
    /// <paramref name="existing"/> in order except those with <paramref name="key"/>, at most <see cref="MaxMembers"/>
    /// members and <see cref="MaxLength"/> characters. Null when nothing is left.
    /// </summary>
    public static string? Build(string key, string? lane, StringValues existing)
    {
        var builder = new StringBuilder();
        var members = 0;
        if (lane is not null)
        {
            builder.Append(key).Append('=').Append(lane);
            members = 1;
        }

        if (!IsValidList(existing))
        {
            // A list that breaks the grammar or has more than 32 members is discarded whole, as W3C trace context's
            // test suite expects of a vendor; the lane member goes out alone.
            existing = StringValues.Empty;
        }

        var list = new Members(existing);
        while (members < MaxMembers && list.MoveNext())
        {
            var member = list.Current;
            if (member[..member.IndexOf('=')].SequenceEqual(key))
            {
                continue;
            }

            if (builder.Length + member.Length + (builder.Length > 0 ? 1 : 0) > MaxLength)
            {
                break;                                          // the rest is dropped from the right, never part of a member
            }

            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(member);
            members++;
        }

        return builder.Length == 0 ? null : builder.ToString();
    }

    /// <summary>
    /// <see cref="Build"/> for one list value, remembering the last answer per thread: the calls of one request carry the
    /// same trace state, so each call after the first reuses the string instead of building it again.
    /// </summary>
    public static string? BuildCached(string key, string lane, string? existing)
    {
        var last = t_last;
        if (last is not null && ReferenceEquals(last.Key, key) && string.Equals(last.Lane, lane, StringComparison.Ordinal)
            && string.Equals(last.Existing, existing, StringComparison.Ordinal))
        {
            return last.Result;
        }

        var result = Build(key, lane, new StringValues(existing));
        t_last = new LastBuild(key, lane, existing, result);
        return result;
    }

    /// <summary>True when the first member of <paramref name="value"/> is exactly <c>key=lane</c>.</summary>
    public static bool StartsWithLaneMember(string value, string key, string lane)
    {
        var span = value.AsSpan().TrimStart(" \t");
        return span.Length >= key.Length + 1 + lane.Length
            && span.StartsWith(key, StringComparison.Ordinal)
            && span[key.Length] == '='
            && span[(key.Length + 1)..].StartsWith(lane, StringComparison.Ordinal)
            && (span.Length == key.Length + 1 + lane.Length || span[key.Length + 1 + lane.Length] is ',' or ' ' or '\t');
    }

    /// <summary>Every non-empty member is <c>key=value</c> in the grammar, and there are at most <see cref="MaxMembers"/>.</summary>
    public static bool IsValidList(StringValues headers)
    {
        var count = 0;
        var members = new Members(headers);
        while (members.MoveNext())
        {
            var member = members.Current;
            var eq = member.IndexOf('=');
            if (eq <= 0 || ++count > MaxMembers || !IsValidKey(member[..eq]) || !IsValidValue(member[(eq + 1)..]))
            {
                return false;
            }
        }

        return true;
    }

    private static int TotalLength(StringValues headers)
    {
        var total = 0;
        for (var h = 0; h < headers.Count; h++)
        {
            total += (headers[h]?.Length ?? 0) + 1;
        }

        return total;
    }

    private sealed record LastBuild(string Key, string Lane, string? Existing, string? Result);

    /// <summary>The non-empty list members of one or more <c>tracestate</c> headers, in order, optional whitespace trimmed.</summary>
    private ref struct Members(StringValues headers)
    {
        private int _header = -1;
        private ReadOnlySpan<char> _text;

        public ReadOnlySpan<char> Current { get; private set; }

        public bool MoveNext()
        {
            while (true)
            {
                while (_text.IsEmpty)
                {
                    if (++_header >= headers.Count)
                    {
                        return false;
                    }

                    _text = (headers[_header] ?? string.Empty).AsSpan();
                }

                var comma = _text.IndexOf(',');
                var member = (comma < 0 ? _text : _text[..comma]).Trim(" \t");
                _text = comma < 0 ? default : _text[(comma + 1)..];
                if (!member.IsEmpty)
                {
                    Current = member;
                    return true;
                }
            }
        }
    }
}
