using FsCheck;
using FsCheck.Fluent;
using Lanes.Parsing;

namespace Lanes.Tests.Properties;

/// <summary>FsCheck generators for header-shaped input: hostile strings, valid lanes, baggage keys and values.</summary>
internal static class Generators
{
    /// <summary>Every property runs this many cases (FsCheck's default is 100).</summary>
    public const int Cases = 2_000;

    public static Config Config => Config.QuickThrowOnFailure.WithMaxTest(Cases).WithEndSize(300);

    private static readonly Gen<char> s_laneChar = Gen.Elements(LaneParser.AllowedCharacters.ToCharArray());

    /// <summary>Characters that matter to the parsers: lane characters, separators, OWS, controls, '%', Latin-1, surrogates, anything.</summary>
    public static readonly Gen<char> HostileChar = Gen.Frequency(
        (6, s_laneChar),
        (3, Gen.Elements(',', ' ', '\t', '=', ';', '%', '"', '\\')),
        (1, Gen.Elements('\r', '\n', '\0', '\u001b', '\u007f', '\u00ff', '\u2028', '\ufeff')),
        (1, Gen.Elements('\ud800', '\udc00', '\ud83d', '\ude00')),
        (1, Gen.Choose(0, 0xFFFF).Select(static i => (char)i)));

    /// <summary>Any string, often close to valid input, sometimes longer than any limit.</summary>
    public static readonly Gen<string> HostileString = Gen.Frequency(
        (8, Gen.ListOf(HostileChar).Select(static c => new string([.. c]))),
        (1, Gen.Choose(60, 70).SelectMany(static n => Gen.ArrayOf(s_laneChar, n)).Select(static c => new string(c))),
        (1, Gen.Choose(1, 20_000).Select(static n => new string('a', n) + "!")));

    /// <summary>A valid lane of 1..63 characters.</summary>
    public static readonly Gen<string> Lane = Gen.Choose(1, LaneParser.DefaultMaxLength)
        .SelectMany(static n => Gen.ArrayOf(s_laneChar, n))
        .Select(static c => new string(c));

    /// <summary>Optional whitespace, as RFC 9110 allows around list elements.</summary>
    public static readonly Gen<string> Ows = Gen.Elements(string.Empty, " ", "\t", "  ", " \t ");

    /// <summary>An RFC 9110 token (a baggage key).</summary>
    public static readonly Gen<string> Token = Gen.Choose(1, 12)
        .SelectMany(static n => Gen.ArrayOf(Gen.Elements("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".ToCharArray()), n))
        .Select(static c => new string(c));

    /// <summary>Any value application code may put in baggage (encoded on the way out).</summary>
    public static readonly Gen<string> BaggageValue = Gen.ListOf(HostileChar).Select(static c => new string([.. c]));

    public static Arbitrary<T> Arb<T>(this Gen<T> gen) => FsCheck.Fluent.Arb.From(gen);
}
