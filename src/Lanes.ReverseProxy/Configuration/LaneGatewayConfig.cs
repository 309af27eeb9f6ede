using System.Globalization;
using System.Text.RegularExpressions;
using Lanes.Configuration;
using Lanes.Parsing;
using Lanes.ReverseProxy.Colouring;
using Lanes.ReverseProxy.Shadow;
using Lanes.Routing;

namespace Lanes.ReverseProxy.Configuration;

/// <summary>An immutable, validated snapshot of <see cref="LaneGatewayOptions"/>: what a request reads, swapped whole on reload.</summary>
internal sealed class LaneGatewayConfig
{
    private LaneGatewayConfig(LaneTrust trust, bool debugHeaders, ColouringRule[] rules, LaneFailoverSettings failover, ShadowRule[] shadows)
    {
        Shadows = shadows;
        Failover = failover;
        Trust = trust;
        DebugHeaders = debugHeaders;
        Rules = rules;
    }

    public LaneTrust Trust { get; }

    public bool DebugHeaders { get; }

    public ColouringRule[] Rules { get; }

    /// <summary><c>Lanes:Shadow</c>, validated, in name order.</summary>
    public ShadowRule[] Shadows { get; }

    /// <summary><c>Lanes:Failover</c>, validated.</summary>
    public LaneFailoverSettings Failover { get; }

