namespace Lanes.ReverseProxy.Admin;

// The JSON contract of GET /lanes (docs/admin-report.md): these records are the whole document, serialised with
// ASP.NET Core's web defaults (camelCase names). The page reads only what is here; a change to a record is a change
// to the documented contract, and AdminReportContractTests fails until docs/admin-report.md says so.

/// <summary>The whole report.</summary>
internal sealed record AdminReport(
    string Header,
    IReadOnlyList<string> Aliases,
    string? DefaultLane,
    string Trust,
    int ColouringRules,
    bool DebugHeaders,
    DateTimeOffset GeneratedAt,
    AdminEntry Entry,
    IReadOnlyList<AdminLane> Lanes,
    IReadOnlyCollection<string> MatrixLanes,
    long ObservedOverflow,
    AdminTraffic Traffic,
    IReadOnlyList<AdminCluster> Clusters,
    IReadOnlyList<AdminDiscoveredService> Discovery,
    IReadOnlyList<AdminShadow> Shadow);

/// <summary>A shadow rule (<c>Lanes:Shadow:&lt;name&gt;</c>) and what its comparisons found.</summary>
internal sealed record AdminShadow(
    string Name,
    string Cluster,
    string Lane,
    string? FromLane,
    double Percent,
    bool Secondary,
    long Mirrored,
    long Dropped,
    IReadOnlyDictionary<string, long> DroppedBy,
    long Differing,
    IReadOnlyList<AdminShadowField> Fields,
    IReadOnlyList<string> Noise,
    AdminLatency Primary,
    AdminLatency ShadowLatency);

/// <summary>A field path (or <c>status</c>, <c>header:name</c>, <c>body</c>) whose shadow answer differed, how often, and one short, redacted example.</summary>
internal sealed record AdminShadowField(string Path, long Count, string Example);

/// <summary>Latency percentiles in milliseconds over the latest answers, null before the first.</summary>
internal sealed record AdminLatency(double? P50, double? P99);

/// <summary>A service resolved through service discovery, and whether its instances are current or stale.</summary>
internal sealed record AdminDiscoveredService(
    string Service,
    string Scheme,
    bool Known,
    int Instances,
    DateTimeOffset? Refreshed,
    DateTimeOffset? FailingSince,
    string? Failure);

/// <summary>The entry's settings and colouring rules.</summary>
internal sealed record AdminEntry(string Trust, string? DefaultLane, string Header, IReadOnlyList<string> Aliases, IReadOnlyList<AdminRule> Rules, IReadOnlyList<string> Propagators);

/// <summary>One colouring rule with its hits since the rules were last loaded.</summary>
internal sealed record AdminRule(int Index, string Lane, string When, bool Override, long Hits);

/// <summary>A declared or observed lane.</summary>
internal sealed record AdminLane(string Lane, IReadOnlyList<AdminDeclaration> DeclaredBy, long Observed, DateTimeOffset? LastSeen, bool Undeclared, IReadOnlyDictionary<string, long> From);

/// <summary>A cluster that declares a lane, and where the declaration comes from.</summary>
internal sealed record AdminDeclaration(string Cluster, string From);

/// <summary>Routing decisions over the last five minutes, in buckets.</summary>
internal sealed record AdminTraffic(int BucketSeconds, IReadOnlyList<AdminTrafficSeries> Series);

/// <summary>One service x lane tag x outcome series.</summary>
internal sealed record AdminTrafficSeries(string Service, string? Lane, string Outcome, long LastMinute, long LastFiveMinutes, IReadOnlyList<long> Buckets);

/// <summary>One YARP cluster.</summary>
internal sealed record AdminCluster(
    string Id,
    bool UsesLanes,
    string? Policy,
    string? Baseline,
    bool? PanicToAny,
    IReadOnlyList<string>? DeclaredLanes,
    string? DeclaredFrom,
    string? DeclarationSource,
    IReadOnlyDictionary<string, string[]> Lanes,
    IReadOnlyList<AdminDestination> Destinations,
    IReadOnlyList<AdminCounter> Counters,
    IReadOnlyList<AdminCell>? Matrix,
    AdminFailover? Failover);

/// <summary>What failover did for a cluster since start: failed attempts by reason and outcome (retried, or why not), and ejections.</summary>
internal sealed record AdminFailover(int Retries, long Ejections, IReadOnlyList<AdminRetryCount> Attempts, IReadOnlyList<string> Ejected);

/// <summary>Failed attempts of one reason that failover handled one way.</summary>
internal sealed record AdminRetryCount(string Reason, string Outcome, long Count);

/// <summary>One destination with its lane, origin and health.</summary>
internal sealed record AdminDestination(
    string Id,
    string? Address,
    string? Lane,
    string Origin,
    AdminHealth Health,
    bool Available,
    int InFlight,
    long RecentFailures);

/// <summary>YARP's active and passive health of a destination.</summary>
internal sealed record AdminHealth(string Active, string Passive);

/// <summary>Routing decisions since start by lane tag, outcome and reason.</summary>
internal sealed record AdminCounter(string? Lane, string? Outcome, string? Reason, long Count);

/// <summary>One cell of the cluster x lane matrix: the engine's own choice.</summary>
internal sealed record AdminCell(
    string? Lane,
    string Label,
    bool Declared,
    int Healthy,
    int Total,
    string? Outcome,
    string? Reason,
    string? Served,
    int? Status,
    IReadOnlyList<string> Destinations);
