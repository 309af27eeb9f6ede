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

    public static List<Finding> Lint(IReadOnlyList<Manifest> manifests, List<Finding> findings)
    {
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
        var laneHeaders = new HashSet<string>(KnownLaneHeaders.Concat(setHeaders.Select(static s => s.Header)).Concat(pluginHeaders), StringComparer.OrdinalIgnoreCase);

        foreach (var vs in services)
        {
            RoutesAndRules(vs, rules, k8sServices, laneHeaders, findings);
        }

        DuplicateHosts(services, findings);
        HeaderMismatch(services, gatewayRules, plugins, findings);
        Subsets(rules, workloads, k8sServices, findings);
        Selectors(manifests, workloads, findings);
        return findings;
    }

    private static void RoutesAndRules(VirtualService vs, List<Manifest> rules, List<Manifest> k8sServices, HashSet<string> laneHeaders, List<Finding> findings)
    {
        var catchAll = (YamlNode?)null;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var rule in vs.Rules)
        {
            // unreachable-rule: after a catch-all, or the same match as an earlier rule.
            if (catchAll is not null)
            {
                findings.Add(At(Rules.UnreachableRule, vs.Manifest, rule.Node,
                    $"rule '{rule.Name}' can never match: the rule at line {ManifestReader.LineOf(catchAll)} has no match and takes every request; move this rule above it."));
            }
            else if (rule.MatchKey is { } key && seen.TryGetValue(key, out var earlier))
            {
                findings.Add(At(Rules.UnreachableRule, vs.Manifest, rule.Node,
                    $"rule '{rule.Name}' has the same match as the rule at line {earlier}, which takes its requests; change or remove one."));
            }

            if (rule.MatchKey is null)
            {
                catchAll ??= rule.Node;
            }
            else
            {
                seen.TryAdd(rule.MatchKey, ManifestReader.LineOf(rule.Node));
            }

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

                var rule2 = rules.FirstOrDefault(r => SameHost(r.Spec?.Str("host"), r.Namespace, route.Host, vs.Manifest.Namespace));
                var subsets = rule2?.Spec?.Seq("subsets").Maps().ToList() ?? [];
                var subset = subsets.FirstOrDefault(s => s.Str("name") == route.Subset);
                if (subset is null)
                {
                    var known = subsets.Select(static s => s.Str("name")).OfType<string>().ToList();
                    findings.Add(At(Rules.SubsetNotDefined, vs.Manifest, route.SubsetNode ?? route.Node, rule2 is null
                        ? $"no DestinationRule for host '{route.Host}' defines subset '{route.Subset}'; add one with that subset."
                        : $"the DestinationRule '{rule2.Name}' for '{route.Host}' has no subset '{route.Subset}' (it has {(known.Count == 0 ? "none" : string.Join(", ", known))}); rename the route's subset or add it."));
                }

                // set-route-mismatch: a rule that sets a lane routes to that lane's subset.
                foreach (var (header, value, node) in rule.Sets.Where(s => laneHeaders.Contains(s.Header)))
                {
                    var labels = subset?.Map("labels").Labels() ?? [];
                    var names = route.Subset;
                    if (!labels.Values.Contains(value, StringComparer.Ordinal) && names != value && !names.EndsWith("-" + value, StringComparison.Ordinal))
                    {
                        findings.Add(At(Rules.SetRouteMismatch, vs.Manifest, route.SubsetNode ?? route.Node,
                            $"this rule sets '{header}: {value}' but routes to subset '{route.Subset}', which is not lane '{value}'; route to the '{value}' subset or set the lane this subset serves."));
                    }
                }
            }
        }

        if (vs.IsMesh && vs.Rules.Count > 0 && vs.Rules[^1].MatchKey is not null)
        {
            findings.Add(At(Rules.NoDefaultRoute, vs.Manifest, vs.Rules[^1].Node,
                $"the last rule of mesh VirtualService '{vs.Manifest.Name}' has a match, so a request with no lane or another lane matches nothing (404 from the sidecar); add a last rule without match that routes to the baseline."));
        }
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

    private static void HeaderMismatch(List<VirtualService> services, List<HttpRule> gatewayRules, List<Manifest> plugins, List<Finding> findings)
    {
        if (gatewayRules.Count == 0 && plugins.Count == 0)
        {
            return;                                                     // nothing upstream is given: nothing to compare with
        }

        // What reaches the mesh: headers a gateway sets (with their values), headers a gateway matches and forwards as
        // they came, and the WasmPlugin's header (with its default lane).
        var setValues = gatewayRules.SelectMany(static r => r.Sets).GroupBy(static s => s.Header, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(static g => g.Key, static g => g.Select(static s => s.Value).ToHashSet(StringComparer.Ordinal), StringComparer.OrdinalIgnoreCase);
        var forwarded = gatewayRules.SelectMany(static r => r.ExactMatches.Select(static m => m.Header)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var plugin in plugins)
        {
            if (plugin.Spec?.Map("pluginConfig") is { } config && config.Str("lane_header") is { } header)
            {
                forwarded.Add(header);
                if (setValues.TryGetValue(header, out var values) && config.Str("traffic_lane") is { } defaultLane)
                {
                    values.Add(defaultLane);
                }
            }
        }

        foreach (var vs in services.Where(static v => v.IsMesh))
        {
            foreach (var rule in vs.Rules)
            {
                foreach (var (header, value, node) in rule.ExactMatches)
                {
                    if (!setValues.ContainsKey(header) && !forwarded.Contains(header))
                    {
                        findings.Add(At(Rules.LaneHeaderMismatch, vs.Manifest, node,
                            $"this hop matches header '{header}', which no gateway sets or forwards (they set {Describe(setValues.Keys)}); match the header the gateway sets."));
                    }
                    else if (setValues.TryGetValue(header, out var values) && !forwarded.Contains(header) && !values.Contains(value))
                    {
                        findings.Add(At(Rules.LaneHeaderMismatch, vs.Manifest, node,
                            $"this hop matches '{header}: {value}', a value no gateway sets (they set {Describe(values)}); the lane is lost here: match one of those."));
                    }
                }
            }
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
        string? MatchKey,
        List<(string Header, string Value, YamlNode Node)> ExactMatches,
        List<(string Header, string Value, YamlNode Node)> Sets,
        List<Route> Routes);

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
                foreach (var match in matches.OfType<YamlMappingNode>())
                {
                    foreach (var (key, value) in match.Map("headers").Pairs())
                    {
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

                Rules.Add(new HttpRule(http, http.Str("name") ?? $"#{index}", matches.Count == 0 ? null : Canonical(http.Get("match")!), exact, sets, routes));
            }
        }

        public Manifest Manifest { get; }

        public bool IsMesh { get; }

        public List<(string Host, YamlNode Node)> Hosts { get; }

        public List<HttpRule> Rules { get; } = [];

        private static string Canonical(YamlNode node) => node switch
        {
            YamlScalarNode s => s.Value ?? string.Empty,
            YamlSequenceNode q => "[" + string.Join(",", q.Children.Select(Canonical)) + "]",
            YamlMappingNode m => "{" + string.Join(",", m.Children.OrderBy(static c => ((YamlScalarNode)c.Key).Value, StringComparer.Ordinal).Select(static c => Canonical(c.Key) + ":" + Canonical(c.Value))) + "}",
            _ => string.Empty,
        };
    }
}
