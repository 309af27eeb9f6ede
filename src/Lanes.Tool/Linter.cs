using System.Text.RegularExpressions;
using Lanes.Parsing;
using YamlDotNet.RepresentationModel;

namespace Lanes.Tool;

/// <summary>
/// Lints a set of manifests as one deployment: routes against DestinationRules, subsets and selectors against the
/// workloads given, gateway header rewrites against what the mesh matches. Rules that need objects the input does
/// not hold (workloads, Services, gateways) stay silent rather than guess.
/// </summary>
internal static partial class Linter
{
    /// <summary>Headers that carry lanes in the presets, besides those the input sets or a WasmPlugin names.</summary>
    private static readonly string[] KnownLaneHeaders = ["x-mspider-lane", "x-mspider-laneid", "x-nsf-mark"];

    /// <summary>The presets' canonical headers: what the WasmPlugin and Lanes propagate hop after hop.</summary>
    private static readonly string[] CanonicalLaneHeaders = ["x-mspider-lane", "x-nsf-mark"];

    /// <summary>The presets' aliases (what clients send to the entry) and their canonical header.</summary>
    private static readonly Dictionary<string, string> KnownAliases = new(StringComparer.OrdinalIgnoreCase) { ["x-mspider-laneid"] = "x-mspider-lane" };

    /// <param name="manifests">The YAML documents.</param>
    /// <param name="findings">Where findings go.</param>
    /// <param name="extraLaneHeaders">Canonical lane headers from <c>--lane-header</c> and the Lanes JSON files given.</param>
    /// <param name="aliases">Aliases (what clients send to the entry) from the Lanes JSON files given, with their canonical header.</param>
    public static List<Finding> Lint(IReadOnlyList<Manifest> manifests, List<Finding> findings, IReadOnlyCollection<string>? extraLaneHeaders = null, IReadOnlyDictionary<string, string>? aliases = null)
    {
        var knownAliases = new Dictionary<string, string>(KnownAliases, StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, canonical) in aliases ?? new Dictionary<string, string>())
        {
            knownAliases[alias] = canonical;
        }

        foreach (var manifest in manifests)
        {
            Schema.Check(manifest, findings);
        }

        var services = manifests.Where(static m => m.Kind == "VirtualService").Select(static m => new VirtualService(m)).ToList();
        var rules = manifests.Where(static m => m.Kind == "DestinationRule").ToList();
        var workloads = Workloads(manifests);
        var k8sServices = manifests.Where(static m => m.Kind == "Service").ToList();
        var plugins = manifests.Where(static m => m.Kind == "WasmPlugin").ToList();

        // Lane headers: set by a gateway, named by a WasmPlugin, or a preset's.
        var gatewayRules = services.Where(static v => !v.IsMesh).SelectMany(static v => v.Rules).ToList();
        var setHeaders = gatewayRules.SelectMany(static r => r.Sets).ToList();
        var pluginHeaders = plugins.Select(static p => p.Spec?.Map("pluginConfig")?.Str("lane_header")).OfType<string>().ToList();
        var laneHeaders = new HashSet<string>(KnownLaneHeaders.Concat(setHeaders.Select(static s => s.Header)).Concat(pluginHeaders).Concat(extraLaneHeaders ?? []).Concat(knownAliases.Keys), StringComparer.OrdinalIgnoreCase);

        // Headers that reach every hop: set by a gateway, propagated by the WasmPlugin or Lanes (--lane-header, presets).
        var propagated = new HashSet<string>(CanonicalLaneHeaders.Concat(setHeaders.Select(static s => s.Header)).Concat(pluginHeaders).Concat(extraLaneHeaders ?? []), StringComparer.OrdinalIgnoreCase);

        foreach (var vs in services)
        {
            RoutesAndRules(vs, rules, k8sServices, laneHeaders, findings);
        }

