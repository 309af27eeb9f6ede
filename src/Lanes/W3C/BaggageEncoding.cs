using System.Buffers;
using System.Text;

namespace Lanes.W3C;

/// <summary>
/// Character classes and percent-encoding of the W3C Baggage specification
/// (<c>https://www.w3.org/TR/baggage/</c>): keys are RFC 9110 tokens; values are baggage-octets
/// (<c>%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E</c>), anything else percent-encoded as UTF-8.
/// </summary>
internal static class BaggageEncoding
{
    // baggage-octet: printable ASCII except space, DQUOTE, comma, semicolon and backslash.
    public static readonly SearchValues<char> ValueChars = SearchValues.Create(
        "!#$%&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    // Characters written as they are when encoding: baggage-octets except '%', which always starts an escape.
    private static readonly SearchValues<char> s_plainChars = SearchValues.Create(
        "!#$&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    public static bool IsToken(ReadOnlySpan<char> key) => Parsing.HttpToken.IsToken(key);

    /// <summary>
    /// Decodes <c>%XX</c> escapes as UTF-8 (invalid sequences become U+FFFD, as the specification asks).
    /// A <c>%</c> not followed by two hex digits is kept as it is; <c>+</c> stays <c>+</c>.
    /// </summary>
    public static string Decode(ReadOnlySpan<char> value)
    {
        if (value.IndexOf('%') < 0)
        {
            return value.ToString();
        }

        var bytes = value.Length <= 256 ? stackalloc byte[value.Length] : new byte[value.Length];
        var count = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '%' && i + 2 < value.Length && TryHex(value[i + 1], value[i + 2], out var b))
            {
                bytes[count++] = b;
                i += 2;
            }
            else
            {
                // Values are ASCII baggage-octets, so every other character is one byte.
                bytes[count++] = (byte)c;
            }
        }

        return Encoding.UTF8.GetString(bytes[..count]);
    }

    /// <summary>Length of <paramref name="value"/> once encoded.</summary>
    public static int EncodedLength(string value)
    {
        var plain = value.AsSpan().IndexOfAnyExcept(s_plainChars);
        if (plain < 0)
        {
            return value.Length;
        }

        var length = 0;
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (s_plainChars.Contains(c))
            {
                length++;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                length += 3 * Encoding.UTF8.GetBytes(value.AsSpan(i, 2), utf8);
                i++;
            }
            else
            {
                length += 3 * Encoding.UTF8.GetBytes(new ReadOnlySpan<char>(in c), utf8);
            }
        }

        return length;
    }

    /// <summary>Appends <paramref name="value"/> percent-encoded (upper-case hex).</summary>
    public static void AppendEncoded(StringBuilder builder, string value)
    {
        if (value.AsSpan().IndexOfAnyExcept(s_plainChars) < 0)
        {
            builder.Append(value);
            return;
        }

        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (s_plainChars.Contains(c))
            {
                builder.Append(c);
                continue;
            }

            int written;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                written = Encoding.UTF8.GetBytes(value.AsSpan(i, 2), utf8);
                i++;
            }
            else
            {
                written = Encoding.UTF8.GetBytes(new ReadOnlySpan<char>(in c), utf8);
            }

            for (var j = 0; j < written; j++)
            {
                builder.Append('%').Append(HexUpper(utf8[j] >> 4)).Append(HexUpper(utf8[j] & 0xF));
            }
        }
    }

    private static char HexUpper(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);

    private static bool TryHex(char high, char low, out byte value)
    {
        var h = HexValue(high);
        var l = HexValue(low);
        value = (byte)((h << 4) | l);
        return h >= 0 && l >= 0;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
