using Microsoft.Extensions.Primitives;

namespace Lanes.RabbitMQ;

/// <summary>
/// A delivered message's headers as Lanes reads them: each asked-for header decoded at most once (and kept), an exact
/// name first and then a case-insensitive match (publishers that are not Lanes may capitalise), non-text values absent.
/// </summary>
internal sealed class DecodedHeaders(IDictionary<string, object?>? headers)
{
    private Dictionary<string, string?>? _decoded;

    public string? Get(string name)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        _decoded ??= new Dictionary<string, string?>(StringComparer.Ordinal);
        if (_decoded.TryGetValue(name, out var text))
        {
            return text;
        }

        if (!headers.TryGetValue(name, out var value))
        {
            foreach (var (key, candidate) in headers)
            {
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                {
                    value = candidate;
                    break;
                }
            }
        }

        text = LaneMessageHeaders.TryDecode(value, out var decoded) ? decoded : null;
        _decoded[name] = text;
        return text;
    }

    public string[]? GetArray(string name) => Get(name) is { } text ? [text] : null;

    public StringValues GetValues(string name) => Get(name) is { } text ? new StringValues(text) : StringValues.Empty;

    /// <summary>True when the header is present with a value that is not text (a number, a table): ignored, and worth a debug line.</summary>
    public bool HasNonText(string name, out string? type)
    {
        type = null;
        if (headers is not null && headers.TryGetValue(name, out var value) && value is not null && !LaneMessageHeaders.TryDecode(value, out _))
        {
            type = value.GetType().Name;
            return true;
        }

        return false;
    }
}