    /// <summary>Validates and compiles; throws <see cref="ArgumentException"/> listing every problem, each naming the setting and what to write.</summary>
    public static LaneGatewayConfig Create(LaneGatewayOptions options, LaneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Trust))
        {
            failures.Add("Lanes:Trust must be Accept, AcceptDeclared or Ignore.");
        }

        var rules = new List<ColouringRule>(options.Colouring.Count);
        for (var i = 0; i < options.Colouring.Count; i++)
        {
            var rule = Compile(i, options.Colouring[i], settings.MaxLength, failures);
            if (rule is not null)
            {
                rules.Add(rule);
            }
        }

        var failover = LaneFailoverSettings.Create(options.Failover, "Lanes:Failover", failures);
        var shadows = new List<ShadowRule>(options.Shadow.Count);
        foreach (var (name, shadow) in options.Shadow.OrderBy(static s => s.Key, StringComparer.Ordinal))
        {
            if (ShadowRule.Compile(name, shadow, settings.MaxLength, failures) is { } compiled)
            {
                shadows.Add(compiled);
            }
        }

        if (failures.Count > 0)
        {
            throw new ArgumentException("Invalid lane gateway settings: " + string.Join(" ", failures), nameof(options));
        }

        return new LaneGatewayConfig(options.Trust, options.DebugHeaders, [.. rules], failover!, [.. shadows]);
    }

    private static ColouringRule? Compile(int index, LaneColouringRule? rule, int maxLength, List<string> failures)
    {
        var at = $"Lanes:Colouring:{index.ToString(CultureInfo.InvariantCulture)}";
        if (rule is null)
        {
            failures.Add($"{at} is empty.");
            return null;
        }

        var count = failures.Count;
        if (LaneParser.Parse(rule.Lane, maxLength, out var lane) != LaneParseStatus.Valid || rule.Lane!.Contains(',', StringComparison.Ordinal))
        {
            failures.Add($"{at}:Lane must be one lane of {LaneParser.Rule(maxLength)}.");
        }

        var sources = 0;
        var source = ColouringRule.ValueSource.None;
        string? name = null;
        if (!string.IsNullOrWhiteSpace(rule.Header))
        {
            sources++;
            (source, name) = (ColouringRule.ValueSource.Header, rule.Header.Trim());
        }

        if (!string.IsNullOrWhiteSpace(rule.Cookie))
        {
            sources++;
            (source, name) = (ColouringRule.ValueSource.Cookie, rule.Cookie.Trim());
        }

        if (!string.IsNullOrWhiteSpace(rule.Query))
        {
            sources++;
            (source, name) = (ColouringRule.ValueSource.Query, rule.Query.Trim());
        }

        if (sources > 1)
        {
            failures.Add($"{at}: set at most one of Header, Cookie and Query (use two rules, or PathPrefix and Method alongside one).");
        }

        if (!Enum.IsDefined(rule.Match))
        {
            failures.Add($"{at}:Match must be Exact, Prefix, Regex or Present.");
        }

        Regex? regex = null;
        if (source != ColouringRule.ValueSource.None && rule.Match != LaneMatch.Present)
        {
            if (string.IsNullOrEmpty(rule.Value))
            {
                failures.Add($"{at}:Value is required with Match {rule.Match} (or use Match Present).");
            }
            else if (rule.Match == LaneMatch.Regex)
            {
                try
                {
                    // No match timeout: the non-backtracking engine runs in time linear in the input, which Kestrel
                    // bounds (header, cookie and query sizes), so a wall-clock timeout could only fire because the
                    // machine is busy, and then a request that matches would be sent to another lane (issue 42: a
                    // 30,001-character header matched yellow unloaded and went green under stress-ng).
                    regex = new Regex(
                        "^(?:" + rule.Value + ")$",
                        RegexOptions.NonBacktracking | RegexOptions.CultureInvariant,
                        Regex.InfiniteMatchTimeout);
                }
                catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
                {
                    failures.Add($"{at}:Value is not a regular expression the non-backtracking engine accepts (no backreferences or lookarounds): {ex.Message}");
                }
            }
        }
        else if (source == ColouringRule.ValueSource.None && (rule.Value is not null || rule.Match != LaneMatch.Exact))
        {
            failures.Add($"{at}: Match and Value need a Header, Cookie or Query to compare.");
        }

        string? pathPrefix = null;
        if (!string.IsNullOrWhiteSpace(rule.PathPrefix))
        {
            pathPrefix = rule.PathPrefix.Trim().TrimEnd('/');
            if (!rule.PathPrefix.Trim().StartsWith('/'))
            {
                failures.Add($"{at}:PathPrefix must start with '/'.");
            }
        }

        var method = string.IsNullOrWhiteSpace(rule.Method) ? null : rule.Method.Trim();
        int? threshold = null;
        if (rule.Percentage is { } percentage)
        {
            if (double.IsNaN(percentage) || percentage < 0 || percentage > 100)
            {
                failures.Add($"{at}:Percentage must be between 0 and 100.");
            }
            else if (percentage < 100)
            {
                threshold = (int)Math.Round(percentage * (StickyHash.Buckets / 100.0), MidpointRounding.AwayFromZero);
            }
        }

        var stickySource = ColouringRule.ValueSource.None;
        string? stickyName = null;
        if (!string.IsNullOrWhiteSpace(rule.StickyKey))
        {
            if (!TryParseStickyKey(rule.StickyKey, out stickySource, out stickyName))
            {
                failures.Add($"{at}:StickyKey must be header:NAME, cookie:NAME or query:NAME.");
            }
            else if (rule.Percentage is null)
            {
                failures.Add($"{at}:StickyKey needs a Percentage.");
            }
        }

        if (failures.Count > count)
        {
            return null;
        }

        return new ColouringRule(
            index, lane!, source, name, rule.Match, rule.Value, regex, pathPrefix?.Length == 0 ? "/" : pathPrefix, method, threshold, stickySource, stickyName, rule.Override);
    }

    private static bool TryParseStickyKey(string text, out ColouringRule.ValueSource source, out string? name)
    {
        source = ColouringRule.ValueSource.None;
        name = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        name = text[(colon + 1)..].Trim();
        source = text[..colon].Trim().ToUpperInvariant() switch
        {
            "HEADER" => ColouringRule.ValueSource.Header,
            "COOKIE" => ColouringRule.ValueSource.Cookie,
            "QUERY" => ColouringRule.ValueSource.Query,
            _ => ColouringRule.ValueSource.None,
        };
        return source != ColouringRule.ValueSource.None && name.Length > 0;
    }
}
