using System.Text;

namespace Lanes.W3C;

/// <summary>
/// Builds one W3C <c>baggage</c> header value within the limits (<see cref="BaggageParser.MaxMembers"/> members,
/// <see cref="BaggageParser.MaxBytes"/> bytes). The first member with a key wins; later ones with the same key
/// (ordinal) are dropped. A member that does not fit is dropped whole and nothing after it is added: the output
/// never holds a partial member.
/// </summary>
internal sealed class BaggageBuilder
{
    private readonly StringBuilder _builder = new(64);
    private readonly List<string> _keys = new(4);
    private bool _full;

    public int Count => _keys.Count;

    /// <summary>Adds <paramref name="key"/>=<paramref name="value"/>, percent-encoding the value.</summary>
    public bool Add(string key, string? value)
    {
        if (value is null || !BaggageEncoding.IsToken(key) || Contains(key))
        {
            return false;
        }

        if (!Reserve(key.Length + 1 + BaggageEncoding.EncodedLength(value)))
        {
            return false;
        }

        _builder.Append(key).Append('=');
        BaggageEncoding.AppendEncoded(_builder, value);
        _keys.Add(key);
        return true;
    }

    /// <summary>Adds a member read from a header as it was (value still encoded, properties kept).</summary>
    public bool Add(in BaggageMember member)
    {
        var key = member.Key;
        if (Contains(key) || !Reserve(member.NormalizedLength))
        {
            return false;
        }

        _builder.Append(key).Append('=').Append(member.RawValue);
        if (!member.Properties.IsEmpty)
        {
            _builder.Append(';').Append(member.Properties);
        }

        _keys.Add(key.ToString());
        return true;
    }

    public bool Contains(ReadOnlySpan<char> key)
    {
        foreach (var existing in _keys)
        {
            if (key.SequenceEqual(existing))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The header value, or <see langword="null"/> when no member was added.</summary>
    public string? Build() => _keys.Count == 0 ? null : _builder.ToString();

    private bool Reserve(int memberLength)
    {
        if (_full)
        {
            return false;
        }

        var separator = _keys.Count == 0 ? 0 : 1;
        if (_keys.Count == BaggageParser.MaxMembers || _builder.Length + separator + memberLength > BaggageParser.MaxBytes)
        {
            _full = true;
            return false;
        }

        if (separator == 1)
        {
            _builder.Append(',');
        }

        return true;
    }
}
