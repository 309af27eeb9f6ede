using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Primitives;

namespace Lanes.W3C;

/// <summary>Reads the trace id of a W3C <c>traceparent</c> header (<c>https://www.w3.org/TR/trace-context/</c>).</summary>
internal static class TraceParent
{
    public const string HeaderName = "traceparent";

    private static readonly SearchValues<char> s_lowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>
    /// Parses <c>version-traceid-parentid-flags</c>: lower-case hex, version not <c>ff</c>, ids not all zeros;
    /// version <c>00</c> is exactly 55 characters, a later version may carry more after a <c>-</c>. One header only:
    /// a repeated <c>traceparent</c> is invalid, as the specification says.
    /// </summary>
    public static bool TryGetTraceId(StringValues headers, out ActivityTraceId traceId)
    {
        traceId = default;
        return headers.Count == 1 && TryGetTraceId(headers[0], out traceId);
    }

    public static bool TryGetTraceId(string? value, out ActivityTraceId traceId)
    {
        traceId = default;
        if (value is null)
        {
            return false;
        }

        var span = value.AsSpan().Trim(" \t");
        if (span.Length < 55 || span[2] != '-' || span[35] != '-' || span[52] != '-')
        {
            return false;
        }

        var version = span[..2];
        if (version.ContainsAnyExcept(s_lowerHex) || version.SequenceEqual("ff"))
        {
            return false;
        }

        if (version.SequenceEqual("00") ? span.Length != 55 : span.Length > 55 && span[55] != '-')
        {
            return false;
        }

        var trace = span.Slice(3, 32);
        var parent = span.Slice(36, 16);
        var flags = span.Slice(53, 2);
        if (trace.ContainsAnyExcept(s_lowerHex) || parent.ContainsAnyExcept(s_lowerHex) || flags.ContainsAnyExcept(s_lowerHex)
            || !trace.ContainsAnyExcept('0') || !parent.ContainsAnyExcept('0'))
        {
            return false;
        }

        traceId = ActivityTraceId.CreateFromString(trace);
        return true;
    }
}
