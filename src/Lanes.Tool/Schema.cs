using YamlDotNet.RepresentationModel;

namespace Lanes.Tool;

/// <summary>
/// The fields Istio and Kubernetes accept where lane configuration lives. A field not listed under an object that is
/// listed is reported (<c>unknown-field</c>); objects not described here (traffic policies, container specs) are not
/// checked.
/// </summary>
internal sealed class Schema
{
    private readonly Dictionary<string, Schema?> _fields;

    private Schema(Dictionary<string, Schema?> fields) => _fields = fields;

    private static Schema Of(params (string Name, Schema? Child)[] fields) => new(fields.ToDictionary(static f => f.Name, static f => f.Child, StringComparer.Ordinal));

    private static (string, Schema?) F(string name, Schema? child = null) => (name, child);

    private static readonly Schema Metadata = Of(F("name"), F("namespace"), F("labels"), F("annotations"), F("generateName"), F("uid"),
        F("resourceVersion"), F("generation"), F("creationTimestamp"), F("ownerReferences"), F("finalizers"), F("managedFields"), F("deletionTimestamp"));

    private static readonly Schema StringMatch = Of(F("exact"), F("prefix"), F("regex"));

    private static readonly Schema HeaderOps = Of(F("set"), F("add"), F("remove"));

    private static readonly Schema Headers = Of(F("request", HeaderOps), F("response", HeaderOps));

    private static readonly Schema Destination = Of(F("host"), F("subset"), F("port", Of(F("number"))));

    private static readonly Schema RouteDestination = Of(F("destination", Destination), F("weight"), F("headers", Headers));

    private static readonly Schema Match = Of(F("name"), F("uri", StringMatch), F("scheme", StringMatch), F("method", StringMatch),
        F("authority", StringMatch), F("headers"), F("port"), F("sourceLabels"), F("gateways"), F("queryParams"), F("ignoreUriCase"),
        F("withoutHeaders"), F("sourceNamespace"), F("statPrefix"));

    private static readonly Schema HttpRoute = Of(F("name"), F("match", Match), F("route", RouteDestination), F("redirect"), F("directResponse"),
        F("delegate"), F("rewrite"), F("timeout"), F("retries"), F("fault"), F("mirror"), F("mirrors"), F("mirrorPercentage"), F("mirrorPercent"),
        F("corsPolicy"), F("headers", Headers));

    private static readonly Schema Subset = Of(F("name"), F("labels"), F("trafficPolicy"));

    private static readonly Schema Selector = Of(F("matchLabels"), F("matchExpressions"));

    private static readonly Dictionary<string, Schema> Specs = new(StringComparer.Ordinal)
    {
        ["VirtualService"] = Of(F("hosts"), F("gateways"), F("http", HttpRoute), F("tls"), F("tcp"), F("exportTo")),
        ["DestinationRule"] = Of(F("host"), F("trafficPolicy"), F("subsets", Subset), F("exportTo"), F("workloadSelector")),
        ["Gateway"] = Of(F("selector"), F("servers")),
        ["WasmPlugin"] = Of(F("selector", Selector), F("targetRef"), F("targetRefs"), F("url"), F("sha256"), F("imagePullPolicy"),
            F("imagePullSecret"), F("pluginConfig"), F("pluginName"), F("phase"), F("priority"), F("failStrategy"), F("vmConfig"), F("match"), F("type"), F("verificationKey")),
        ["Deployment"] = Of(F("replicas"), F("selector", Selector), F("template", Of(F("metadata", Metadata), F("spec"))), F("strategy"),
            F("minReadySeconds"), F("revisionHistoryLimit"), F("paused"), F("progressDeadlineSeconds")),
        ["Service"] = Of(F("selector"), F("ports"), F("type"), F("clusterIP"), F("clusterIPs"), F("externalName"), F("externalTrafficPolicy"),
            F("internalTrafficPolicy"), F("ipFamilies"), F("ipFamilyPolicy"), F("loadBalancerIP"), F("loadBalancerSourceRanges"), F("sessionAffinity"),
            F("sessionAffinityConfig"), F("publishNotReadyAddresses"), F("allocateLoadBalancerNodePorts"), F("externalIPs"), F("healthCheckNodePort"),
            F("loadBalancerClass"), F("trafficDistribution")),
    };

    private static readonly Schema Top = Of(F("apiVersion"), F("kind"), F("metadata", Metadata), F("spec"), F("status"), F("data"));

    /// <summary>
    /// Reports every unknown field of <paramref name="manifest"/>, with the closest known name. Only kinds described here
    /// (and Pods) are checked: a Role's <c>rules</c> or a RoleBinding's <c>subjects</c> sit at the top level too.
    /// </summary>
    public static void Check(Manifest manifest, List<Finding> findings)
    {
        if (!Specs.ContainsKey(manifest.Kind) && manifest.Kind != "Pod")
        {
            return;
        }

        Walk(manifest.File, manifest.Root, Top, findings);
        if (manifest.Spec is { } spec && Specs.TryGetValue(manifest.Kind, out var schema))
        {
            Walk(manifest.File, spec, schema, findings);
        }
    }

    private static void Walk(string file, YamlNode node, Schema schema, List<Finding> findings)
    {
        if (node is YamlSequenceNode sequence)
        {
            foreach (var item in sequence.Children)
            {
                Walk(file, item, schema, findings);
            }

            return;
        }

        if (node is not YamlMappingNode map)
        {
            return;
        }

        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                continue;
            }

            if (!schema._fields.TryGetValue(name, out var child))
            {
                var closest = schema._fields.Keys.MinBy(k => Distance(k, name));
                var hint = closest is not null && Distance(closest, name) <= 2 ? $"did you mean '{closest}'? " : string.Empty;
                findings.Add(new Finding(Rules.UnknownField, file, ManifestReader.LineOf(key), ManifestReader.ColumnOf(key),
                    $"unknown field '{name}': {hint}Istio and Kubernetes ignore or reject it; use one of {string.Join(", ", schema._fields.Keys.Take(8))}{(schema._fields.Count > 8 ? ", ..." : string.Empty)}."));
            }
            else if (child is not null)
            {
                Walk(file, value, child, findings);
            }
        }
    }

    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
