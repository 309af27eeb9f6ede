using System.Text;

namespace Lanes.EndToEnd.Tests.Reliability;

/// <summary>
/// One bad input and its documented outcome (docs/reliability.md, "Bad input"). <see cref="Lane"/> is the lane the
/// service resolves and the lane the gateway forwards (null: Kestrel refused the request before any Lanes code ran);
/// <see cref="GatewayLane"/> overrides it where the gateway's colouring rule decides. <see cref="Needle"/> is the
/// raw text that must never come back in a response or a Lanes log line unescaped.
/// </summary>
internal sealed record BadInput(string Name, (string Name, byte[] Value)[] Headers, int Status, string? Lane, string? Needle = null, string? GatewayLane = null)
{
    /// <summary>The lane the gateway's upstream receives; the instance that serves it is yellow for yellow, green (baseline) otherwise.</summary>
    public string? ExpectedGatewayLane => GatewayLane ?? Lane;
}

internal static class BadInputCases
{
    private const string Lane = "x-mspider-lane";
    private const string Alias = "x-mspider-laneid";
    private const string Baggage = "baggage";
    private const string TraceParent = "traceparent";

    // Kestrel's answers, before any middleware runs.
    private const int BadRequest = 400;
    private const int HeadersTooLarge = 431;

    private static (string, byte[]) H(string name, string value) => (name, Encoding.UTF8.GetBytes(value));

    private static (string, byte[]) B(string name, params byte[] value) => (name, value);

    private static string Members(int count, string? laneAt = null, int laneIndex = -1)
        => string.Join(",", Enumerable.Range(0, count).Select(i => i == laneIndex ? laneAt! : $"k{i}=v{i}"));

    private static readonly string s_8k = new('a', 8 * 1024);
    private static readonly string s_64k = new('a', 64 * 1024);
    private static readonly string s_100kBaggage = Members(7_000);
    private static readonly string s_30kBaggageLaneLast = Members(2_500) + ",x-mspider-lane=yellow";
    private static readonly string s_30kBaggageLaneFirst = "x-mspider-lane=yellow," + Members(2_500);
    private static readonly string s_backtrack = new string('a', 30_000) + "c";

