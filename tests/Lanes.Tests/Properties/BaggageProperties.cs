using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Lanes.W3C;
using Microsoft.Extensions.Primitives;

namespace Lanes.Tests.Properties;

/// <summary>
/// Property-based tests (FsCheck) of the W3C baggage reader and writers: any header is read within the limits without
/// throwing, what the SDK writes reads back the same, and the outbound merge always carries exactly one lane member.
/// </summary>
public class BaggageProperties
{
    private const string Key = "x-mspider-lane";

    /// <summary>Baggage-shaped text: members, broken members, properties, escapes and hostile characters.</summary>
    private static readonly Gen<string> s_baggageText = Gen.ListOf(
        Gen.OneOf(
            Gen.Zip(Generators.Token, Generators.HostileString).Select(static m => m.Item1 + "=" + m.Item2),
            Gen.Zip(Generators.Token, Generators.Lane).Select(static m => m.Item1 + " = " + m.Item2 + ";p;q=1"),
            Generators.Lane.Select(static lane => Key + "=" + lane),
            Generators.HostileString),
        40).Select(static members => string.Join(",", members));

    private static readonly Gen<string[]> s_headers = Gen.Frequency(
        (8, Gen.ListOf(s_baggageText, 3).Select(static h => h.ToArray())),
        (1, Gen.Choose(1, 2_000).Select(static n => new[] { string.Join(",", Enumerable.Range(0, n).Select(static i => $"k{i}=v{i}")) })));

    private static List<(string Key, string Value)> Read(StringValues headers, out bool limitReached)
    {
        var result = new List<(string, string)>();
        var members = BaggageParser.Enumerate(headers);
        while (members.MoveNext())
        {
            result.Add((members.Current.Key.ToString(), members.Current.DecodeValue()));
        }

        limitReached = members.LimitReached;
        return result;
    }

    [Fact]
    public void Enumerate_AnyHeaders_NeverThrowsAndStaysWithinTheW3CLimits()
    {
        var property = Prop.ForAll(s_headers.Arb(), static headers =>
        {
            var members = BaggageParser.Enumerate(new StringValues(headers));
            var count = 0;
            var bytes = 0;
            var wellFormed = true;
            while (members.MoveNext())
            {
                var member = members.Current;
                bytes += member.NormalizedLength + (count == 0 ? 0 : 1);
                count++;
                wellFormed &= BaggageEncoding.IsToken(member.Key) && !member.RawValue.ContainsAnyExcept(BaggageEncoding.ValueChars);
                _ = member.DecodeValue();
            }

            _ = BaggageParser.Find(new StringValues(headers), Key, out _);
            return wellFormed && count <= BaggageParser.MaxMembers && bytes <= BaggageParser.MaxBytes;
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Builder_AnyKeysAndValues_ReadBackAsWritten()
    {
        var members = Gen.ListOf(Gen.Zip(Generators.Token, Generators.BaggageValue), 80).Select(static m => m.ToArray());
        var property = Prop.ForAll(members.Arb(), static input =>
        {
            var builder = new BaggageBuilder();
            var accepted = new List<(string Key, string Value)>();
            foreach (var (key, value) in input)
            {
                if (builder.Add(key, value))
                {
                    // Encoding is UTF-8: an unpaired surrogate is written as U+FFFD, like every UTF-8 encoder does.
                    accepted.Add((key, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value))));
                }
            }

            var header = builder.Build();
            if (header is null)
            {
                return accepted.Count == 0;
            }

            var read = Read(header, out var limitReached);
            var distinctKeys = accepted.Select(static a => a.Key).Distinct(StringComparer.Ordinal).Count() == accepted.Count;
            return read.SequenceEqual(accepted) && !limitReached && distinctKeys
                && Encoding.UTF8.GetByteCount(header) <= BaggageParser.MaxBytes && header.All(static c => c is > ' ' and <= '~');
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Merge_AnyExistingBaggage_CarriesExactlyOneLaneMemberFirstAndKeepsTheOthers()
    {
        var cases = Gen.Zip(Generators.Lane, s_headers);
        var property = Prop.ForAll(cases.Arb(), static c =>
        {
            var (lane, headers) = c;
            var merged = OutboundBaggage.Build(Key, lane, new StringValues(headers), frame: null, default, runtimeOutput: null, maxLength: 63);
            if (merged is null)
            {
                return false;
            }

            var read = Read(merged, out _);
            var existing = Read(new StringValues(headers), out _);
            var laneMembers = read.Count(static m => m.Key == Key);

            // Every other member is one the caller had (first occurrence of its key), in the caller's order.
            var expectedOthers = existing.Where(static m => m.Key != Key).DistinctBy(static m => m.Key).Take(read.Count - 1);
            return read[0] == (Key, lane) && laneMembers == 1
                && read.Skip(1).SequenceEqual(expectedOthers)
                && read.Count <= BaggageParser.MaxMembers && merged.Length <= BaggageParser.MaxBytes;
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Without_AnyExistingBaggage_DropsEveryLaneMemberAndKeepsTheRest()
    {
        var property = Prop.ForAll(s_headers.Arb(), static headers =>
        {
            var stripped = OutboundBaggage.Without(Key, new StringValues(headers));
            var others = Read(new StringValues(headers), out _).Where(static m => m.Key != Key).DistinctBy(static m => m.Key).ToList();
            if (stripped is null)
            {
                return others.Count == 0;
            }

            var read = Read(stripped, out _);
            return read.All(static m => m.Key != Key) && read.SequenceEqual(others.Take(read.Count)) && read.Count > 0;
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void TraceParent_AnyString_NeverThrowsAndValidHeadersYieldTheirTraceId()
    {
        var hex = Gen.Elements("0123456789abcdef".ToCharArray());
        var valid =
            from trace in Gen.ArrayOf(hex, 32).Where(static t => t.Any(static c => c != '0'))
            from parent in Gen.ArrayOf(hex, 16).Where(static p => p.Any(static c => c != '0'))
            from flags in Gen.ArrayOf(hex, 2)
            select (Header: $"00-{new string(trace)}-{new string(parent)}-{new string(flags)}", TraceId: new string(trace));
        var anyOrValid = Gen.OneOf(valid.Select(static v => (v.Header, (string?)v.TraceId)), Generators.HostileString.Select(static s => (s, (string?)null)));
        var property = Prop.ForAll(anyOrValid.Arb(), static c =>
        {
            var parsed = TraceParent.TryGetTraceId(c.Item1, out var traceId);
            return c.Item2 is null
                ? !parsed || traceId != default(ActivityTraceId)
                : parsed && traceId.ToHexString() == c.Item2;
        });

        Check.One(Generators.Config, property);
    }
}
