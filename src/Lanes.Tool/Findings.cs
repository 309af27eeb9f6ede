namespace Lanes.Tool;

/// <summary>How much a finding matters: an error fails <c>lanes lint</c> (exit 1).</summary>
internal enum Severity
{
    Note,
    Warning,
    Error,
}

/// <summary>One rule: its stable name, code, severity, what it catches, and the Istio analyzer code that overlaps, if any.</summary>
internal sealed record Rule(string Name, string Code, Severity Severity, string Catches, string? Istio = null);

/// <summary>What the linter found, where.</summary>
/// <param name="Rule">The rule that found it.</param>
/// <param name="File">The file.</param>
/// <param name="Line">The line, from 1.</param>
/// <param name="Column">The column, from 1.</param>
/// <param name="Message">What is wrong and how to fix it.</param>
/// <param name="Override">A severity for this finding other than its rule's default (port-protocol: a note where Istio sniffs HTTP).</param>
internal sealed record Finding(Rule Rule, string File, int Line, int Column, string Message, Severity? Override = null)
{
    /// <summary>This finding's severity: <see cref="Override"/>, else its rule's.</summary>
    public Severity Severity => Override ?? Rule.Severity;
}

/// <summary>Every rule, in the order of the README's table.</summary>
internal static class Rules
{
    public static readonly Rule YamlSyntax = new("yaml-syntax", "LANES001", Severity.Error, "tabs, `key:value` without a space, bad indentation: the file is not the YAML it looks like");
    public static readonly Rule UnknownField = new("unknown-field", "LANES002", Severity.Error, "a misspelt field (`matchs`): Istio drops or rejects it", "IST0106 (schema, partly)");
    public static readonly Rule SubsetNotDefined = new("subset-not-defined", "LANES003", Severity.Error, "a route's host and subset have no DestinationRule subset", "IST0101");
    public static readonly Rule SubsetSelectsNothing = new("subset-selects-nothing", "LANES004", Severity.Error, "a DestinationRule subset's labels select no workload among the manifests", "IST0173");
    public static readonly Rule SelectorMatchesNothing = new("selector-matches-nothing", "LANES005", Severity.Error, "a WasmPlugin, Service or workload selector matches no workload");
    public static readonly Rule NoDefaultRoute = new("no-default-route", "LANES006", Severity.Error, "a mesh VirtualService that routes by a lane header and whose last rule has a match: a request with no or another lane has nowhere to go (only VirtualServices that match a lane header)");
    public static readonly Rule UnreachableRule = new("unreachable-rule", "LANES007", Severity.Warning, "a rule (or one match of it) that an earlier rule's match already takes: no match, equal conditions, or a prefix covering an exact value or longer prefix", "IST0130, IST0131");
    public static readonly Rule DuplicateHost = new("duplicate-host", "LANES008", Severity.Error, "two mesh VirtualServices for one host: Istio merges them unpredictably", "IST0109");
    public static readonly Rule LaneHeaderMismatch = new("lane-header-mismatch", "LANES009", Severity.Error, "a mesh hop matches a lane value no gateway sets, a lane on a header the gateway does not set it on, or an alias only the entry sees (match the canonical header)");
    public static readonly Rule SetRouteMismatch = new("set-route-mismatch", "LANES010", Severity.Error, "a rule sets the lane header to one lane and routes to another lane's subset");
    public static readonly Rule TemplateValue = new("template-value", "LANES011", Severity.Error, "a header value with `{{ ... }}` or `%REQ(...)%`: Istio sends it as text");
    public static readonly Rule InvalidLaneValue = new("invalid-lane-value", "LANES012", Severity.Error, "a lane that the lane rules or Kubernetes label rules reject (`dev1,dev2` as a label value)");
    public static readonly Rule PortRequired = new("port-required", "LANES013", Severity.Error, "a route to a service with several ports that names no port", "IST0112");
    public static readonly Rule PortProtocol = new("port-protocol", "LANES014", Severity.Warning, "a port of a routed Service whose name or `appProtocol` selects a protocol other than HTTP or gRPC (`tcp-...`, `tls`, `mongo`, `appProtocol: tcp`): Istio proxies it as that protocol and no lane header match applies (warning); a port with neither a protocol name nor `appProtocol`: Istio sniffs HTTP/1.1 and HTTP/2 there, so lanes work, but sniffing delays the first bytes and fails for server-first protocols (note)", "IST0118 (port name, partly)");

    public static readonly IReadOnlyList<Rule> All =
    [
        YamlSyntax, UnknownField, SubsetNotDefined, SubsetSelectsNothing, SelectorMatchesNothing, NoDefaultRoute,
        UnreachableRule, DuplicateHost, LaneHeaderMismatch, SetRouteMismatch, TemplateValue, InvalidLaneValue, PortRequired, PortProtocol,
    ];
}
