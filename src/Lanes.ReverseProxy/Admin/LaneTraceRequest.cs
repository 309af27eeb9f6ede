namespace Lanes.ReverseProxy.Admin;

/// <summary>The body of <c>POST &lt;admin path&gt;/trace</c>: the request to trace, never sent anywhere.</summary>
internal sealed class LaneTraceRequest
{
    public string? Method { get; set; }

    public string? Path { get; set; }

    public Dictionary<string, string?>? Headers { get; set; }

    public Dictionary<string, string?>? Cookies { get; set; }

    public Dictionary<string, string?>? Query { get; set; }
}

/// <summary>The answer of the tracer: what the gateway would decide for a <see cref="LaneTraceRequest"/>, and why.</summary>
internal sealed record LaneTraceResult(
    string? Lane,
    string Source,
    LaneTraceRule? Rule,
    string? Route,
    string? Cluster,
    string? Policy,
    string Outcome,
    string? Reason,
    string? Served,
    int? Status,
    IReadOnlyList<string> Destinations,
    string Detail)
{
    /// <summary>The client's lane that trust AcceptDeclared dropped before colouring and the default applied, or null.</summary>
    public string? DroppedLane { get; init; }
}

/// <summary>The colouring rule that assigned the lane.</summary>
internal sealed record LaneTraceRule(int Index, string Lane, string When);
