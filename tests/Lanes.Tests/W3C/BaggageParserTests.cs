using System.Text;
using Lanes.W3C;
using Microsoft.Extensions.Primitives;

namespace Lanes.Tests.W3C;

public class BaggageParserTests
{
    /// <summary>The members read from <paramref name="headers"/> as <c>key=decoded value</c>, joined by <c>|</c>.</summary>
    private static string Read(params string[] headers)
    {
        var members = BaggageParser.Enumerate(new StringValues(headers));
        var result = new List<string>();
        while (members.MoveNext())
        {
            result.Add(string.Concat(members.Current.Key, "=", members.Current.DecodeValue()));
        }

        return string.Join("|", result);
    }

    [Theory]
    // The W3C specification's own examples.
    [InlineData("key1=value1,key2=value2", "key1=value1|key2=value2")]
    [InlineData("key1 = value1, key2 = value2", "key1=value1|key2=value2")]
    [InlineData("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue", "key1=value1|key2=value2|key3=value3")]
    [InlineData("userId=alice,serverNode=DF%2028,isProduction=false", "userId=alice|serverNode=DF 28|isProduction=false")]
    // Whitespace: spaces and tabs around '=', ',' and ';' are not part of keys or values.
    [InlineData("k1\t=\tv1\t,\tk2=v2", "k1=v1|k2=v2")]
    [InlineData("   k  =  v   ", "k=v")]
    [InlineData("k=v ;\tp1 = 1 ; p2", "k=v")]
    // '=' may appear inside a value.
    [InlineData("k=a=b", "k=a=b")]
    [InlineData("k==b", "k==b")]
    // Percent-decoding: UTF-8, specials, '+' is not a space, broken escapes kept, invalid UTF-8 becomes U+FFFD.
    [InlineData("k=%2C%3B%20%25%22%5C", "k=,; %\"\\")]
    [InlineData("k=%E2%9C%93", "k=\u2713")]
    [InlineData("k=%c3%a9", "k=\u00e9")]
    [InlineData("k=a+b", "k=a+b")]
    [InlineData("k=%zz", "k=%zz")]
    [InlineData("k=50%", "k=50%")]
    [InlineData("k=%FF", "k=\uFFFD")]
    // Empty values are values.
    [InlineData("k=", "k=")]
    [InlineData("k= ,j=1", "k=|j=1")]
    // Empty list elements are skipped.
    [InlineData(",,a=1,,", "a=1")]
    [InlineData("", "")]
    [InlineData(" \t ", "")]
    // Invalid members are skipped, valid ones around them kept.
    [InlineData("a=1,b c=2,d=3", "a=1|d=3")]
    [InlineData("a=1,=2,c=3", "a=1|c=3")]
    [InlineData("a=1,noequals,c=3", "a=1|c=3")]
    [InlineData("a=1,b=x y,c=3", "a=1|c=3")]
    [InlineData("a=1,b=\"q\",c=3", "a=1|c=3")]
    [InlineData("a=1,b=x\\y,c=3", "a=1|c=3")]
    [InlineData("a=1,b=\u00e9,c=3", "a=1|c=3")]
    [InlineData("a=1,b(=2,c=3", "a=1|c=3")]
    [InlineData("a=1;,c=3", "c=3")]
    [InlineData("a=1;p=x y,c=3", "c=3")]
    [InlineData("a=1;=x,c=3", "c=3")]
    [InlineData("a=1;p=,c=3", "a=1|c=3")]
    // Keys are case-sensitive and kept as sent.
    [InlineData("K=1,k=2", "K=1|k=2")]
    public void Enumerate_Vector_ReadsValidMembers(string header, string expected)
    {
        Assert.Equal(expected, Read(header));
    }

    [Fact]
    public void Enumerate_SeveralHeaders_AreOneListInOrder()
    {
        Assert.Equal("a=1|b=2|c=3", Read("a=1", "b=2, c=3"));
        Assert.Equal("a=1|c=3", Read("a=1", "", "c=3"));
    }

    [Fact]
    public void Enumerate_Properties_AreKeptApartFromTheValue()
    {
        var members = BaggageParser.Enumerate("k = v ; p1=1;p2");
        Assert.True(members.MoveNext());
        Assert.Equal("v", members.Current.RawValue.ToString());
        Assert.Equal("p1=1;p2", members.Current.Properties.ToString());
        Assert.Equal("k=v;p1=1;p2".Length, members.Current.NormalizedLength);
    }

