namespace Lanes.Tool.Tests;

/// <summary>Each rule: an example that breaks it (found, at its line) and the fixed example (clean of that rule).</summary>
public sealed class RuleTests
{
    private const string Dr = """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: { name: reviews }
        spec:
          host: reviews
          subsets:
            - name: yellow
              labels: { lane: yellow }
            - name: green
              labels: { lane: green }
        """;

    private static string Vs(string rules, string gateways = "") => $$"""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: { name: reviews }
        spec:
          hosts: [reviews]{{gateways}}
          http:
        {{rules}}
        """;

    private const string DefaultRule = """
            - name: baseline
              route:
                - destination: { host: reviews, subset: green }
        """;

    private const string YellowRule = """
            - name: yellow
              match:
                - headers:
                    x-mspider-lane: { exact: yellow }
              route:
                - destination: { host: reviews, subset: yellow }
        """;

    public static TheoryData<string, string, string, int> Cases => new()
    {
        // rule, failing example, passing example, line of the finding in the failing one
        { "yaml-syntax", "kind: Service\nmetadata:\n  name:svc\n", "kind: Service\nmetadata:\n  name: svc\n", 3 },
        { "yaml-syntax", "kind: Service\nmetadata:\n\tname: svc\n", "kind: Service\nmetadata:\n  name: svc\n", 3 },
        { "yaml-syntax", "kind: Service\nmetadata:\n  name: svc\n   labels: {}\n", "kind: Service\nmetadata:\n  name: svc\n  labels: {}\n", 4 },
        { "unknown-field", Dr + "\n---\n" + Vs(YellowRule.Replace("match:", "matchs:", StringComparison.Ordinal) + "\n" + DefaultRule), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 19 },
        { "subset-not-defined", Dr + "\n---\n" + Vs(YellowRule.Replace("subset: yellow", "subset: reviews-yellow", StringComparison.Ordinal) + "\n" + DefaultRule), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 23 },
        { "no-default-route", Dr + "\n---\n" + Vs(YellowRule), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 18 },
        { "unreachable-rule", Dr + "\n---\n" + Vs(DefaultRule + "\n" + YellowRule), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 21 },
        { "unreachable-rule", Dr + "\n---\n" + Vs(YellowRule + "\n" + YellowRule.Replace("name: yellow", "name: again", StringComparison.Ordinal) + "\n" + DefaultRule), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 24 },
        { "duplicate-host", Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule) + "\n---\n" + Vs(DefaultRule).Replace("name: reviews }", "name: reviews-2 }", StringComparison.Ordinal), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 32 },
        { "template-value", "kind: VirtualService\nmetadata: { name: gw }\nspec:\n  gateways: [gw]\n  hosts: ['*']\n  http:\n    - headers:\n        request:\n          set:\n            x-mspider-lane: \"{{ request.headers['x-lane'] }}\"\n      route:\n        - destination: { host: productpage }\n",
          "kind: VirtualService\nmetadata: { name: gw }\nspec:\n  gateways: [gw]\n  hosts: ['*']\n  http:\n    - headers:\n        request:\n          set:\n            x-mspider-lane: green\n      route:\n        - destination: { host: productpage }\n", 10 },
        { "invalid-lane-value", "kind: Pod\nmetadata:\n  name: p\n  labels:\n    lane: dev1,dev2\n", "kind: Pod\nmetadata:\n  name: p\n  labels:\n    lane: dev1\n", 5 },
        { "invalid-lane-value", Dr.Replace("lane: yellow }", "lane: \"yellow,blue\" }", StringComparison.Ordinal), Dr, 8 },
        { "port-required", "kind: Service\nmetadata: { name: reviews }\nspec:\n  ports: [{ name: http, port: 80 }, { name: grpc, port: 81 }]\n---\n" + Vs(DefaultRule.Replace("subset: green }", "}", StringComparison.Ordinal)),
          "kind: Service\nmetadata: { name: reviews }\nspec:\n  ports: [{ name: http, port: 80 }, { name: grpc, port: 81 }]\n---\n" + Vs(DefaultRule.Replace("subset: green }", "port: { number: 81 } }", StringComparison.Ordinal)), 14 },
        { "subset-selects-nothing", Dr + "\n---\nkind: Pod\nmetadata:\n  name: p\n  labels: { lane: green }\n", Dr + "\n---\nkind: Pod\nmetadata:\n  name: p\n  labels: { lane: green }\n---\nkind: Pod\nmetadata:\n  name: q\n  labels: { lane: yellow }\n", 7 },
        { "selector-matches-nothing", "kind: WasmPlugin\nmetadata: { name: lanes }\nspec:\n  selector:\n    matchLabels: { app: bookinfo }\n---\nkind: Pod\nmetadata:\n  name: p\n  labels: { app: productpage }\n",
          "kind: WasmPlugin\nmetadata: { name: lanes }\nspec:\n  selector:\n    matchLabels: { app: productpage }\n---\nkind: Pod\nmetadata:\n  name: p\n  labels: { app: productpage }\n", 5 },
        { "lane-header-mismatch", "kind: VirtualService\nmetadata: { name: gw }\nspec:\n  gateways: [gw]\n  hosts: ['*']\n  http:\n    - headers: { request: { set: { bu: wtchk } } }\n      route: [{ destination: { host: reviews, subset: green } }]\n---\n" + Vs("    - match: [{ headers: { buid: { exact: wtchk } } }]\n      route: [{ destination: { host: reviews, subset: yellow } }]\n" + DefaultRule),
          "kind: VirtualService\nmetadata: { name: gw }\nspec:\n  gateways: [gw]\n  hosts: ['*']\n  http:\n    - headers: { request: { set: { bu: wtchk } } }\n      route: [{ destination: { host: reviews, subset: green } }]\n---\n" + Vs("    - match: [{ headers: { bu: { exact: wtchk } } }]\n      route: [{ destination: { host: reviews, subset: yellow } }]\n" + DefaultRule), 16 },
        { "set-route-mismatch", Dr + "\n---\nkind: VirtualService\nmetadata: { name: gw }\nspec:\n  gateways: [gw]\n  hosts: ['*']\n  http:\n    - headers: { request: { set: { x-mspider-lane: yellow } } }\n      route: [{ destination: { host: reviews, subset: green } }]\n",
          Dr + "\n---\nkind: VirtualService\nmetadata: { name: gw }\nspec:\n  gateways: [gw]\n  hosts: ['*']\n  http:\n    - headers: { request: { set: { x-mspider-lane: yellow } } }\n      route: [{ destination: { host: reviews, subset: yellow } }]\n", 19 },
        // issue 30: mirrors, covered matches, port protocol, an alias past the entry
        { "subset-not-defined", Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule + "\n      mirror: { host: reviews, subset: blue }"), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule + "\n      mirror: { host: reviews, subset: yellow }"), 27 },
        { "subset-not-defined", Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule + "\n      mirrors:\n        - destination: { host: reviews, subset: blue }"), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule + "\n      mirrors:\n        - destination: { host: reviews, subset: green }"), 28 },
        { "unreachable-rule", Dr + "\n---\n" + Vs(PrefixRule + "\n" + ExactRule + "\n" + DefaultRule), Dr + "\n---\n" + Vs(ExactRule + "\n" + PrefixRule + "\n" + DefaultRule), 23 },
        { "unreachable-rule", Dr + "\n---\n" + Vs(YellowRule + "\n" + YellowRule.Replace("name: yellow", "name: again", StringComparison.Ordinal).Replace("- headers:", "- name: same-match-other-name\n          headers:", StringComparison.Ordinal) + "\n" + DefaultRule), Dr + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 24 },
        { "unreachable-rule", Dr + "\n---\n" + Vs(ExactRule + "\n" + TwoMatchRule + "\n" + DefaultRule), Dr + "\n---\n" + Vs(ExactRule + "\n" + TwoMatchRule.Replace("exact: /api/v1", "exact: /api/v3", StringComparison.Ordinal) + "\n" + DefaultRule), 26 },
        { "port-protocol", "kind: Service\nmetadata: { name: reviews }\nspec:\n  ports:\n    - { name: web, port: 9080 }\n---\n" + Vs(YellowRule + "\n" + DefaultRule), "kind: Service\nmetadata: { name: reviews }\nspec:\n  ports:\n    - { name: http-web, port: 9080 }\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 5 },
        { "port-protocol", "kind: Service\nmetadata: { name: reviews }\nspec:\n  ports:\n    - { port: 9080 }\n---\n" + Vs(YellowRule + "\n" + DefaultRule), "kind: Service\nmetadata: { name: reviews }\nspec:\n  ports:\n    - { port: 9080, appProtocol: http }\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 5 },
        { "lane-header-mismatch", AliasGateway + "\n---\n" + Vs(YellowRule.Replace("x-mspider-lane:", "x-mspider-laneid:", StringComparison.Ordinal) + "\n" + DefaultRule), AliasGateway + "\n---\n" + Vs(YellowRule + "\n" + DefaultRule), 20 },
    };

    /// <summary>A gateway that matches the mspider alias clients send (and forwards it as it came).</summary>
    private const string AliasGateway = """
        kind: VirtualService
        metadata: { name: gw }
        spec:
          gateways: [gw]
          hosts: ['*']
          http:
            - match: [{ headers: { x-mspider-laneid: { exact: yellow } } }]
              route: [{ destination: { host: reviews, subset: yellow } }]
            - route: [{ destination: { host: reviews, subset: green } }]
        """;

    private const string PrefixRule = """
            - name: api
              match:
                - uri: { prefix: /api }
              route:
                - destination: { host: reviews, subset: green }
        """;

    private const string ExactRule = """
            - name: api-v1
              match:
                - uri: { exact: /api/v1 }
              route:
                - destination: { host: reviews, subset: yellow }
        """;

    private const string TwoMatchRule = """
            - name: api-both
              match:
                - uri: { exact: /api/v2 }
                - uri: { exact: /api/v1 }
              route:
                - destination: { host: reviews, subset: green }
        """;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rule_FindsTheFailingExample_AtItsLine_AndNotTheFixedOne(string rule, string failing, string passing, int line)
    {
        var (exit, found) = Lanes.LintText(failing);
        var hit = found.Where(f => (string?)f["rule"] == rule).ToList();
        Assert.True(hit.Count > 0, $"no {rule} in: {string.Join("\n", found.Select(static f => f.ToJsonString()))}");
        Assert.True(hit.Any(f => (int)f["line"]! == line), $"{rule} at lines {string.Join(",", hit.Select(static f => (int)f["line"]!))}, not {line}:\n{string.Join("\n", failing.Split('\n').Select(static (l, i) => $"{i + 1,3} {l}"))}");
        Assert.All(hit, static f => Assert.False(string.IsNullOrWhiteSpace((string?)f["message"])));
        Assert.Equal(hit.Any(static f => (string?)f["severity"] == "error") ? 1 : exit, exit);

        var (_, clean) = Lanes.LintText(passing);
        Assert.DoesNotContain(clean, f => (string?)f["rule"] == rule);
    }

    [Fact]
    public void UnknownField_SuggestsTheClosestName()
    {
        var (_, found) = Lanes.LintText(Vs(YellowRule.Replace("match:", "matchs:", StringComparison.Ordinal) + "\n" + DefaultRule));
        var finding = Assert.Single(found, static f => (string?)f["rule"] == "unknown-field");
        Assert.Contains("did you mean 'match'?", (string)finding["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public void VirtualServicesThatRouteByUriOrMethod_OrMatchAnApplicationHeader_HaveNoLaneFindings()
    {
        // Istio's overlapping-match shape: a mesh VirtualService that routes by URI and method, whose last rule has a
        // match, beside a gateway that sets a lane, and a hop that matches an application header (bookinfo's end-user).
        const string byUri = """
            kind: VirtualService
            metadata: { name: ratings }
            spec:
              hosts: [ratings]
              http:
                - match: [{ uri: { prefix: /ratings/v2 } }]
                  route: [{ destination: { host: ratings } }]
                - match: [{ method: { exact: GET } }]
                  route: [{ destination: { host: ratings } }]
            ---
            kind: VirtualService
            metadata: { name: reviews }
            spec:
              hosts: [reviews]
              http:
                - match: [{ headers: { end-user: { exact: jason } } }]
                  route: [{ destination: { host: reviews } }]
                - route: [{ destination: { host: reviews } }]
            ---
            kind: VirtualService
            metadata: { name: gw }
            spec:
              gateways: [gw]
              hosts: ['*']
              http:
                - headers: { request: { set: { x-mspider-lane: green } } }
                  route: [{ destination: { host: productpage } }]
            """;

        var (exit, found) = Lanes.LintText(byUri);

        Assert.Empty(found);
        Assert.Equal(0, exit);
    }

    [Fact]
    public void LaneHeaderOption_MakesAVirtualServiceThatMatchesIt_AboutLanes()
    {
        // A team's own lane header, not a preset's and set by no gateway in the input: its VirtualService is about lanes
        // once --lane-header names it, and only then.
        var vs = Dr + "\n---\n" + Vs(YellowRule.Replace("x-mspider-lane:", "x-env-lane:", StringComparison.Ordinal));

        var (_, without) = Lanes.LintText(vs);
        var (exit, with) = Lanes.LintText(vs, "--lane-header", "x-env-lane");

        Assert.DoesNotContain(without, static f => (string?)f["rule"] == "no-default-route");
        Assert.Equal(18, (int)Assert.Single(with, static f => (string?)f["rule"] == "no-default-route")["line"]!);
        Assert.Equal(1, exit);
    }
}

/// <summary>
/// Issue 42, item 5: port-protocol says what Istio does. A port with no protocol in its name and no appProtocol is
/// sniffed (HTTP/1.1 and HTTP/2 detected, lanes work): a note to name it anyway. A name or appProtocol that selects
/// another protocol is proxied as that protocol (no header match): a warning. appProtocol http: nothing.
/// </summary>
public sealed class PortProtocolTests
{
    private const string Routes = """
        kind: VirtualService
        metadata: { name: reviews }
        spec:
          hosts: [reviews]
          http:
            - route: [{ destination: { host: reviews } }]
        """;

    [Theory]
    [InlineData("{ port: 9080 }", "note", "sniffing")]
    [InlineData("{ name: web, port: 9080 }", "note", "server-first")]
    [InlineData("{ name: tcp-web, port: 9080 }", "warning", "proxies it as 'tcp'")]
    [InlineData("{ port: 9080, appProtocol: mysql }", "warning", "proxies it as 'mysql'")]
    [InlineData("{ port: 9080, appProtocol: http }", null, null)]
    [InlineData("{ name: http-web, port: 9080 }", null, null)]
    [InlineData("{ name: grpc, port: 9080 }", null, null)]
    public void PortProtocol_SaysWhatIstioDoes(string port, string? severity, string? says)
    {
        var (exit, findings) = Lanes.LintText($"kind: Service\nmetadata: {{ name: reviews }}\nspec:\n  ports:\n    - {port}\n---\n{Routes}");

        Assert.Equal(0, exit);                                             // neither a note nor a warning fails the lint
        var found = findings.Where(static f => (string?)f["rule"] == "port-protocol").ToList();
        if (severity is null)
        {
            Assert.Empty(found);
            return;
        }

        var finding = Assert.Single(found);
        Assert.Equal(severity, (string?)finding["severity"]);
        Assert.Contains(says!, (string?)finding["message"], StringComparison.Ordinal);
    }
}
