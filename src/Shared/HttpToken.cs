using System.Buffers;

namespace Lanes.Parsing;

/// <summary>
/// RFC 9110 tokens: what an HTTP field name (a lane header) and a W3C baggage key may hold. The one copy of the set.
/// </summary>
internal static class HttpToken
{
    public static readonly SearchValues<char> Chars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static bool IsToken(ReadOnlySpan<char> value) => !value.IsEmpty && !value.ContainsAnyExcept(Chars);
}