        DuplicateHosts(services, findings);
        HeaderMismatch(services, gatewayRules, plugins, laneHeaders, propagated, knownAliases, findings);
        PortProtocols(services, rules, k8sServices, findings);
        Subsets(rules, workloads, k8sServices, findings);
        Selectors(manifests, workloads, findings);
        return findings;
    }

    private static void RoutesAndRules(VirtualService vs, List<Manifest> rules, List<Manifest> k8sServices, HashSet<string> laneHeaders, List<Finding> findings)
    {
        var earlier = new List<(HttpRule Rule, MatchEntry Entry)>();
        foreach (var rule in vs.Rules)
        {
            // unreachable-rule (Istio's IST0130 / IST0131 for HTTP): a rule every match of which an earlier rule's match
            // already takes (a rule without match takes everything; equal conditions, or a prefix that covers an exact
            // value or a longer prefix); a single match entry so covered is ineffective.
            var covered = rule.Entries.Select(entry => (Entry: entry, By: earlier.FirstOrDefault(e => e.Entry.Covers(entry)))).ToList();
            if (covered.Count > 0 && covered.All(static c => c.By.Rule is not null))
            {
                var by = covered[0].By;
                findings.Add(At(Rules.UnreachableRule, vs.Manifest, rule.Node, by.Entry.IsCatchAll
                    ? $"rule '{rule.Name}' can never match: the rule at line {ManifestReader.LineOf(by.Rule.Node)} has no match and takes every request; move this rule above it."
                    : $"rule '{rule.Name}' can never match: the rule at line {ManifestReader.LineOf(by.Rule.Node)} matches every request it matches ({by.Entry}), and comes first; change or remove one."));
            }
            else
            {
                foreach (var (entry, by) in covered.Where(static c => c.By.Rule is not null))
                {
                    findings.Add(At(Rules.UnreachableRule, vs.Manifest, entry.Node,
                        $"this match of rule '{rule.Name}' never takes effect: the rule at line {ManifestReader.LineOf(by.Rule.Node)} matches every request it matches ({by.Entry}); remove it or move it up."));
                }
            }

            earlier.AddRange(rule.Entries.Select(e => (rule, e)));

            foreach (var (header, value, node) in rule.Sets)
            {
                if (value.Contains("{{", StringComparison.Ordinal) || value.Contains("%REQ(", StringComparison.Ordinal))
                {
                    findings.Add(At(Rules.TemplateValue, vs.Manifest, node,
                        $"'{header}: {value}' is sent as this text: Istio does not expand templates in header values. Set a fixed lane per rule (match the incoming header's value, set the canonical header to it)."));
                }
                else if (laneHeaders.Contains(header) && !LaneParser.IsValidLane(value))
                {
                    findings.Add(At(Rules.InvalidLaneValue, vs.Manifest, node, $"'{header}: {value}' is not a valid lane (a lane is letters, digits, '-', '_' and '.'); the SDK would ignore it."));
                }
            }

            foreach (var (header, value, node) in rule.ExactMatches)
            {
                if (laneHeaders.Contains(header) && !LaneParser.IsValidLane(value))
                {
                    findings.Add(At(Rules.InvalidLaneValue, vs.Manifest, node, $"match '{header}: {value}' is not a valid lane; no lane-aware client sends it."));
                }
            }

            foreach (var mirror in rule.Mirrors.Where(static m => m.Subset is not null))
            {
                SubsetDefined(vs, rules, mirror, "mirror", findings);
            }

            foreach (var route in rule.Routes)
            {
                var service = FindService(k8sServices, route.Host, vs.Manifest.Namespace);
                if (route.Port is null && service?.Spec?.Seq("ports") is { Children.Count: > 1 } ports)
                {
                    findings.Add(At(Rules.PortRequired, vs.Manifest, route.Node,
                        $"'{route.Host}' has {ports.Children.Count} ports ({string.Join(", ", ports.Maps().Select(static p => p.Str("name") ?? p.Str("port")))}) and this route names none; add destination.port.number."));
                }

                if (route.Subset is null)
                {
                    continue;
                }

                var subset = SubsetDefined(vs, rules, route, "route", findings);

                // set-route-mismatch: a rule that sets a lane routes to that lane's subset, when the host has one. A host
                // with no subset of the lane serves it from another subset (its baseline) and the lane goes on to the hops
                // behind it: the fallback Lanes does, and what `lanes istio generate --gateway` writes for a lane only a
                // downstream service has.
                foreach (var (header, value, node) in rule.Sets.Where(s => laneHeaders.Contains(s.Header)))
                {
                    var labels = subset?.Map("labels").Labels() ?? [];
                    var names = route.Subset;
                    if (!labels.Values.Contains(value, StringComparer.Ordinal) && names != value && !names.EndsWith("-" + value, StringComparison.Ordinal)
                        && HasSubsetOf(vs, rules, route, value))
                    {
                        findings.Add(At(Rules.SetRouteMismatch, vs.Manifest, route.SubsetNode ?? route.Node,
                            $"this rule sets '{header}: {value}' but routes to subset '{route.Subset}', which is not lane '{value}'; route to the '{value}' subset or set the lane this subset serves."));
                    }
                }
            }
        }

        // A lane rule: only for a VirtualService that routes by a lane header (one that routes by URI or method is not
        // about lanes, and a last rule with a match is its author's choice).
        var laneHeader = vs.Rules.SelectMany(static r => r.MatchedHeaders).FirstOrDefault(laneHeaders.Contains);
        if (vs.IsMesh && laneHeader is not null && vs.Rules.Count > 0 && vs.Rules[^1].Entries.All(static e => !e.IsCatchAll))
        {
            findings.Add(At(Rules.NoDefaultRoute, vs.Manifest, vs.Rules[^1].Node,
                $"mesh VirtualService '{vs.Manifest.Name}' routes by lane header '{laneHeader}' and its last rule has a match, so a request with no lane or another lane matches nothing (404 from the sidecar); add a last rule without match that routes to the baseline."));
        }
    }

    /// <summary>subset-not-defined for a route or mirror destination; the subset when it is defined.</summary>
    /// <summary>True when the DestinationRule of the route's host has a subset of <paramref name="lane"/> (by label value or name).</summary>
    private static bool HasSubsetOf(VirtualService vs, List<Manifest> rules, Route route, string lane)
    {
        var rule = rules.FirstOrDefault(r => SameHost(r.Spec?.Str("host"), r.Namespace, route.Host, vs.Manifest.Namespace));
        return rule?.Spec?.Seq("subsets").Maps().Any(s =>
            s.Map("labels").Labels().Values.Contains(lane, StringComparer.Ordinal)
            || s.Str("name") is { } name && (name == lane || name.EndsWith("-" + lane, StringComparison.Ordinal))) ?? true;
    }

    private static YamlMappingNode? SubsetDefined(VirtualService vs, List<Manifest> rules, Route route, string what, List<Finding> findings)
    {
        var rule = rules.FirstOrDefault(r => SameHost(r.Spec?.Str("host"), r.Namespace, route.Host, vs.Manifest.Namespace));
        var subsets = rule?.Spec?.Seq("subsets").Maps().ToList() ?? [];
        var subset = subsets.FirstOrDefault(s => s.Str("name") == route.Subset);
        if (subset is null)
        {
            var known = subsets.Select(static s => s.Str("name")).OfType<string>().ToList();
            findings.Add(At(Rules.SubsetNotDefined, vs.Manifest, route.SubsetNode ?? route.Node, rule is null
                ? $"no DestinationRule for host '{route.Host}' defines subset '{route.Subset}' (this {what}'s destination); add one with that subset."
                : $"the DestinationRule '{rule.Name}' for '{route.Host}' has no subset '{route.Subset}' (it has {(known.Count == 0 ? "none" : string.Join(", ", known))}); rename this {what}'s subset or add it."));
        }

        return subset;
    }

    /// <summary>
    /// port-protocol: a port of a Service that a VirtualService or DestinationRule routes to, which Istio will not treat as
    /// HTTP or gRPC (its name is not <c>http</c>, <c>http2</c>, <c>grpc</c>, <c>grpc-web</c>, alone or followed by
    /// <c>-suffix</c>, and its <c>appProtocol</c> says none of them): Istio proxies it as TCP and no header match applies.
    /// </summary>
    private static void PortProtocols(List<VirtualService> services, List<Manifest> rules, List<Manifest> k8sServices, List<Finding> findings)
    {
        var routed = services.SelectMany(static v => v.Rules.SelectMany(static r => r.Routes.Concat(r.Mirrors)).Select(r => (r.Host, v.Manifest.Namespace)))
            .Concat(rules.Select(static r => (Host: r.Spec?.Str("host") ?? string.Empty, r.Namespace)))
            .ToList();
        foreach (var service in k8sServices.Where(s => routed.Any(r => SameHost(s.Name, s.Namespace, r.Host, r.Namespace))))
        {
            foreach (var port in service.Spec?.Seq("ports").Maps() ?? [])
            {
                var name = port.Str("name");
                var appProtocol = port.Str("appProtocol");

                // Istio's protocol selection: appProtocol first, then the port name's prefix (<protocol>[-<suffix>]); with
                // neither a known protocol, it detects HTTP/1.1 and HTTP/2 from the first bytes (protocol sniffing).
                var selected = appProtocol ?? (name is null ? null : KnownProtocol(name.Split('-')[0]));
                if (selected is not null && IsHttpProtocol(selected))
                {
                    continue;
                }

                var described = $"port {port.Str("port")} of Service '{service.Name}' is {(name is null ? "unnamed" : $"named '{name}'")}{(appProtocol is null ? string.Empty : $" with appProtocol '{appProtocol}'")}";
                if (selected is null)
                {
                    findings.Add(At(Rules.PortProtocol, service, port,
                        $"{described}: Istio selects its protocol by sniffing, which detects HTTP/1.1 and HTTP/2, so lane header matches apply. Name it anyway ('http', 'http2', 'grpc' or 'grpc-web', optionally '-suffix', e.g. 'http-web') or set appProtocol: sniffing holds the first bytes of every connection until it decides, and a server-first protocol on this port (the server speaks first, as MySQL does) is never detected.")
                        with { Override = Severity.Note });
                    continue;
                }

                findings.Add(At(Rules.PortProtocol, service, port,
                    $"{described}: Istio proxies it as '{selected}', not HTTP, and no lane header match applies. Name it 'http', 'http2', 'grpc' or 'grpc-web' (optionally '-suffix', e.g. 'http-web'), or set appProtocol: http."));
            }
        }

        static bool IsHttpProtocol(string protocol)
            => protocol.Equals("http", StringComparison.OrdinalIgnoreCase) || protocol.Equals("http2", StringComparison.OrdinalIgnoreCase)
                || protocol.Equals("grpc", StringComparison.OrdinalIgnoreCase) || protocol.Equals("grpc-web", StringComparison.OrdinalIgnoreCase)
                || protocol.Equals("kubernetes.io/h2c", StringComparison.OrdinalIgnoreCase) || protocol.Equals("kubernetes.io/ws", StringComparison.OrdinalIgnoreCase);

        // The prefixes Istio's explicit protocol selection knows; any other name is left to sniffing.
        static string? KnownProtocol(string prefix)
            => prefix.ToLowerInvariant() is "http" or "http2" or "https" or "grpc" or "grpc-web" or "tcp" or "tls" or "mongo" or "mysql" or "redis" or "udp"
                ? prefix
                : null;
    }

    private static void DuplicateHosts(List<VirtualService> services, List<Finding> findings)
    {
        var first = new Dictionary<string, VirtualService>(StringComparer.OrdinalIgnoreCase);
        foreach (var vs in services.Where(static v => v.IsMesh))
        {
            foreach (var (host, node) in vs.Hosts)
            {
                var key = ShortHost(host, vs.Manifest.Namespace);
                if (first.TryGetValue(key, out var other) && !ReferenceEquals(other, vs))
                {
                    findings.Add(At(Rules.DuplicateHost, vs.Manifest, node,
                        $"host '{host}' also has mesh VirtualService '{other.Manifest.Name}' ({other.Manifest.File}); Istio merges or drops one unpredictably: put all of the host's rules in one VirtualService."));
                }
                else
                {
                    first.TryAdd(key, vs);
                }
            }
        }
    }

    /// <summary>
    /// lane-header-mismatch, for a mesh hop's exact header matches that are about lanes: a lane header (a preset's, the
    /// WasmPlugin's, one a gateway sets, <c>--lane-header</c>), or another header matched with a lane value a gateway
    /// sets (a misspelt header). An alias (what clients send to the entry) reaches only the first hop: the WasmPlugin and
    /// Lanes propagate the canonical header. A value no gateway sets, on a header the gateway sets, is lost here.
    /// </summary>
    private static void HeaderMismatch(List<VirtualService> services, List<HttpRule> gatewayRules, List<Manifest> plugins, HashSet<string> laneHeaders, HashSet<string> propagated, Dictionary<string, string> knownAliases, List<Finding> findings)
    {
        var setValues = gatewayRules.SelectMany(static r => r.Sets).GroupBy(static s => s.Header, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(static g => g.Key, static g => g.Select(static s => s.Value).ToHashSet(StringComparer.Ordinal), StringComparer.OrdinalIgnoreCase);
        var pluginHeaders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var plugin in plugins)
        {
            if (plugin.Spec?.Map("pluginConfig") is { } config && config.Str("lane_header") is { } header)
            {
                pluginHeaders.Add(header);
                if (setValues.TryGetValue(header, out var values) && config.Str("traffic_lane") is { } defaultLane)
                {
                    values.Add(defaultLane);
                }
            }
        }

        // Headers the gateway only matches (forwards as they came): they reach the first hop, not the next.
        var entryOnly = gatewayRules.SelectMany(static r => r.ExactMatches.Select(static m => m.Header))
            .Where(h => !propagated.Contains(h)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var vs in services.Where(static v => v.IsMesh))
        {
            foreach (var rule in vs.Rules)
            {
                foreach (var (header, value, node) in rule.ExactMatches)
                {
                    if (laneHeaders.Contains(header) && (entryOnly.Contains(header) || knownAliases.ContainsKey(header)) && !propagated.Contains(header) && !setValues.ContainsKey(header))
                    {
                        findings.Add(At(Rules.LaneHeaderMismatch, vs.Manifest, node,
                            $"this hop matches '{header}', which only the entry sees (clients send it to the gateway; the WasmPlugin and Lanes propagate {Canonical(header)} from hop to hop), so every hop after the first loses the lane: match {Canonical(header)} instead."));
                    }
                    else if (setValues.TryGetValue(header, out var values) && !pluginHeaders.Contains(header) && !values.Contains(value))
                    {
                        findings.Add(At(Rules.LaneHeaderMismatch, vs.Manifest, node,
                            $"this hop matches '{header}: {value}', a value no gateway sets (they set {Describe(values)}); the lane is lost here: match one of those."));
                    }
                    else if (!laneHeaders.Contains(header) && setValues.FirstOrDefault(p => p.Value.Contains(value)) is { Key: { } setHeader })
                    {
                        findings.Add(At(Rules.LaneHeaderMismatch, vs.Manifest, node,
                            $"this hop matches header '{header}' with lane '{value}', which the gateway sets on '{setHeader}', not on '{header}'; match '{setHeader}'."));
                    }
                }
            }
        }

        string Canonical(string alias)
        {
            var canonical = knownAliases.TryGetValue(alias, out var known) ? [known] : propagated.Where(p => !knownAliases.ContainsKey(p)).ToList();
            return Describe(canonical);
        }

        static string Describe(IEnumerable<string> values) => values.Any() ? string.Join(", ", values.Select(static v => $"'{v}'")) : "none";
    }

    private static void Subsets(List<Manifest> rules, List<Workload> workloads, List<Manifest> k8sServices, List<Finding> findings)
    {
        foreach (var rule in rules)
        {
            var host = rule.Spec?.Str("host");
            var service = host is null ? null : FindService(k8sServices, host, rule.Namespace);
            var selector = service?.Spec?.Map("selector").Labels();
            foreach (var subset in rule.Spec?.Seq("subsets").Maps() ?? [])
            {
                var labels = subset.Map("labels");
                foreach (var (key, value) in labels.Pairs())
                {
                    if (value is YamlScalarNode { Value: { } text } && !IsLabelValue(text))
                    {
                        findings.Add(At(Rules.InvalidLaneValue, rule, value,
                            $"label value '{text}' is not a valid Kubernetes label value (63 characters of letters, digits, '-', '_', '.'; no ','): no pod can carry it. Use one lane per subset."));
                    }
                }

                if (workloads.Count == 0 || labels is null)
                {
                    continue;
                }

                var wanted = labels.Labels();
                if (selector is not null)
                {
                    foreach (var (k, v) in selector)
                    {
                        wanted.TryAdd(k, v);
                    }
                }

                if (!workloads.Any(w => wanted.All(l => w.Labels.TryGetValue(l.Key, out var v) && v == l.Value)))
                {
                    findings.Add(At(Rules.SubsetSelectsNothing, rule, subset,
                        $"subset '{subset.Str("name")}' selects pods labelled {string.Join(", ", wanted.Select(static l => $"{l.Key}={l.Value}"))}, and no workload given carries them (no healthy upstream at run time); fix the labels or the workload's."));
                }
            }
        }
    }

    private static void Selectors(IReadOnlyList<Manifest> manifests, List<Workload> workloads, List<Finding> findings)
    {
        foreach (var manifest in manifests)
        {
            var labels = manifest.Kind switch
            {
                "WasmPlugin" => manifest.Spec?.Map("selector")?.Map("matchLabels"),
                "Service" => manifest.Spec?.Map("selector"),
                "Deployment" => manifest.Spec?.Map("selector")?.Map("matchLabels"),
                _ => null,
            };

            var podLabels = manifest.Kind switch
            {
                "Pod" => manifest.Root.Map("metadata")?.Map("labels"),
                "Deployment" => manifest.Spec?.Map("template")?.Map("metadata")?.Map("labels"),
                _ => null,
            };
            foreach (var (key, value) in podLabels.Pairs())
            {
                if (value is YamlScalarNode { Value: { } text } && !IsLabelValue(text))
                {
                    findings.Add(At(Rules.InvalidLaneValue, manifest, value, $"label value '{text}' is not a valid Kubernetes label value (no ','); the API server rejects it. One lane per pod."));
                }
            }

            if (manifest.Kind == "Service" && manifest.Root.Map("metadata")?.Map("annotations") is { } annotations)
            {
                foreach (var (key, value) in annotations.Pairs())
                {
                    if (key is YamlScalarNode { Value: { } name } && name.EndsWith("/mark", StringComparison.Ordinal) && value is YamlScalarNode { Value: { } list })
                    {
                        foreach (var lane in list.Split(',', StringSplitOptions.TrimEntries))
                        {
                            if (!LaneParser.IsValidLane(lane))
                            {
                                findings.Add(At(Rules.InvalidLaneValue, manifest, value, $"'{lane}' in annotation '{name}' is not a valid lane; list lanes separated by commas."));
                            }
                        }
                    }
                }
            }

            if (labels is null || workloads.Count == 0)
            {
                continue;
            }

            var wanted = labels.Labels();
            if (wanted.Count > 0 && !workloads.Any(w => wanted.All(l => w.Labels.TryGetValue(l.Key, out var v) && v == l.Value)))
            {
                findings.Add(At(Rules.SelectorMatchesNothing, manifest, labels,
                    $"{manifest.Kind} '{manifest.Name}' selects {string.Join(", ", wanted.Select(static l => $"{l.Key}={l.Value}"))}, and no workload given carries those labels; use labels the workloads have."));
            }
        }
    }

    /// <summary>Pods and Deployment templates, by their labels.</summary>
    private sealed record Workload(string Name, Dictionary<string, string> Labels);

    private static List<Workload> Workloads(IReadOnlyList<Manifest> manifests)
        => [.. manifests.Select(static m => m.Kind switch
        {
            "Pod" => new Workload(m.Name, m.Root.Map("metadata")?.Map("labels").Labels() ?? []),
            "Deployment" or "StatefulSet" or "DaemonSet" => new Workload(m.Name, m.Spec?.Map("template")?.Map("metadata")?.Map("labels").Labels() ?? []),
            _ => null,
        }).OfType<Workload>()];

    internal static bool IsLabelValue(string value) => value.Length <= 63 && LabelValue().IsMatch(value);

    private static Manifest? FindService(List<Manifest> services, string host, string? ns)
        => services.FirstOrDefault(s => SameHost(s.Name, s.Namespace, host, ns));

    /// <summary><c>details</c>, <c>details.ns</c> and <c>details.ns.svc.cluster.local</c> name one host.</summary>
    private static bool SameHost(string? a, string? aNamespace, string b, string? bNamespace)
        => a is not null && string.Equals(ShortHost(a, aNamespace), ShortHost(b, bNamespace), StringComparison.OrdinalIgnoreCase);

    private static string ShortHost(string host, string? ns)
    {
        var parts = host.Split('.');
        return parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : $"{parts[0]}.{ns ?? "default"}";
    }

    private static Finding At(Rule rule, Manifest manifest, YamlNode node, string message)
        => new(rule, manifest.File, ManifestReader.LineOf(node), ManifestReader.ColumnOf(node), message);

    [GeneratedRegex(@"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    /// <summary>An HTTP rule of a VirtualService, as the rules read it.</summary>
    internal sealed record HttpRule(
        YamlMappingNode Node,
        string Name,
        List<MatchEntry> Entries,
        List<string> MatchedHeaders,
        List<(string Header, string Value, YamlNode Node)> ExactMatches,
        List<(string Header, string Value, YamlNode Node)> Sets,
        List<Route> Routes,
        List<Route> Mirrors);

    /// <summary>
    /// One entry of a rule's <c>match</c> (its conditions ANDed; entries are ORed), or the whole rule for a rule without
    /// match. Conditions are keyed by field (<c>uri</c>, <c>headers.x-mspider-lane</c>, <c>queryParams.v</c>, ...) with
    /// their kind (<c>exact</c>, <c>prefix</c>, <c>regex</c>, or the field's value as written); <c>name</c> is ignored,
    /// as Istio ignores it when it compares matches.
    /// </summary>
    internal sealed class MatchEntry(YamlNode node, Dictionary<string, (string Kind, string Value)> conditions)
    {
        private static readonly string[] StringMatches = ["uri", "scheme", "method", "authority"];
        private static readonly string[] StringMatchMaps = ["headers", "queryParams", "withoutHeaders"];

        public YamlNode Node { get; } = node;

        public bool IsCatchAll => conditions.Count == 0;

        public static MatchEntry Of(YamlNode node)
        {
            var conditions = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
            foreach (var (key, value) in (node as YamlMappingNode).Pairs())
            {
                var field = (key as YamlScalarNode)?.Value ?? string.Empty;
                if (field is "name" or "statPrefix")
                {
                    continue;
                }

                if (StringMatches.Contains(field))
                {
                    conditions[field] = Condition(value);
                }
                else if (StringMatchMaps.Contains(field) && value is YamlMappingNode map)
                {
                    foreach (var (name, match) in map.Pairs())
                    {
                        conditions[$"{field}.{((YamlScalarNode)name).Value?.ToLowerInvariant()}"] = Condition(match);
                    }
                }
                else
                {
                    conditions[field] = ("=", Text(value));
                }
            }

            return new MatchEntry(node, conditions);
        }

        /// <summary>True when every request <paramref name="later"/> matches, this entry matches too (so, earlier, it takes them all).</summary>
        public bool Covers(MatchEntry later)
        {
            foreach (var (field, (kind, value)) in conditions)
            {
                if (!later.Conditions.TryGetValue(field, out var other))
                {
                    return false;                                       // later also takes requests without this condition
                }

                var implied = (kind, other.Kind) switch
                {
                    ("prefix", "exact" or "prefix") => other.Value.StartsWith(value, StringComparison.Ordinal),
                    _ => kind == other.Kind && value == other.Value,
                };
                if (!implied)
                {
                    return false;
                }
            }

            return true;
        }

        public override string ToString() => IsCatchAll ? "no condition" : string.Join(", ", conditions.Select(static c => $"{c.Key} {c.Value.Kind} '{c.Value.Value}'"));

        private Dictionary<string, (string Kind, string Value)> Conditions => conditions;

        private static (string, string) Condition(YamlNode node)
            => node is YamlMappingNode { Children.Count: 1 } m && m.Children.First() is var (k, v) && k is YamlScalarNode { Value: { } kind } && v is YamlScalarNode { Value: { } text }
                ? (kind, text)
                : ("=", Text(node));

        private static string Text(YamlNode node) => node switch
        {
            YamlScalarNode s => s.Value ?? string.Empty,
            YamlSequenceNode q => "[" + string.Join(",", q.Children.Select(Text)) + "]",
            YamlMappingNode m => "{" + string.Join(",", m.Children.OrderBy(static c => ((YamlScalarNode)c.Key).Value, StringComparer.Ordinal).Select(static c => Text(c.Key) + ":" + Text(c.Value))) + "}",
            _ => string.Empty,
        };
    }

    internal sealed record Route(YamlNode Node, string Host, string? Subset, YamlNode? SubsetNode, string? Port);

    internal sealed class VirtualService
    {
        public VirtualService(Manifest manifest)
        {
            Manifest = manifest;
            var spec = manifest.Spec;
            var gateways = spec?.Seq("gateways").Strings().ToList() ?? [];
            IsMesh = gateways.Count == 0 || gateways.Contains("mesh");
            Hosts = [.. (spec?.Seq("hosts")?.Children ?? []).OfType<YamlScalarNode>().Select(static h => (h.Value ?? string.Empty, (YamlNode)h))];
            var index = 0;
            foreach (var http in spec?.Seq("http").Maps() ?? [])
            {
                index++;
                var matches = http.Seq("match")?.Children ?? [];
                var exact = new List<(string, string, YamlNode)>();
                var matched = new List<string>();
                foreach (var match in matches.OfType<YamlMappingNode>())
                {
                    foreach (var (key, value) in match.Map("headers").Pairs())
                    {
                        if (key is YamlScalarNode { Value: { } name })
                        {
                            matched.Add(name);
                        }

                        if (key is YamlScalarNode { Value: { } header } && value is YamlMappingNode condition && condition.Get("exact") is YamlScalarNode { Value: { } lane } laneNode)
                        {
                            exact.Add((header, lane, laneNode));
                        }
                    }
                }

                var sets = new List<(string, string, YamlNode)>();
                foreach (var operation in new[] { "set", "add" })
                {
                    foreach (var (key, value) in http.Map("headers")?.Map("request")?.Map(operation).Pairs() ?? [])
                    {
                        if (key is YamlScalarNode { Value: { } header } && value is YamlScalarNode { Value: { } text })
                        {
                            sets.Add((header, text, value));
                        }
                    }
                }

                var routes = new List<Route>();
                foreach (var route in http.Seq("route").Maps())
                {
                    if (route.Map("destination") is { } destination && destination.Str("host") is { } host)
                    {
                        routes.Add(new Route(destination, host, destination.Str("subset"), destination.Get("subset"), destination.Map("port")?.Str("number")));
                    }
                }

                var mirrors = new List<Route>();
                foreach (var destination in new[] { http.Map("mirror") }.Concat(http.Seq("mirrors").Maps().Select(static m => m.Map("destination"))))
                {
                    if (destination is not null && destination.Str("host") is { } host)
                    {
                        mirrors.Add(new Route(destination, host, destination.Str("subset"), destination.Get("subset"), destination.Map("port")?.Str("number")));
                    }
                }

                List<MatchEntry> entries = matches.Count == 0 ? [new MatchEntry(http, [])] : [.. matches.Select(MatchEntry.Of)];
                Rules.Add(new HttpRule(http, http.Str("name") ?? $"#{index}", entries, matched, exact, sets, routes, mirrors));
            }
        }

        public Manifest Manifest { get; }

        public bool IsMesh { get; }

        public List<(string Host, YamlNode Node)> Hosts { get; }

        public List<HttpRule> Rules { get; } = [];
    }
}