    [Fact]
    public void Enumerate_Exactly8192Bytes_KeepsEveryMember()
    {
        var header = BaggageOfLength(BaggageParser.MaxBytes);
        Assert.Equal(BaggageParser.MaxBytes, header.Length);

        var (count, limitReached) = Count(header);

        Assert.Equal(header.Split(',').Length, count);
        Assert.False(limitReached);
    }

    [Fact]
    public void Enumerate_8193Bytes_DropsTheLastMemberWhole()
    {
        var header = BaggageOfLength(BaggageParser.MaxBytes + 1);
        Assert.Equal(BaggageParser.MaxBytes + 1, header.Length);

        var (count, limitReached) = Count(header);

        Assert.Equal(header.Split(',').Length - 1, count);
        Assert.True(limitReached);
    }

    [Fact]
    public void Enumerate_180Members_KeepsAll_181KeepsTheFirst180_AsOpenTelemetryDoes()
    {
        Assert.Equal(180, BaggageParser.MaxMembers);
        Assert.Equal((180, false), Count(Members(180)));
        Assert.Equal((180, true), Count(Members(181)));
    }

    [Fact]
    public void Enumerate_5000Members_ReadsOnlyTheFirst180()
    {
        var header = Members(5000);

        Assert.Equal((180, true), Count(header));
        Assert.Equal(BaggageLookup.Found, BaggageParser.Find(header, "m0", out var first));
        Assert.Equal("v0", first);
        Assert.Equal(BaggageLookup.NotFound, BaggageParser.Find(header, "m4999", out _));
    }

    [Fact]
    public void Enumerate_InvalidMembers_DoNotCountAgainstTheLimits()
    {
        var header = string.Join(",", Enumerable.Range(0, 100).Select(static i => "bad key=x")) + "," + Members(180);

        Assert.Equal((180, false), Count(header));
    }

    [Theory]
    [InlineData("lane=yellow", "Found", "yellow")]
    [InlineData("a=1, lane = yellow ;p=1", "Found", "yellow")]
    [InlineData("lane=yellow,lane=yellow", "Found", "yellow")]
    [InlineData("lane=yellow,lane=yel%6Cow", "Found", "yellow")]
    [InlineData("lane=yellow,lane=green", "Conflict", null)]
    [InlineData("Lane=yellow", "NotFound", null)]
    [InlineData("lanes=yellow", "NotFound", null)]
    [InlineData("lane=", "Found", "")]
    public void Find_Vector_AppliesTheDuplicateRule(string header, string expected, string? expectedValue)
    {
        var lookup = BaggageParser.Find(header, "lane", out var value);

        Assert.Equal(expected, lookup.ToString());
        Assert.Equal(expectedValue, value);
    }

    [Fact]
    public void Find_AcrossSeveralHeaders_SeesEveryMember()
    {
        Assert.Equal(BaggageLookup.Conflict, BaggageParser.Find(new StringValues(["lane=a", "lane=b"]), "lane", out _));
        Assert.Equal(BaggageLookup.Found, BaggageParser.Find(new StringValues(["x=1", "lane=b"]), "lane", out var value));
        Assert.Equal("b", value);
    }

    [Theory]
    [InlineData("a,b")]
    [InlineData("x y")]
    [InlineData("100%")]
    [InlineData("%2C")]
    [InlineData("\u00e9\u2713\U0001F600")]
    [InlineData("a;b=c")]
    [InlineData("\"quoted\"")]
    [InlineData("back\\slash")]
    [InlineData("plus+sign")]
    [InlineData("=")]
    [InlineData("")]
    [InlineData("tab\there")]
    [InlineData("cr\r\nlf")]
    [InlineData("nul\0")]
    public void Builder_ThenParser_RoundTripsValuesExactly(string value)
    {
        var builder = new BaggageBuilder();
        Assert.True(builder.Add("k", value));
        var header = builder.Build()!;

        Assert.Equal(BaggageLookup.Found, BaggageParser.Find(header, "k", out var decoded));
        Assert.Equal(value, decoded);
        Assert.DoesNotContain(' ', header);
        Assert.True(Encoding.UTF8.GetByteCount(header) == header.Length, "the header is ASCII");
    }

