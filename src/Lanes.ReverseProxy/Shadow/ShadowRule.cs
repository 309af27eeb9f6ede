using System.Collections.Frozen;
using System.Globalization;
using Lanes.Parsing;

namespace Lanes.ReverseProxy.Shadow;

/// <summary>A validated <see cref="LaneShadowRule"/>: what a request reads, part of the gateway's configuration snapshot.</summary>
internal sealed class ShadowRule
{
    private static readonly FrozenSet<string> SafeMethods = FrozenSet.ToFrozenSet(["GET", "HEAD"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Headers whose values never leave the gateway in a report, compared or not.</summary>
    internal static readonly FrozenSet<string> SecretHeaders = FrozenSet.ToFrozenSet(
        ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"], StringComparer.OrdinalIgnoreCase);

    private ShadowRule(string name, string cluster, string lane, string? fromLane, double percent, FrozenSet<string> methods, int maxBodyBytes, int maxConcurrent, bool secondary, string[] headers, TimeSpan timeout)
    {
        Name = name;
        Cluster = cluster;
        Lane = lane;
        FromLane = fromLane;
        Percent = percent;
        Methods = methods;
        MaxBodyBytes = maxBodyBytes;
        MaxConcurrent = maxConcurrent;
        Secondary = secondary;
        Headers = headers;
        Timeout = timeout;
    }

    public string Name { get; }

    public string Cluster { get; }

    public string Lane { get; }

    public string? FromLane { get; }

    public double Percent { get; }

    public FrozenSet<string> Methods { get; }

    public int MaxBodyBytes { get; }

    public int MaxConcurrent { get; }

    public bool Secondary { get; }

    public string[] Headers { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Validates <paramref name="rule"/>; adds a failure naming the key for each problem and returns null then.</summary>
    public static ShadowRule? Compile(string name, LaneShadowRule? rule, int maxLength, List<string> failures)
    {
        var at = "Lanes:Shadow:" + name;
        if (rule is null)
        {
            failures.Add($"{at} is empty.");
            return null;
        }

        var count = failures.Count;
        if (string.IsNullOrWhiteSpace(rule.Cluster))
        {
            failures.Add($"{at}:Cluster is required: the YARP cluster whose requests are mirrored.");
        }

        if (LaneParser.Parse(rule.Lane, maxLength, out var lane) != LaneParseStatus.Valid || rule.Lane!.Contains(',', StringComparison.Ordinal))
        {
            failures.Add($"{at}:Lane must be one lane of {LaneParser.Rule(maxLength)}: the lane the copies go to.");
        }

        string? fromLane = null;
        if (rule.FromLane is not null && (LaneParser.Parse(rule.FromLane, maxLength, out fromLane) != LaneParseStatus.Valid || rule.FromLane.Contains(',', StringComparison.Ordinal)))
        {
            failures.Add($"{at}:FromLane must be one lane of {LaneParser.Rule(maxLength)}, or left out for the baseline.");
        }

        if (lane is not null && fromLane is not null && string.Equals(lane, fromLane, StringComparison.Ordinal))
        {
            failures.Add($"{at}:FromLane is the shadow lane itself: a lane cannot shadow its own traffic.");
        }

        if (rule.Percent is not { } percent || double.IsNaN(percent) || percent < 0 || percent > 100)
        {
            failures.Add($"{at}:Percent is required, between 0 and 100: the share of the cluster's requests to mirror.");
            percent = 0;
        }

        var methods = SafeMethods;
        if (rule.Methods.Count > 0)
        {
            foreach (var method in rule.Methods)
            {
                if (string.IsNullOrWhiteSpace(method) || !method.Trim().All(static c => char.IsAsciiLetter(c) || c == '-'))
                {
                    failures.Add($"{at}:Methods holds '{LaneParser.Escape(method ?? string.Empty)}', which is not an HTTP method.");
                }
            }

            methods = rule.Methods.Where(static m => !string.IsNullOrWhiteSpace(m)).Select(static m => m.Trim()).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        }

        if (rule.MaxBodyBytes < 0)
        {
            failures.Add($"{at}:MaxBodyBytes must be 0 or more (default 65536).");
        }

        if (rule.MaxConcurrent < 1)
        {
            failures.Add($"{at}:MaxConcurrent must be 1 or more (default 32).");
        }

        if (rule.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"{at}:Timeout must be positive (default 00:00:10), got {rule.Timeout.ToString("c", CultureInfo.InvariantCulture)}.");
        }

        var headers = rule.Headers.Count == 0 ? ["content-type"] : rule.Headers.Where(static h => !string.IsNullOrWhiteSpace(h)).Select(static h => h.Trim().ToLowerInvariant()).Distinct().ToArray();
        if (failures.Count > count)
        {
            return null;
        }

        return new ShadowRule(name, rule.Cluster!.Trim(), lane!, fromLane, percent, methods, rule.MaxBodyBytes, rule.MaxConcurrent, rule.Secondary, headers, rule.Timeout);
    }
}
