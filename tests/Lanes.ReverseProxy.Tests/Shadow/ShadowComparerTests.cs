using System.Text;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Shadow;

namespace Lanes.ReverseProxy.Tests.Shadow;

/// <summary>How two answers are compared (docs/behaviour.md, "Shadow lanes"), and what a shadow rule accepts.</summary>
public sealed class ShadowComparerTests
{
    private static readonly string[] ContentType = ["content-type"];

    [Fact]
    public void Json_IsComparedPerFieldPath_ArraysByIndex_NumbersByValue()
    {
        var primary = Json("""{"item":"book","price":10,"tags":["a","b"],"stock":{"count":3,"where":"x"},"gone":true}""");
        var shadow = Json("""{"price":10.0,"item":"book","tags":["a","c","d"],"stock":{"count":4,"where":"x"},"new":null}""");

        var differences = ShadowComparer.Compare(primary, shadow, ContentType);

        Assert.Equal(
            [("gone", "true -> (absent)"), ("new", "(absent) -> null"), ("stock.count", "3 -> 4"), ("tags[1]", "b -> c"), ("tags[2]", "(absent) -> d")],
            differences.Select(static d => (d.Path, d.Example)));
    }

    /// <summary>Field names are the upstream's text: a path holds them escaped (no CR/LF, no quotes) and cut, never raw.</summary>
    [Fact]
    public void HostileFieldNames_AreEscapedAndCutInThePath()
    {
        var name = "x\r\nInjected: 1\"" + new string('n', 500);
        var primary = Json("{}");
        var shadow = Json(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, int> { [name] = 1 }));

        var difference = Assert.Single(ShadowComparer.Compare(primary, shadow, ContentType));

        Assert.StartsWith("x\\x0D\\x0AInjected: 1\\x22nnn", difference.Path, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', difference.Path);
        Assert.DoesNotContain('"', difference.Path);
        Assert.True(difference.Path.Length < 100, difference.Path);
    }

    [Fact]
    public void OtherContent_IsComparedByLengthAndHash_AndOverTheCapByLengthOnly()
    {
        var a = new ShadowAnswer(200, new Dictionary<string, string>(), "hello"u8.ToArray(), 5, truncated: false, "text/plain");
        var b = new ShadowAnswer(200, new Dictionary<string, string>(), "hellp"u8.ToArray(), 5, truncated: false, "text/plain");
        var bigA = new ShadowAnswer(200, new Dictionary<string, string>(), [], 100_000, truncated: true, "text/plain");
        var bigB = new ShadowAnswer(200, new Dictionary<string, string>(), [], 100_000, truncated: true, "text/plain");
        var bigC = new ShadowAnswer(200, new Dictionary<string, string>(), [], 100_001, truncated: true, "text/plain");

        var body = Assert.Single(ShadowComparer.Compare(a, b, []));
        Assert.Equal("body", body.Path);
        Assert.StartsWith("5 bytes sha256:", body.Example, StringComparison.Ordinal);
        Assert.Empty(ShadowComparer.Compare(a, a, []));
        Assert.Empty(ShadowComparer.Compare(bigA, bigB, []));
        Assert.Equal("100000 bytes -> 100001 bytes", Assert.Single(ShadowComparer.Compare(bigA, bigC, [])).Example);
    }

