using Microsoft.Extensions.Primitives;

namespace Lanes.W3C;

/// <summary>
/// Reads W3C <c>baggage</c> headers (<c>https://www.w3.org/TR/baggage/</c>) without copying them.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Several <c>baggage</c> headers are one list, in order. Whitespace (spaces and tabs) around <c>=</c>,
/// <c>,</c> and <c>;</c> is ignored; empty list elements are skipped.</item>
/// <item>A member is <c>key=value</c> followed by optional <c>;property</c>s, which are not part of the value.
/// A member that breaks the grammar (key not a token, a character outside baggage-octets in the value, a bad
/// property) is skipped; the members around it are kept.</item>
/// <item>Limits (W3C): at most <see cref="MaxMembers"/> members and <see cref="MaxBytes"/> bytes, counting each
/// kept member as <c>key=value[;properties]</c> plus one byte per separating comma. Reading stops at the first
/// valid member that would cross a limit, so no partial member is ever read and work is bounded; skipped
/// invalid members do not count.</item>
/// </list>
/// </remarks>
internal static class BaggageParser
{
    public const string HeaderName = "baggage";

    /// <summary>The most members read or written: OpenTelemetry's baggage propagator carries 180, so Lanes does too.</summary>
    public const int MaxMembers = 180;

    public const int MaxBytes = 8192;

    public static Enumerator Enumerate(StringValues headers) => new(headers);

    /// <summary>
    /// Finds the member with <paramref name="key"/> (ordinal). Duplicates with the same decoded value count as one;
    /// duplicates with different values are <see cref="BaggageLookup.Conflict"/> (like a repeated lane header, docs/behaviour.md, "Lane values").
    /// </summary>
    public static BaggageLookup Find(StringValues headers, string key, out string? value)
    {
        value = null;
        var members = Enumerate(headers);
        while (members.MoveNext())
        {
            var member = members.Current;
            if (!member.HasKey(key))
            {
                continue;
            }

            var decoded = member.DecodeValue();
            if (value is null)
            {
                value = decoded;
            }
            else if (!string.Equals(value, decoded, StringComparison.Ordinal))
            {
                value = null;
                return BaggageLookup.Conflict;
            }
        }

        return value is null ? BaggageLookup.NotFound : BaggageLookup.Found;
    }

    /// <summary>
    /// True when some list element of <paramref name="headers"/>, valid or not, starts with <paramref name="key"/> before
    /// its <c>=</c> (or <c>;</c>): the key was in the header, whatever another parser made of that element.
    /// </summary>
    public static bool MentionsKey(StringValues headers, ReadOnlySpan<char> key)
    {
        for (var h = 0; h < headers.Count; h++)
        {
            var text = headers[h].AsSpan();
            while (!text.IsEmpty)
            {
                var comma = text.IndexOf(',');
                var element = comma < 0 ? text : text[..comma];
                text = comma < 0 ? default : text[(comma + 1)..];
                var end = element.IndexOfAny('=', ';');
                if ((end < 0 ? element : element[..end]).Trim(" \t").SequenceEqual(key))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Parses one list element (between commas); false when it is empty or breaks the grammar.</summary>
    internal static bool TryParseMember(string text, int start, int end, out BaggageMember member)
    {
        member = default;
        start = SkipOws(text, start, end);
        end = TrimOwsEnd(text, start, end);
        if (start == end)
        {
            return false;
        }

        var keyEnd = ScanToken(text, start, end);
        if (keyEnd == start)
        {
            return false;
        }

        var i = SkipOws(text, keyEnd, end);
        if (i == end || text[i] != '=')
        {
            return false;
        }

        var valueStart = SkipOws(text, i + 1, end);
        var valueEnd = ScanValue(text, valueStart, end);
        i = SkipOws(text, valueEnd, end);
        var propertiesStart = end;
        if (i < end)
        {
            if (text[i] != ';' || !ValidateProperties(text, i, end))
            {
                return false;
            }

            propertiesStart = SkipOws(text, i + 1, end);
        }

        member = new BaggageMember(text, start, keyEnd - start, valueStart, valueEnd - valueStart, propertiesStart, end - propertiesStart);
        return true;
    }

    // Validates *( OWS ";" OWS property ) from a ';' at 'i' to 'end'; property = key OWS [ "=" OWS value ].
    private static bool ValidateProperties(string text, int i, int end)
    {
        while (i < end)
        {
            if (text[i] != ';')
            {
                return false;
            }

            var keyStart = SkipOws(text, i + 1, end);
            var keyEnd = ScanToken(text, keyStart, end);
            if (keyEnd == keyStart)
            {
                return false;
            }

            i = SkipOws(text, keyEnd, end);
            if (i < end && text[i] == '=')
            {
                i = SkipOws(text, ScanValue(text, SkipOws(text, i + 1, end), end), end);
            }
        }

        return true;
    }

    private static int ScanToken(string text, int i, int end)
    {
        var span = text.AsSpan(i, end - i);
        var stop = span.IndexOfAnyExcept(Parsing.HttpToken.Chars);
        return stop < 0 ? end : i + stop;
    }

    private static int ScanValue(string text, int i, int end)
    {
        var span = text.AsSpan(i, end - i);
        var stop = span.IndexOfAnyExcept(BaggageEncoding.ValueChars);
        return stop < 0 ? end : i + stop;
    }

    private static int SkipOws(string text, int i, int end)
    {
        while (i < end && (text[i] == ' ' || text[i] == '\t'))
        {
            i++;
        }

        return i;
    }

    private static int TrimOwsEnd(string text, int start, int end)
    {
        while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        {
            end--;
        }

        return end;
    }

    /// <summary>Enumerates the valid members of the headers within the W3C limits. A struct: no allocation.</summary>
    internal struct Enumerator
    {
        private readonly StringValues _headers;
        private int _headerIndex;
        private string? _text;
        private int _position;
        private int _kept;
        private int _bytes;
        private bool _done;
        private bool _limitReached;

        internal Enumerator(StringValues headers)
        {
            _headers = headers;
        }

        public BaggageMember Current { get; private set; }

        /// <summary>Whether reading stopped because a limit was reached (members after it were not read).</summary>
        public readonly bool LimitReached => _limitReached;

        public bool MoveNext()
        {
            while (!_done)
            {
                if (_text is null)
                {
                    if (_headerIndex >= _headers.Count)
                    {
                        break;
                    }

                    _text = _headers[_headerIndex++] ?? string.Empty;
                    _position = 0;
                }

                if (_position > _text.Length)
                {
                    _text = null;
                    continue;
                }

                var start = _position;
                var comma = _text.IndexOf(',', start);
                var end = comma < 0 ? _text.Length : comma;
                _position = end + 1;
                if (!TryParseMember(_text, start, end, out var member))
                {
                    continue;
                }

                var added = member.NormalizedLength + (_kept == 0 ? 0 : 1);
                if (_kept == MaxMembers || _bytes + added > MaxBytes)
                {
                    _done = true;
                    _limitReached = true;
                    return false;
                }

                _kept++;
                _bytes += added;
                Current = member;
                return true;
            }

            _done = true;
            _text = null;
            return false;
        }
    }
}