    [Fact]
    public void Builder_EncodesSpecialsUpperCase()
    {
        var builder = new BaggageBuilder();
        builder.Add("k", "a,b;c d%\u00e9");

        Assert.Equal("k=a%2Cb%3Bc%20d%25%C3%A9", builder.Build());
    }

    [Fact]
    public void Builder_FirstKeyWins_InvalidKeysAreDropped()
    {
        var builder = new BaggageBuilder();

        Assert.True(builder.Add("lane", "yellow"));
        Assert.False(builder.Add("lane", "green"));
        Assert.False(builder.Add("bad key", "x"));
        Assert.False(builder.Add("", "x"));
        Assert.True(builder.Add("Lane", "other-case-is-another-key"));

        Assert.Equal("lane=yellow,Lane=other-case-is-another-key", builder.Build());
    }

    [Fact]
    public void Builder_KeepsParsedMembersWithTheirProperties()
    {
        var builder = new BaggageBuilder();
        var members = BaggageParser.Enumerate("a = x%2Cy ; p=1, b=2");
        while (members.MoveNext())
        {
            builder.Add(members.Current);
        }

        Assert.Equal("a=x%2Cy;p=1,b=2", builder.Build());
    }

    [Fact]
    public void Builder_NeverExceedsTheLimits_NeverWritesAPartialMember()
    {
        var builder = new BaggageBuilder();
        Assert.True(builder.Add("lane", "yellow"));
        var added = 1;
        while (builder.Add("k" + added, new string('v', 1000)))
        {
            added++;
        }

        var header = builder.Build()!;
        Assert.True(header.Length <= BaggageParser.MaxBytes);
        Assert.All(header.Split(','), static member => Assert.True(member == "lane=yellow" || member.EndsWith(new string('v', 1000), StringComparison.Ordinal)));
        Assert.False(builder.Add("small", "1"), "once a member did not fit, nothing after it is added");

        var many = new BaggageBuilder();
        for (var i = 0; i < 300; i++)
        {
            many.Add("m" + i, "v");
        }

        Assert.Equal(BaggageParser.MaxMembers, many.Count);
    }

    [Fact]
    public void Builder_NonAsciiValuesNearTheLimit_CountEncodedBytes()
    {
        // Each value encodes to 3 bytes per UTF-8 byte: the builder must count the encoded length, not the characters.
        var builder = new BaggageBuilder();
        var value = string.Concat(Enumerable.Repeat("\u00e9\u2713", 100));
        var added = 0;
        while (builder.Add("k" + added, value))
        {
            added++;
        }

        var header = builder.Build()!;
        Assert.True(header.Length <= BaggageParser.MaxBytes, $"{header.Length} bytes");
        Assert.True(header.Length > BaggageParser.MaxBytes - 1000, "the builder filled up to near the limit");
        Assert.Equal(added, BaggageParserTests.ReadCount(header));
        Assert.Equal(BaggageLookup.Found, BaggageParser.Find(header, "k0", out var decoded));
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void Builder_NoMember_BuildsNull()
    {
        Assert.Null(new BaggageBuilder().Build());
    }

    private static int ReadCount(string header) => Count(header).Count;

    private static (int Count, bool LimitReached) Count(string header)
    {
        var members = BaggageParser.Enumerate(header);
        var count = 0;
        while (members.MoveNext())
        {
            count++;
        }

        return (count, members.LimitReached);
    }

    private static string Members(int count) => string.Join(",", Enumerable.Range(0, count).Select(static i => $"m{i}=v{i}"));

    /// <summary>A valid header of exactly <paramref name="length"/> bytes, no whitespace, at most 180 members.</summary>
    private static string BaggageOfLength(int length)
    {
        // 8 members: each "kN=" + value, joined by 7 commas; the last value absorbs the remainder.
        const int members = 8;
        var per = (length - (members - 1)) / members;
        var parts = new List<string>();
        var used = 0;
        for (var i = 0; i < members; i++)
        {
            var key = "k" + i;
            var size = i == members - 1 ? length - used - (members - 1) : per;
            parts.Add(key + "=" + new string('v', size - key.Length - 1));
            used += size;
        }

        return string.Join(",", parts);
    }
}
