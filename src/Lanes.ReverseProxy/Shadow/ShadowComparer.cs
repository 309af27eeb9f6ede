using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Lanes.ReverseProxy.Shadow;

/// <summary>One answer as the shadow comparison sees it: status, the compared headers, and the body up to the rule's cap.</summary>
internal sealed class ShadowAnswer(int status, IReadOnlyDictionary<string, string> headers, byte[] body, long length, bool truncated, string? mediaType)
{
    public int Status { get; } = status;

    /// <summary>The compared headers that were present, by lower-case name.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; } = headers;

    /// <summary>The body, at most the rule's cap (all of it unless <see cref="Truncated"/>).</summary>
    public byte[] Body { get; } = body;

    /// <summary>The whole body's length when known (-1 when it was over the cap and the length was not given).</summary>
    public long Length { get; } = length;

    public bool Truncated { get; } = truncated;

    public string? MediaType { get; } = mediaType;

    public bool IsJson => MediaType is { } m && (m.Equals("application/json", StringComparison.OrdinalIgnoreCase) || m.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}

/// <summary>One difference between two answers: where (a field path, <c>status</c>, <c>header:name</c>, <c>body</c>) and a short, redacted example.</summary>
internal readonly record struct ShadowDifference(string Path, string Example);

/// <summary>
/// Compares two answers (docs/behaviour.md, "Shadow lanes"): status, the configured headers, and the body — JSON
/// structurally (per field path, arrays by index, numbers by value), any other content by length and hash. Values are
/// shortened for the example and never shown for secret headers.
/// </summary>
internal static class ShadowComparer
{
    /// <summary>The most characters of one value an example keeps.</summary>
    internal const int ExampleValueLength = 40;

    /// <summary>The most characters of one field name a path keeps (escaped, then cut).</summary>
    internal const int MaxNameLength = 64;

    /// <summary>The most differences one comparison reports (the rest are not listed).</summary>
    internal const int MaxDifferences = 64;

    private const string Absent = "(absent)";

    public static List<ShadowDifference> Compare(ShadowAnswer expected, ShadowAnswer actual, IReadOnlyList<string> headers)
    {
        var differences = new List<ShadowDifference>();
        if (expected.Status != actual.Status)
        {
            differences.Add(new("status", Example(expected.Status.ToString(CultureInfo.InvariantCulture), actual.Status.ToString(CultureInfo.InvariantCulture))));
        }

        foreach (var name in headers)
        {
            expected.Headers.TryGetValue(name, out var a);
            actual.Headers.TryGetValue(name, out var b);
            if (!string.Equals(a, b, StringComparison.Ordinal))
            {
                differences.Add(new("header:" + name, ShadowRule.SecretHeaders.Contains(name) ? "(redacted)" : Example(a ?? Absent, b ?? Absent)));
            }
        }

        CompareBodies(expected, actual, differences);
        return differences;
    }

    private static void CompareBodies(ShadowAnswer expected, ShadowAnswer actual, List<ShadowDifference> differences)
    {
        if (expected.Truncated || actual.Truncated)
        {
            // Over the cap: only the lengths can be compared (unknown lengths are not a difference).
            if (expected.Length >= 0 && actual.Length >= 0 && expected.Length != actual.Length)
            {
                differences.Add(new("body", Example(Bytes(expected.Length), Bytes(actual.Length))));
            }

            return;
        }

        if (expected.IsJson && actual.IsJson && TryParse(expected.Body, out var a) && TryParse(actual.Body, out var b))
        {
            using (a)
            using (b)
            {
                Walk("$", a!.RootElement, b!.RootElement, differences);
            }

            return;
        }

        if (!expected.Body.AsSpan().SequenceEqual(actual.Body))
        {
            differences.Add(new("body", Example(Digest(expected.Body), Digest(actual.Body))));
        }
    }

    private static bool TryParse(byte[] body, out JsonDocument? document)
    {
        try
        {
            document = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            document = null;
            return false;
        }
    }

    private static void Walk(string path, JsonElement a, JsonElement b, List<ShadowDifference> differences)
    {
        if (differences.Count >= MaxDifferences)
        {
            return;
        }

        if (a.ValueKind != b.ValueKind && !(IsBoolean(a) && IsBoolean(b)))
        {
            differences.Add(new(path, Example(Show(a), Show(b))));
            return;
        }

        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var p in a.EnumerateObject())
                {
                    names.Add(p.Name);
                }

                foreach (var p in b.EnumerateObject())
                {
                    names.Add(p.Name);
                }

                foreach (var name in names)
                {
                    // A field name is the upstream's text: escaped and cut like any value before it reaches a report.
                    var segment = Lanes.Parsing.LaneParser.Escape(name, MaxNameLength);
                    var child = path == "$" ? segment : path + "." + segment;
                    var hasA = a.TryGetProperty(name, out var va);
                    var hasB = b.TryGetProperty(name, out var vb);
                    if (hasA && hasB)
                    {
                        Walk(child, va, vb, differences);
                    }
                    else if (differences.Count < MaxDifferences)
                    {
                        differences.Add(new(child, Example(hasA ? Show(va) : Absent, hasB ? Show(vb) : Absent)));
                    }
                }

                break;
            case JsonValueKind.Array:
                var length = Math.Max(a.GetArrayLength(), b.GetArrayLength());
                for (var i = 0; i < length; i++)
                {
                    var child = path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";
                    var hasA = i < a.GetArrayLength();
                    var hasB = i < b.GetArrayLength();
                    if (hasA && hasB)
                    {
                        Walk(child, a[i], b[i], differences);
                    }
                    else if (differences.Count < MaxDifferences)
                    {
                        differences.Add(new(child, Example(hasA ? Show(a[i]) : Absent, hasB ? Show(b[i]) : Absent)));
                    }
                }

                break;
            case JsonValueKind.Number:
                if (!SameNumber(a, b))
                {
                    differences.Add(new(path, Example(a.GetRawText(), b.GetRawText())));
                }

                break;
            case JsonValueKind.String:
                if (!a.ValueEquals(b.GetString()))
                {
                    differences.Add(new(path, Example(Show(a), Show(b))));
                }

                break;
            case JsonValueKind.True or JsonValueKind.False:
                if (a.GetBoolean() != b.GetBoolean())
                {
                    differences.Add(new(path, Example(Show(a), Show(b))));
                }

                break;
        }
    }

    private static bool IsBoolean(JsonElement e) => e.ValueKind is JsonValueKind.True or JsonValueKind.False;

    /// <summary>Numbers by value: <c>10</c>, <c>10.0</c> and <c>1e1</c> are the same number.</summary>
    private static bool SameNumber(JsonElement a, JsonElement b)
    {
        if (a.TryGetDecimal(out var x) && b.TryGetDecimal(out var y))
        {
            return x == y;
        }

        return a.TryGetDouble(out var p) && b.TryGetDouble(out var q) ? p.Equals(q) : a.GetRawText() == b.GetRawText();
    }

    private static string Show(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "{...}",
        JsonValueKind.Array => "[...]",
        JsonValueKind.String => e.GetString()!,
        _ => e.GetRawText(),
    };

    private static string Bytes(long length) => length.ToString(CultureInfo.InvariantCulture) + " bytes";

    private static string Digest(byte[] body)
        => Bytes(body.Length) + " sha256:" + Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 6));

    /// <summary>"expected -> actual", each value shortened and its control characters escaped.</summary>
    internal static string Example(string expected, string actual) => Shorten(expected) + " -> " + Shorten(actual);

    private static string Shorten(string value) => Lanes.Parsing.LaneParser.Escape(value, ExampleValueLength);
}
