using FsCheck;
using FsCheck.Fluent;
using Lanes.Parsing;
using Microsoft.Extensions.Primitives;

namespace Lanes.Tests.Properties;

/// <summary>
/// Property-based tests (FsCheck, <see cref="Generators.Cases"/> cases each) of the one lane parser: it never throws,
/// it agrees with a plain model of DESIGN 2 on any input, valid lanes round-trip through every header shape, and
/// <see cref="LaneParser.Escape"/> always yields a short printable-ASCII string.
/// </summary>
public class LaneParserProperties
{
    private const int Max = LaneParser.DefaultMaxLength;

    /// <summary>DESIGN 2 written the obvious way: split on commas, trim spaces and tabs, skip empty elements, check each in order.</summary>
    private static (LaneParseStatus Status, string? Lane) Model(string value)
    {
        string? first = null;
        foreach (var raw in value.Split(','))
        {
            var element = raw.Trim(' ', '\t');
            if (element.Length == 0)
            {
                continue;
            }

            if (element.Length > Max)
            {
                return (LaneParseStatus.TooLong, null);
            }

            if (element.Any(static c => !LaneParser.AllowedCharacters.Contains(c, StringComparison.Ordinal)))
            {
                return (LaneParseStatus.InvalidCharacter, null);
            }

            if (first is null)
            {
                first = element;
            }
            else if (first != element)
            {
                return (LaneParseStatus.Ambiguous, null);
            }
        }

        return first is null ? (LaneParseStatus.Empty, null) : (LaneParseStatus.Valid, first);
    }

    [Fact]
    public void Parse_AnyString_NeverThrowsAndAgreesWithTheModel()
    {
        var property = Prop.ForAll(Generators.HostileString.Arb(), static value =>
        {
            var status = LaneParser.Parse(value, Max, out var lane);
            var expected = Model(value);
            return status == expected.Status && lane == expected.Lane;
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Parse_AnyRepeatedHeader_NeverThrowsAndYieldsALaneOnlyWhenEveryElementIsThatLane()
    {
        var headers = Gen.ListOf(Generators.HostileString, 5).Select(static v => v.ToArray());
        var property = Prop.ForAll(headers.Arb(), static values =>
        {
            var status = LaneParser.Parse(new StringValues(values), Max, out var lane);

            // Whatever the order of checks, a lane comes out exactly when the headers read as one list hold one lane.
            var joined = Model(string.Join(",", values));
            return (status == LaneParseStatus.Valid) == (joined.Status == LaneParseStatus.Valid) && lane == joined.Lane;
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Parse_ValidLaneInAnyHeaderShape_RoundTrips()
    {
        // The lane alone, padded, repeated in a comma list with empty elements, and repeated as separate headers.
        var shapes =
            from lane in Generators.Lane
            from before in Generators.Ows
            from after in Generators.Ows
            from count in Gen.Choose(1, 5)
            select (Lane: lane, Before: before, After: after, Count: count);
        var property = Prop.ForAll(shapes.Arb(), static s =>
        {
            var element = s.Before + s.Lane + s.After;
            var list = string.Join(",", Enumerable.Repeat(element, s.Count)) + ", ,";
            var repeated = new StringValues([.. Enumerable.Repeat(element, s.Count)]);

            var alone = LaneParser.Parse(s.Lane, Max, out var fromAlone);
            var padded = LaneParser.Parse(element, Max, out var fromPadded);
            var inList = LaneParser.Parse(list, Max, out var fromList);
            var inHeaders = LaneParser.Parse(repeated, Max, out var fromHeaders);

            return alone == LaneParseStatus.Valid && (object?)fromAlone == s.Lane // no copy when the lane is the whole value
                && padded == LaneParseStatus.Valid && fromPadded == s.Lane
                && inList == LaneParseStatus.Valid && fromList == s.Lane
                && inHeaders == LaneParseStatus.Valid && fromHeaders == s.Lane
                && LaneParser.IsValidLane(s.Lane);
        });

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Parse_TwoDifferentValidLanes_IsAmbiguousInAListAndAcrossHeaders()
    {
        var pairs = Gen.Two(Generators.Lane).Where(static p => p.Item1 != p.Item2);
        var property = Prop.ForAll(pairs.Arb(), static p =>
            LaneParser.Parse(p.Item1 + "," + p.Item2, Max, out var inList) == LaneParseStatus.Ambiguous && inList is null
            && LaneParser.Parse(new StringValues([p.Item1, p.Item2]), Max, out var inHeaders) == LaneParseStatus.Ambiguous && inHeaders is null);

        Check.One(Generators.Config, property);
    }

    [Fact]
    public void Escape_AnyInput_IsShortPrintableAsciiAndIdentityOnPlainShortText()
    {
        var headers = Gen.ListOf(Generators.HostileString, 3).Select(static v => v.ToArray());
        var property = Prop.ForAll(headers.Arb(), static values =>
        {
            var escaped = LaneParser.Escape(new StringValues(values));
            var printable = escaped.All(static c => c is >= ' ' and <= '~' and not '"');

            // 64 characters, at most one escape started past the cut (6), and "...(N chars)".
            var bounded = escaped.Length <= 64 + 6 + 20;
            var plain = values.Length == 1 && values[0].Length <= 64 && values[0].All(static c => c is >= ' ' and <= '~' and not '\\' and not '"');
            return printable && bounded && (!plain || escaped == values[0]);
        });

        Check.One(Generators.Config, property);
    }
}
