namespace Lanes.W3C;

/// <summary>
/// One valid list-member of a W3C <c>baggage</c> header, as ranges into the header text (no copy).
/// <see cref="RawValue"/> is still percent-encoded; <see cref="DecodeValue"/> decodes it.
/// </summary>
internal readonly struct BaggageMember
{
    private readonly string _source;
    private readonly int _keyStart;
    private readonly int _keyLength;
    private readonly int _valueStart;
    private readonly int _valueLength;
    private readonly int _propertiesStart;
    private readonly int _propertiesLength;

    internal BaggageMember(string source, int keyStart, int keyLength, int valueStart, int valueLength, int propertiesStart, int propertiesLength)
    {
        _source = source;
        _keyStart = keyStart;
        _keyLength = keyLength;
        _valueStart = valueStart;
        _valueLength = valueLength;
        _propertiesStart = propertiesStart;
        _propertiesLength = propertiesLength;
    }

    /// <summary>The key (an RFC 9110 token), compared case-sensitively as the W3C specification says.</summary>
    public ReadOnlySpan<char> Key => _source.AsSpan(_keyStart, _keyLength);

    /// <summary>The value as sent: percent-encoded, without properties, without surrounding whitespace.</summary>
    public ReadOnlySpan<char> RawValue => _source.AsSpan(_valueStart, _valueLength);

    /// <summary>The properties after the first <c>;</c> (without it), or empty. Not part of the value.</summary>
    public ReadOnlySpan<char> Properties => _source.AsSpan(_propertiesStart, _propertiesLength);

    /// <summary>Length of the member written back in normal form: <c>key=value[;properties]</c>.</summary>
    public int NormalizedLength => _keyLength + 1 + _valueLength + (_propertiesLength == 0 ? 0 : 1 + _propertiesLength);

    /// <summary>The value, percent-decoded (UTF-8; <c>+</c> is not a space).</summary>
    public string DecodeValue() => BaggageEncoding.Decode(RawValue);

    /// <summary>Whether the key equals <paramref name="key"/> (ordinal).</summary>
    public bool HasKey(string key) => Key.SequenceEqual(key);
}
