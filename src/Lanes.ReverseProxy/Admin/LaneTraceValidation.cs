using System.Buffers;
using System.Globalization;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// Limits on a <see cref="LaneTraceRequest"/>, checked before anything reads it. A problem is described by the field and
/// the rule, never by echoing the value.
/// </summary>
internal static class LaneTraceValidation
{
    public const int MaxEntries = 64;
    public const int MaxNameLength = 256;
    public const int MaxValueLength = 8192;
    public const int MaxPathLength = 2048;

    // RFC 9110 token characters: header, cookie and method names.
    private static readonly SearchValues<char> Token = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static string? Check(LaneTraceRequest request)
    {
        if (request.Method is { } method && (method.Length is 0 or > 16 || method.AsSpan().ContainsAnyExcept(Token)))
        {
            return "method must be an HTTP method token of at most 16 characters.";
        }

        if (request.Path is { } path && (path.Length > MaxPathLength || !path.StartsWith('/') || HasControl(path)))
        {
            return $"path must start with '/', be at most {MaxPathLength} characters and hold no control characters.";
        }

        return Entries("headers", request.Headers, tokenNames: true)
            ?? Entries("cookies", request.Cookies, tokenNames: true)
            ?? Entries("query", request.Query, tokenNames: false);
    }

    private static string? Entries(string field, Dictionary<string, string?>? entries, bool tokenNames)
    {
        if (entries is null)
        {
            return null;
        }

        if (entries.Count > MaxEntries)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{field} holds at most {MaxEntries} entries.");
        }

        foreach (var (name, value) in entries)
        {
            if (name.Length is 0 or > MaxNameLength || (tokenNames ? name.AsSpan().ContainsAnyExcept(Token) : HasControl(name)))
            {
                return string.Create(CultureInfo.InvariantCulture, $"{field}: a name must be 1 to {MaxNameLength} {(tokenNames ? "token characters" : "characters without control characters")}.");
            }

            if (value is not null && (value.Length > MaxValueLength || HasControl(value)))
            {
                return string.Create(CultureInfo.InvariantCulture, $"{field}: a value must be at most {MaxValueLength} characters with no CR, LF or other control characters (the value of a name of {name.Length} characters).");
            }
        }

        return null;
    }

    private static bool HasControl(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && c != '\t')
            {
                return true;
            }
        }

        return false;
    }
}
