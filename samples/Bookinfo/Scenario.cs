namespace Bookinfo;

/// <summary>One instance of a bookinfo service: which service, its lane (null: unlabelled) and its id.</summary>
public sealed record InstanceSpec(string Service, string? Lane, string Id);

/// <summary>An example request of the demo and what each hop should report: the instance's lane and the lane it received.</summary>
public sealed record DemoRow(
    string Name,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    int ExpectedStatus,
    IReadOnlyList<ExpectedHop> Expected);

/// <summary>The lanes one hop should report; <see cref="Lane"/> empty means the unlabelled instance.</summary>
public sealed record ExpectedHop(string Service, string Lane, string RequestLane);

/// <summary>
/// A demo scenario: the lane settings every process uses, the instances, the gateway's route and cluster, and the
/// example requests with their expectations.
/// </summary>
public sealed class Scenario
{
    public required string Name { get; init; }

    /// <summary>The <c>Lanes</c> section every service and the gateway use (header, aliases, default).</summary>
    public required IReadOnlyDictionary<string, string?> Lanes { get; init; }

    public required string Header { get; init; }

    public required IReadOnlyList<InstanceSpec> Instances { get; init; }

    /// <summary>Routing keys (<c>lanePolicy</c>, <c>lanes</c>) per service, for the gateway cluster and the services' registry.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ServiceMetadata { get; init; }

    /// <summary>The service the gateway routes to and the path of its route.</summary>
    public required string EntryService { get; init; }

    public required string EntryPath { get; init; }

    public required IReadOnlyList<DemoRow> Rows { get; init; }

    /// <summary>The scenarios by name.</summary>
    public static IReadOnlyList<Scenario> All => [MSpider, Hango];

    /// <summary>The scenario called <paramref name="name"/> (case-insensitive), or false.</summary>
    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Scenario? scenario)
    {
        scenario = All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
        return scenario is not null;
    }

    private static KeyValuePair<string, string> H(string name, string value) => new(name, value);

    private static ExpectedHop Hop(string service, string lane, string requestLane) => new(service, lane, requestLane);

    /// <summary>
    /// DaoCloud mspider bookinfo: header <c>x-mspider-lane</c>, alias <c>x-mspider-laneid</c> (rewritten at the gateway),
    /// default <c>green</c>, Permissive. Green runs all four services; yellow runs productpage, details and ratings
    /// but no reviews, so a yellow request crosses a green reviews and is yellow again at ratings.
    /// </summary>
    public static Scenario MSpider { get; } = new()
    {
        Name = "mspider",
        Header = "x-mspider-lane",
        Lanes = new Dictionary<string, string?> { ["Preset"] = "mspider" },
        Instances =
        [
            new("productpage", "green", "productpage-green"),
            new("productpage", "yellow", "productpage-yellow"),
            new("details", "green", "details-green"),
            new("details", "yellow", "details-yellow"),
            new("reviews", "green", "reviews-green"),
            new("ratings", "green", "ratings-green"),
            new("ratings", "yellow", "ratings-yellow"),
        ],
        ServiceMetadata = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["productpage"] = new Dictionary<string, string> { ["lanePolicy"] = "Permissive" },
            ["details"] = new Dictionary<string, string> { ["lanePolicy"] = "Permissive" },
            ["reviews"] = new Dictionary<string, string> { ["lanePolicy"] = "Permissive" },
            ["ratings"] = new Dictionary<string, string> { ["lanePolicy"] = "Permissive" },
        },
        EntryService = "productpage",
        EntryPath = "/productpage",
        Rows =
        [
            new("yellow (alias)", [H("x-mspider-laneid", "yellow")], 200,
                [Hop("productpage", "yellow", "yellow"), Hop("details", "yellow", "yellow"), Hop("reviews", "green", "yellow"), Hop("ratings", "yellow", "yellow")]),
            new("green (alias)", [H("x-mspider-laneid", "green")], 200,
                [Hop("productpage", "green", "green"), Hop("details", "green", "green"), Hop("reviews", "green", "green"), Hop("ratings", "green", "green")]),
            new("yellow (header)", [H("x-mspider-lane", "yellow")], 200,
                [Hop("productpage", "yellow", "yellow"), Hop("details", "yellow", "yellow"), Hop("reviews", "green", "yellow"), Hop("ratings", "yellow", "yellow")]),
            new("no header", [], 200,
                [Hop("productpage", "green", "green"), Hop("details", "green", "green"), Hop("reviews", "green", "green"), Hop("ratings", "green", "green")]),
        ],
    };

    /// <summary>
    /// NetEase Hango traffic colouring: header <c>x-nsf-mark</c>, no default; route <c>GET /svc1</c> to cluster svc1,
    /// declared <c>dev1,dev2</c>, with pod1 (<c>dev1</c>) and pod2 (unlabelled), policy Declared.
    /// </summary>
    public static Scenario Hango { get; } = new()
    {
        Name = "hango",
        Header = "x-nsf-mark",
        Lanes = new Dictionary<string, string?> { ["Preset"] = "nsf" },
        Instances = [new("svc1", "dev1", "pod1"), new("svc1", null, "pod2")],
        ServiceMetadata = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["svc1"] = new Dictionary<string, string> { ["lanePolicy"] = "Declared", ["lanes"] = "dev1,dev2" },
        },
        EntryService = "svc1",
        EntryPath = "/svc1",
        Rows =
        [
            new("no header", [], 200, [Hop("svc1", string.Empty, string.Empty)]),
            new("dev1", [H("x-nsf-mark", "dev1")], 200, [Hop("svc1", "dev1", "dev1")]),
            new("dev2 (declared, no instance)", [H("x-nsf-mark", "dev2")], 503, []),
            new("dev3 (not declared)", [H("x-nsf-mark", "dev3")], 200, [Hop("svc1", string.Empty, "dev3")]),
        ],
    };
}
