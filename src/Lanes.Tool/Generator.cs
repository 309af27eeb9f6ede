using System.Text;
using Lanes.Configuration;
using Lanes.Routing;

namespace Lanes.Tool;

/// <summary>
/// Istio objects from the Lanes configuration the SDK reads: per service a DestinationRule with a subset per lane and a
/// mesh VirtualService routing each lane's header value to its subset, then every other request to the baseline; with
/// a gateway, one gateway VirtualService that matches the canonical header or an alias and sets the canonical header,
/// for every lane of the configuration (<see cref="LaneSettings.ConfiguredLanes"/>, the set a Lanes gateway with trust
/// AcceptDeclared admits): a lane the entry has goes to its subset, a lane only a service behind it has goes to the
/// entry's baseline with the lane set, so the hops behind see it (issue 42: the output always lints clean).
/// Istio cannot fall back from one subset to another: Strict routes every declared lane to its subset (an empty subset
/// answers 503, as Strict does); Permissive and Declared route a lane only where it has instances, the rest to the baseline.
/// </summary>
internal static class Generator
{
    public static string Generate(LaneSettings lanes, string? ns, string labelKey, string? gateway, string? entry)
    {
        var yaml = new StringBuilder();
        var services = lanes.Services.Values.OrderBy(static s => s.Name, StringComparer.Ordinal).ToList();
        if (services.Count == 0)
        {
            throw new InvalidOperationException(
                "the configuration lists no service under Lanes:Services (a service is 'Lanes:Services:<name>:Instances:<id>:Address' with its lane under 'Metadata:lane'; a top-level 'Services' section, Aspire's shape, is service discovery's, not Lanes'): nothing to generate.");
        }

        foreach (var service in services)
        {
            var present = service.Instances.Select(static i => i.Lane).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var declared = service.Settings.DeclaredLanes?.ToList() ?? present;
            var baseline = service.Settings.BaselineLane;
            var subsets = present.Union(service.Settings.Policy == LanePolicy.Strict ? declared : [], StringComparer.Ordinal)
                .Union(baseline is not null ? [baseline] : [], StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var routed = service.Settings.Policy == LanePolicy.Strict
                ? declared.Union(present, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()
                : present.Where(l => declared.Contains(l, StringComparer.Ordinal) || service.Settings.Policy != LanePolicy.Declared).ToList();

            Document(yaml, "networking.istio.io/v1", "DestinationRule", service.Name, ns);
            yaml.Append("spec:\n");
            yaml.Append($"  host: {service.Name}\n");
            yaml.Append("  subsets:\n");
            foreach (var lane in subsets)
            {
                yaml.Append($"    - name: {lane}\n");
                yaml.Append("      labels:\n");
                yaml.Append($"        {Quote(labelKey)}: {Quote(lane)}\n");
            }

            Document(yaml, "networking.istio.io/v1", "VirtualService", service.Name, ns);
            yaml.Append("spec:\n");
            yaml.Append($"  hosts:\n    - {service.Name}\n");
            yaml.Append("  http:\n");
            foreach (var lane in routed.Where(l => l != baseline))
            {
                Rule(yaml, lane, [lanes.Header], lane, set: null, service.Name);
            }

            // The default route: the baseline lane's subset, or the whole service when the baseline is the unlabelled
            // instances (Istio has no subset for "pods without the label").
            yaml.Append("    - name: baseline\n");
            yaml.Append("      route:\n");
            yaml.Append($"        - destination:\n            host: {service.Name}\n");
            if (baseline is not null)
            {
                yaml.Append($"            subset: {baseline}\n");
            }
        }

        if (gateway is not null)
        {
            // Configuration does not keep the order services are listed in, so with several there is no "first": the
            // entry must be named.
            var host = entry ?? (services.Count == 1 ? services[0].Name : throw new InvalidOperationException(
                $"--gateway needs --entry with {services.Count} services under Lanes:Services ({string.Join(", ", services.Select(static s => s.Name))}): name the service the gateway routes to."));
            var service = lanes.Services.TryGetValue(host, out var s) ? s : throw new InvalidOperationException($"--entry '{host}' is not a service under Lanes:Services.");
            var entrySubsets = service.Instances.Select(static i => i.Lane).OfType<string>()
                .Union(service.Settings.Policy == LanePolicy.Strict ? service.Settings.DeclaredLanes ?? [] : [], StringComparer.Ordinal)
                .ToHashSet(StringComparer.Ordinal);

            // Every lane the configuration names, so every lane a hop behind matches is one the gateway sets.
            var lanesOf = lanes.ConfiguredLanes.Union(entrySubsets, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            Document(yaml, "networking.istio.io/v1", "VirtualService", host + "-gateway", ns);
            yaml.Append("spec:\n");
            yaml.Append($"  gateways:\n    - {gateway}\n");
            yaml.Append("  hosts:\n    - \"*\"\n");
            yaml.Append("  http:\n");
            string[] headers = [lanes.Header, .. lanes.Aliases];
            // The default route sets the default lane and goes to the baseline: a rule of their own only when they differ.
            foreach (var lane in lanesOf.Where(l => l != service.Settings.BaselineLane || l != lanes.DefaultLane))
            {
                // The entry's own subset, or (a lane only services behind it have) where the entry serves requests
                // of a lane it has no instance of: its baseline subset, or the whole service for unlabelled instances.
                Rule(yaml, lane, headers, lane, set: lane, host, subset: entrySubsets.Contains(lane) ? lane : service.Settings.BaselineLane, always: entrySubsets.Contains(lane));
            }

            yaml.Append("    - name: default\n");
            if (lanes.DefaultLane is { } defaultLane)
            {
                yaml.Append($"      headers:\n        request:\n          set:\n            {lanes.Header}: {Quote(defaultLane)}\n");
            }

            // A request the default lane is set on is in that lane: its subset when the entry has one, else the baseline.
            yaml.Append($"      route:\n        - destination:\n            host: {host}\n");
            if ((lanes.DefaultLane is { } defaultSubset && entrySubsets.Contains(defaultSubset) ? defaultSubset : service.Settings.BaselineLane) is { } subset)
            {
                yaml.Append($"            subset: {subset}\n");
            }
        }

        return yaml.ToString();
    }

    private static void Document(StringBuilder yaml, string apiVersion, string kind, string name, string? ns)
    {
        if (yaml.Length > 0)
        {
            yaml.Append("---\n");
        }

        yaml.Append($"apiVersion: {apiVersion}\nkind: {kind}\nmetadata:\n  name: {name}\n");
        if (ns is not null)
        {
            yaml.Append($"  namespace: {ns}\n");
        }
    }

    private static void Rule(StringBuilder yaml, string name, string[] headers, string lane, string? set, string host, string? subset = null, bool always = true)
    {
        subset = always ? lane : subset;
        yaml.Append($"    - name: {name}\n");
        yaml.Append("      match:\n");
        foreach (var header in headers)
        {
            yaml.Append($"        - headers:\n            {header}:\n              exact: {Quote(lane)}\n");
        }

        if (set is not null)
        {
            yaml.Append($"      headers:\n        request:\n          set:\n            {headers[0]}: {Quote(set)}\n");
        }

        yaml.Append($"      route:\n        - destination:\n            host: {host}\n");
        if (subset is not null)
        {
            yaml.Append($"            subset: {subset}\n");
        }
    }

    /// <summary>Quotes what YAML would read as another type (true, 1.0, null) or with special characters.</summary>
    private static string Quote(string value)
        => value.Length == 0 || value.Any(static c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_' and not '.' and not '/')
           || value is "true" or "false" or "null" or "yes" or "no" || double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? "\"" + value.Replace("\"", "\\\"", StringComparison.Ordinal) + "\""
            : value;
}