    public static readonly BadInput[] All =
    [
        // Size.
        new("canonical header of 8 KB", [H(Lane, s_8k)], 200, "green", s_8k),
        new("canonical header of 64 KB", [H(Lane, s_64k)], HeadersTooLarge, null, s_64k),
        new("alias of 8 KB", [H(Alias, s_8k)], 200, "green", s_8k),
        new("lane of 63 characters (the limit)", [H(Lane, new string('z', 63))], 200, new string('z', 63)),
        new("lane of 64 characters", [H(Lane, new string('z', 64))], 200, "green", new string('z', 64)),

        // Bytes HTTP does not allow in a field value.
        new("CR in the value", [B(Lane, "yel\rlow"u8.ToArray())], BadRequest, null, "yel\rlow"),
        new("LF in the value", [B(Lane, "yel\nlow"u8.ToArray())], BadRequest, null, "yel\nlow"),
        new("CR in a baggage member", [B(Baggage, "x-mspider-lane=yel\rlow"u8.ToArray())], BadRequest, null, "yel\rlow"),
        new("NUL in the value", [B(Lane, "yel\0low"u8.ToArray())], BadRequest, null, "yel\0low"),
        new("non-UTF-8 bytes", [B(Lane, 0xFF, 0xFE, (byte)'y')], BadRequest, null),
        new("UTF-8 look-alike (Cyrillic o)", [H(Lane, "yell\u043Ew")], 200, "green", "yell\u043Ew"),
        new("ESC sequence (terminal log forging)", [H(Lane, "yellow\u001b[31mERROR")], 200, "green", "yellow\u001b[31mERROR"),
        new("DEL character", [H(Lane, "yel\u007flow")], 200, "green", "yel\u007flow"),

        // Empty and whitespace.
        new("empty value", [H(Lane, string.Empty)], 200, "green"),
        new("whitespace only", [H(Lane, " \t  ")], 200, "green"),
        new("surrounding whitespace is trimmed", [H(Lane, "  yellow\t")], 200, "yellow"),

        // Repetition and lists.
        new("100 identical headers (over Kestrel's 100-header limit)", [.. Enumerable.Repeat(H(Lane, "yellow"), 100)], HeadersTooLarge, null),
        new("90 identical headers", [.. Enumerable.Repeat(H(Lane, "yellow"), 90)], 200, "yellow"),
        new("90 headers, one different", [.. Enumerable.Repeat(H(Lane, "yellow"), 89), H(Lane, "blue")], 200, "green"),
        new("comma list of one lane", [H(Lane, "yellow, yellow")], 200, "yellow"),
        new("comma list of two lanes", [H(Lane, "yellow,blue")], 200, "green"),
        new("comma list with empty elements", [H(Lane, ",yellow,,")], 200, "yellow"),
        new("canonical and alias disagree: canonical wins", [H(Lane, "yellow"), H(Alias, "blue")], 200, "yellow"),
        new("invalid canonical, valid alias: alias wins", [H(Lane, "bad!"), H(Alias, "yellow")], 200, "yellow", "bad!"),

        // Case.
        new("mixed-case header name", [H("X-MsPiDeR-LaNe", "yellow")], 200, "yellow"),
        new("mixed-case value is another lane", [H(Lane, "YELLOW")], 200, "YELLOW"),
        new("header with a longer name is not the lane", [H("x-mspider-lane-extra", "yellow")], 200, "green"),

        // Baggage.
        new("baggage of 1,000 members, lane member last", [H(Baggage, Members(1_000, "x-mspider-lane=yellow", 999))], 200, "green"),
        new("baggage of 1,000 members, lane member first", [H(Baggage, Members(1_000, "x-mspider-lane=yellow", 0))], 200, "yellow"),
        new("baggage of 100 KB", [H(Baggage, s_100kBaggage)], HeadersTooLarge, null),
        new("baggage of 30 KB, lane member past 8,192 bytes", [H(Baggage, s_30kBaggageLaneLast)], 200, "green"),
        new("baggage of 30 KB, lane member first", [H(Baggage, s_30kBaggageLaneFirst)], 200, "yellow"),
        new("baggage member without '='", [H(Baggage, "x-mspider-lane")], 200, "green"),
        new("baggage value with a space", [H(Baggage, "x-mspider-lane=yel low")], 200, "green"),
        new("baggage broken percent escape", [H(Baggage, "x-mspider-lane=yellow%ZZ")], 200, "green", "yellow%ZZ"),
        new("baggage encoded CR LF (log forging)", [H(Baggage, "x-mspider-lane=yellow%0D%0A%5BError%5D%20forged")], 200, "green", "\r\n[Error] forged"),
        new("baggage with two different lane members", [H(Baggage, "x-mspider-lane=yellow,x-mspider-lane=blue")], 200, "green"),
        new("baggage key in another case is not the lane key", [H(Baggage, "X-Mspider-Lane=yellow")], 200, "green"),
        new("baggage of garbage", [H(Baggage, ";;;,,,==,=;=,\"\\")], 200, "green"),

        // traceparent.
        new("malformed traceparent, no lane", [H(TraceParent, "00-XYZ-123-01")], 200, "green"),
        new("all-zero trace id, no lane", [H(TraceParent, "00-00000000000000000000000000000000-0000000000000000-01")], 200, "green"),
        new("malformed traceparent with a lane", [H(TraceParent, "ff-" + new string('g', 60)), H(Lane, "yellow")], 200, "yellow"),
        new("repeated traceparent with a lane", [H(TraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), H(TraceParent, "00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), H(Lane, "yellow")], 200, "yellow"),

        // Values shaped like attacks on whatever reads them later.
        new("quotes and fields (logfmt forging)", [H(Lane, "yellow\" level=error msg=\"forged")], 200, "green", "yellow\" level=error"),
        new("path traversal", [H(Lane, "../../etc/passwd")], 200, "green", "../../etc/passwd"),
        new("only dots is a valid lane, never a path", [H(Lane, "..")], 200, ".."),
        new("header injection attempt in baggage member value", [H(Baggage, "x-mspider-lane=yellow%0D%0ASet-Cookie:%20a=b")], 200, "green", "Set-Cookie: a=b"),
        new("HTML/script", [H(Lane, "<script>alert(1)</script>")], 200, "green", "<script>"),

        // A colouring regex fed input that backtracks badly under a backtracking engine: (a+)+b on 30,000 a's.
        new("regex rule, 30,000 a's then c (no match)", [H("x-user", s_backtrack)], 200, "green"),
        new("regex rule, 30,000 a's then b (match)", [H("x-user", new string('a', 30_000) + "b")], 200, "green", GatewayLane: "yellow"),
    ];

    public static readonly Dictionary<string, BadInput> ByName = All.ToDictionary(static c => c.Name, StringComparer.Ordinal);

    public static IEnumerable<object[]> Names(string target) => All.Select(c => new object[] { target, c.Name });
}
