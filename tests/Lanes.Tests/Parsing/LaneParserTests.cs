using Lanes.Parsing;
using Microsoft.Extensions.Primitives;

namespace Lanes.Tests.Parsing;

public class LaneParserTests
{
    private static readonly string S63 = new('a', 63);
    private static readonly string S64 = new('a', 64);

    /// <summary>Input (one header value), expected status, expected lane.</summary>
    public static TheoryData<string?, string, string?> SingleValues => new()
    {
        { "green", "Valid", "green" },
        { "yellow", "Valid", "yellow" },
        { "dev1", "Valid", "dev1" },
        { "Dev-1.feature_x", "Valid", "Dev-1.feature_x" },
        { "a", "Valid", "a" },
        { "0", "Valid", "0" },
        { "...", "Valid", "..." },
        { S63, "Valid", S63 },
        { S64, "TooLong", null },
        { new string('a', 8192), "TooLong", null },
        { "  yellow  ", "Valid", "yellow" },
        { "\tyellow\t", "Valid", "yellow" },
        { "yel low", "InvalidCharacter", null },
        { "yel\tlow", "InvalidCharacter", null },
        { "yellow\r\n", "InvalidCharacter", null },
        { "yellow\r\nx-injected: 1", "InvalidCharacter", null },
        { "\nyellow", "InvalidCharacter", null },
        { "yel\0low", "InvalidCharacter", null },
        { "gr\u00fcn", "InvalidCharacter", null },
        { "\u9ec4\u8272", "InvalidCharacter", null },
        { "yellow\u00a0", "InvalidCharacter", null },
        { "../../etc/passwd", "InvalidCharacter", null },
        { "yellow;drop", "InvalidCharacter", null },
        { "x-mspider-lane=yellow", "InvalidCharacter", null },
        { "", "Empty", null },
        { null, "Empty", null },
        { "   ", "Empty", null },
        { "\t \t", "Empty", null },
        { ",", "Empty", null },
        { "yellow,yellow", "Valid", "yellow" },
        { "yellow, yellow ,yellow", "Valid", "yellow" },
        { "yellow,", "Valid", "yellow" },
        { ", yellow", "Valid", "yellow" },
        { "yellow,green", "Ambiguous", null },
        { "yellow, Yellow", "Ambiguous", null },
        { "yellow,gr een", "InvalidCharacter", null },
    };

    [Theory]
    [MemberData(nameof(SingleValues))]
    public void Parse_SingleHeaderValue_ReturnsExpectedStatusAndLane(string? input, string expected, string? expectedLane)
    {
        var status = LaneParser.Parse(input, LaneParser.DefaultMaxLength, out var lane);

        Assert.Equal(expected, status.ToString());
        Assert.Equal(expectedLane, lane);
    }

    public static TheoryData<string[], string, string?> RepeatedHeaders => new()
    {
        { ["yellow", "yellow"], "Valid", "yellow" },
        { ["yellow", " yellow "], "Valid", "yellow" },
        { ["yellow", "yellow,yellow"], "Valid", "yellow" },
        { ["yellow", "green"], "Ambiguous", null },
        { ["yellow", ""], "Valid", "yellow" },
        { ["", "  "], "Empty", null },
        { ["yellow", "bad\r\n"], "InvalidCharacter", null },
        { ["yellow", new string('y', 64)], "TooLong", null },
        { Enumerable.Repeat("dev1", 100).ToArray(), "Valid", "dev1" },
    };

    [Theory]
    [MemberData(nameof(RepeatedHeaders))]
    public void Parse_RepeatedHeader_ReturnsExpectedStatusAndLane(string[] values, string expected, string? expectedLane)
    {
        var status = LaneParser.Parse(new StringValues(values), LaneParser.DefaultMaxLength, out var lane);

        Assert.Equal(expected, status.ToString());
        Assert.Equal(expectedLane, lane);
    }

    [Fact]
    public void Parse_WholeValueIsTheLane_ReturnsSameInstanceWithoutAllocating()
    {
        var header = new string("yellow".AsSpan());

        LaneParser.Parse(new StringValues(header), LaneParser.DefaultMaxLength, out _); // warm up
        var before = GC.GetAllocatedBytesForCurrentThread();
        var status = LaneParser.Parse(new StringValues(header), LaneParser.DefaultMaxLength, out var lane);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(LaneParseStatus.Valid, status);
        Assert.Same(header, lane);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(3, "abc", "Valid")]
    [InlineData(3, "abcd", "TooLong")]
    [InlineData(256, "x", "Valid")]
    public void Parse_ConfiguredMaxLength_IsHonoured(int maxLength, string input, string expected)
    {
        Assert.Equal(expected, LaneParser.Parse(input, maxLength, out _).ToString());
    }

    [Fact]
    public void Parse_ComparesOrdinally_CaseMatters()
    {
        LaneParser.Parse("Yellow", LaneParser.DefaultMaxLength, out var lane);

        Assert.Equal("Yellow", lane);
        Assert.NotEqual("yellow", lane);
    }

    [Theory]
    [InlineData("yellow\r\nSet-Cookie: a=b", "yellow\\x0D\\x0ASet-Cookie: a=b")]
    [InlineData("a\0b", "a\\x00b")]
    [InlineData("gr\u00fcn", "gr\\xFCn")]
    [InlineData("\u9ec4", "\\u9EC4")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("yellow\" level=error msg=\"forged", "yellow\\x22 level=error msg=\\x22forged")]
    public void Escape_ControlAndNonAsciiCharacters_AreWrittenAsEscapes(string input, string expected)
    {
        Assert.Equal(expected, LaneParser.Escape(input));
    }

    [Fact]
    public void Escape_LongValue_IsCutAndNamesOriginalLength()
    {
        var escaped = LaneParser.Escape(new string('x', 65_536));

        Assert.StartsWith(new string('x', 64) + "...(65536 chars)", escaped, StringComparison.Ordinal);
        Assert.True(escaped.Length < 100);
    }
}
