using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Lanes.ReverseProxy.Colouring;

/// <summary>A validated, compiled <see cref="LaneColouringRule"/>. Evaluating it never throws and allocates nothing unless a regex runs.</summary>
internal sealed class ColouringRule
{
    public ColouringRule(
        int index,
        string lane,
        ValueSource source,
        string? name,
        LaneMatch match,
        string? value,
        Regex? regex,
        string? pathPrefix,
        string? method,
        int? thresholdBuckets,
        ValueSource stickySource,
        string? stickyName,
        bool @override)
    {
        Index = index;
        Lane = lane;
        Source = source;
        Name = name;
        Match = match;
        Value = value;
        Regex = regex;
        PathPrefix = pathPrefix is null ? default : new PathString(pathPrefix);
        Method = method;
        ThresholdBuckets = thresholdBuckets;
        StickySource = stickySource;
        StickyName = stickyName;
        Override = @override;
    }

    public enum ValueSource
    {
        None,
        Header,
        Cookie,
        Query,
    }

    public int Index { get; }

    public string Lane { get; }

    public ValueSource Source { get; }

    public string? Name { get; }

    public LaneMatch Match { get; }

    public string? Value { get; }

    public Regex? Regex { get; }

    public PathString PathPrefix { get; }

    public string? Method { get; }

    /// <summary>Requests whose bucket (of <see cref="StickyHash.Buckets"/>) is below this match; null for 100 %.</summary>
    public int? ThresholdBuckets { get; }

    public ValueSource StickySource { get; }

    public string? StickyName { get; }

    public bool Override { get; }

    /// <summary>The rule's conditions in words, for the admin page: <c>header x-user prefix "dev" AND path /api AND 10 %</c>.</summary>
    public string Describe()
    {
        var parts = new List<string>(4);
        if (Method is not null)
        {
            parts.Add("method " + Method);
        }

        if (PathPrefix.HasValue)
        {
            parts.Add("path " + PathPrefix.Value);
        }

        if (Source != ValueSource.None)
        {
            var what = Source.ToString().ToLowerInvariant() + " " + Name;
            parts.Add(Match switch
            {
                LaneMatch.Present => what + " present",
                LaneMatch.Prefix => $"{what} prefix \"{Value}\"",
                LaneMatch.Regex => $"{what} regex \"{Value}\"",
                _ => $"{what} = \"{Value}\"",
            });
        }

        if (ThresholdBuckets is { } threshold)
        {
            var percent = (threshold * 100.0 / StickyHash.Buckets).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
            parts.Add(StickySource == ValueSource.None ? percent + " % at random" : $"{percent} % by {StickySource.ToString().ToLowerInvariant()} {StickyName}");
        }
        else if (StickySource != ValueSource.None)
        {
            parts.Add($"{StickySource.ToString().ToLowerInvariant()} {StickyName} present");
        }

        return parts.Count == 0 ? "every request" : string.Join(" AND ", parts);
    }

    /// <summary>True when the request meets every condition.</summary>
    public bool Matches(HttpContext context)
    {
        var request = context.Request;
        if (Method is not null && !string.Equals(request.Method, Method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (PathPrefix.HasValue && !request.Path.StartsWithSegments(PathPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (Source != ValueSource.None && !MatchesValue(Read(request, Source, Name!)))
        {
            return false;
        }

        if (StickySource == ValueSource.None)
        {
            return ThresholdBuckets is not { } random || Random.Shared.Next(StickyHash.Buckets) < random;
        }

        // A sticky rule never applies to a request without its key, whatever the percentage.
        var key = Read(request, StickySource, StickyName!);
        if (StringValues.IsNullOrEmpty(key))
        {
            return false;
        }

        if (ThresholdBuckets is not { } threshold)
        {
            return true;
        }

        return StickyHash.Bucket(Lane, key[0]) < threshold;
    }

    private bool MatchesValue(StringValues values)
    {
        if (values.Count == 0)
        {
            return false;
        }

        if (Match == LaneMatch.Present)
        {
            return true;
        }

        for (var i = 0; i < values.Count; i++)
        {
            var candidate = values[i];
            if (candidate is null)
            {
                continue;
            }

            var matched = Match switch
            {
                LaneMatch.Prefix => candidate.StartsWith(Value!, StringComparison.Ordinal),
                LaneMatch.Regex => Regex!.IsMatch(candidate),
                _ => string.Equals(candidate, Value, StringComparison.Ordinal),
            };
            if (matched)
            {
                return true;
            }
        }

        return false;
    }

    private static StringValues Read(HttpRequest request, ValueSource source, string name) => source switch
    {
        ValueSource.Header => request.Headers[name],
        ValueSource.Cookie => request.Cookies.TryGetValue(name, out var cookie) ? new StringValues(cookie) : StringValues.Empty,
        ValueSource.Query => request.Query[name],
        _ => StringValues.Empty,
    };
}