    [Fact]
    public void StatusAndHeaders_AreCompared_SecretHeadersAreRedacted_AndValuesAreEscapedAndCut()
    {
        var a = new ShadowAnswer(200, new Dictionary<string, string> { ["x-version"] = "1", ["set-cookie"] = "session=abc" }, [], 0, truncated: false, null);
        var b = new ShadowAnswer(500, new Dictionary<string, string> { ["x-version"] = "2\r\nx-injected: 1" + new string('y', 200), ["set-cookie"] = "session=def" }, [], 0, truncated: false, null);

        var differences = ShadowComparer.Compare(a, b, ["x-version", "set-cookie"]);

        Assert.Equal(["status", "header:x-version", "header:set-cookie"], differences.Select(static d => d.Path));
        Assert.Equal("200 -> 500", differences[0].Example);
        Assert.StartsWith("1 -> 2\\x0D\\x0Ax-injected: 1yyy", differences[1].Example, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', differences[1].Example);
        Assert.True(differences[1].Example.Length < 120);
        Assert.Equal("(redacted)", differences[2].Example);
    }

    [Fact]
    public void NoiseLearnedFromTheSecondary_IsExcludedFromWhatTheShadowIsReportedFor()
    {
        var state = new ShadowState(Rule());
        var primary = Json("""{"price":10,"at":1}""");
        var secondary = Json("""{"price":10,"at":2}""");
        var shadow = Json("""{"price":12,"at":3}""");

        var differed = state.Record(ShadowComparer.Compare(primary, shadow, ContentType), ShadowComparer.Compare(primary, secondary, ContentType), 1, 2);

        Assert.True(differed);
        Assert.Equal(["price"], state.Fields().Select(static f => f.Path));
        Assert.Equal(["at"], state.Noise());
        Assert.False(state.Record(ShadowComparer.Compare(primary, Json("""{"price":10,"at":4}"""), ContentType), noise: null, 1, 2));
        Assert.Equal((2L, 1L), (state.Mirrored, state.Differing));
    }

    [Theory]
    [InlineData("Cluster", "", "Lanes:Shadow:s:Cluster is required")]
    [InlineData("Lane", "not a lane", "Lanes:Shadow:s:Lane must be one lane")]
    [InlineData("FromLane", "yellow", "Lanes:Shadow:s:FromLane is the shadow lane itself")]
    [InlineData("Percent", "101", "Lanes:Shadow:s:Percent is required, between 0 and 100")]
    [InlineData("MaxConcurrent", "0", "Lanes:Shadow:s:MaxConcurrent must be 1 or more")]
    [InlineData("Methods:0", "GET /x", "Lanes:Shadow:s:Methods holds 'GET /x'")]
    public void InvalidRule_IsRefusedWithAMessageNamingTheKey(string key, string value, string expected)
    {
        var options = new LaneGatewayOptions();
        var rule = new LaneShadowRule { Cluster = "c", Lane = "yellow", Percent = 5 };
        options.Shadow["s"] = rule;
        switch (key)
        {
            case "Cluster": rule.Cluster = value; break;
            case "Lane": rule.Lane = value; break;
            case "FromLane": rule.FromLane = value; break;
            case "Percent": rule.Percent = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "MaxConcurrent": rule.MaxConcurrent = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            default: rule.Methods.Add(value); break;
        }

        var error = Assert.Throws<ArgumentException>(() => LaneGatewayConfig.Create(options, Lanes.Configuration.LaneSettings.Create(new LaneOptions())));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARuleWithoutPercent_IsRefused_AndDefaultsMirrorOnlySafeMethods()
    {
        var options = new LaneGatewayOptions();
        options.Shadow["s"] = new LaneShadowRule { Cluster = "c", Lane = "yellow" };
        Assert.Contains("Lanes:Shadow:s:Percent is required", Assert.Throws<ArgumentException>(() => LaneGatewayConfig.Create(options, Lanes.Configuration.LaneSettings.Create(new LaneOptions()))).Message, StringComparison.Ordinal);

        var rule = Rule();
        Assert.Equal(["GET", "HEAD"], rule.Methods.Order(StringComparer.Ordinal));
        Assert.Equal((65_536, 32, false, TimeSpan.FromSeconds(10)), (rule.MaxBodyBytes, rule.MaxConcurrent, rule.Secondary, rule.Timeout));
        Assert.Equal(["content-type"], rule.Headers);
    }

    private static ShadowRule Rule()
    {
        var options = new LaneGatewayOptions();
        options.Shadow["s"] = new LaneShadowRule { Cluster = "c", Lane = "yellow", Percent = 100 };
        return Assert.Single(LaneGatewayConfig.Create(options, Lanes.Configuration.LaneSettings.Create(new LaneOptions())).Shadows);
    }

    private static ShadowAnswer Json(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return new ShadowAnswer(200, new Dictionary<string, string> { ["content-type"] = "application/json" }, bytes, bytes.Length, truncated: false, "application/json");
    }
}
