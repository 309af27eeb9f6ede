using System.Globalization;

namespace Lanes.Routing;

/// <summary>
/// A validated, immutable copy of <see cref="LaneFailoverOptions"/> (docs/behaviour.md, "Failover"), with the rules that
/// say which failed attempt may be tried again: the one definition the gateway and client-side routing share.
/// </summary>
internal sealed class LaneFailoverSettings
{
    /// <summary>The most retries a setting may ask for: more only multiplies load on a failing fleet.</summary>
    public const int MaxRetries = 10;

    /// <summary>Cluster or service metadata key: retries for that cluster (0 to 10).</summary>
    public const string RetriesKey = "laneRetries";

    /// <summary>Cluster or service metadata key: the attempt timeout for that cluster (a TimeSpan, <c>00:00:30</c>; 0 for none).</summary>
    public const string AttemptTimeoutKey = "laneAttemptTimeout";

    private LaneFailoverSettings(LaneFailoverOptions options)
    {
        Enabled = options.Enabled;
        Retries = options.Retries;
        MaxBodyBytes = options.MaxBodyBytes;
        AttemptTimeout = options.AttemptTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : options.AttemptTimeout;
        RetryRatio = options.RetryBudgetPercent / 100.0;
        MinRetriesPerSecond = options.MinRetriesPerSecond;
        ConsecutiveFailures = options.ConsecutiveFailures;
        EjectionPeriod = options.EjectionPeriod;
    }

    public static LaneFailoverSettings Default { get; } = new(new LaneFailoverOptions());

    public bool Enabled { get; }

    public int Retries { get; }

    public int MaxBodyBytes { get; }

    /// <summary>Zero: none.</summary>
    public TimeSpan AttemptTimeout { get; }

    public double RetryRatio { get; }

    public int MinRetriesPerSecond { get; }

    public int ConsecutiveFailures { get; }

    public TimeSpan EjectionPeriod { get; }

    /// <summary>Validates <paramref name="options"/> (section <paramref name="at"/>), adding one message per problem to <paramref name="failures"/>; null when any.</summary>
    public static LaneFailoverSettings? Create(LaneFailoverOptions options, string at, List<string> failures)
    {
        ArgumentNullException.ThrowIfNull(options);
        var count = failures.Count;
        if (options.Retries is < 0 or > MaxRetries)
        {
            failures.Add($"{at}:Retries must be between 0 and {MaxRetries} (0 turns retries off).");
        }

        if (options.MaxBodyBytes < 0)
        {
            failures.Add($"{at}:MaxBodyBytes must be 0 or more (0: no request body is buffered for a retry).");
        }

        if (options.AttemptTimeout < TimeSpan.Zero && options.AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{at}:AttemptTimeout must be a positive time span such as 00:00:10, or 0 for none.");
        }

        if (double.IsNaN(options.RetryBudgetPercent) || options.RetryBudgetPercent is < 0 or > 100)
        {
            failures.Add($"{at}:RetryBudgetPercent must be between 0 and 100.");
        }

        if (options.MinRetriesPerSecond < 0)
        {
            failures.Add($"{at}:MinRetriesPerSecond must be 0 or more.");
        }

        if (options.ConsecutiveFailures < 1)
        {
            failures.Add($"{at}:ConsecutiveFailures must be 1 or more.");
        }

        if (options.EjectionPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{at}:EjectionPeriod must be a positive time span such as 00:00:30.");
        }

        return failures.Count > count ? null : new LaneFailoverSettings(options);
    }

    /// <summary>Reads <see cref="RetriesKey"/> and <see cref="AttemptTimeoutKey"/>; false with an error naming the key when a value is invalid.</summary>
    public static bool TryReadMetadata(IReadOnlyDictionary<string, string>? metadata, out int? retries, out TimeSpan? attemptTimeout, out string? error)
    {
        retries = null;
        attemptTimeout = null;
        error = null;
        if (metadata is null)
        {
            return true;
        }

        if (metadata.TryGetValue(RetriesKey, out var text))
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > MaxRetries)
            {
                error = $"'{RetriesKey}' must be a whole number from 0 to {MaxRetries} (got '{Lanes.Parsing.LaneParser.Escape(text)}').";
                return false;
            }

            retries = value;
        }

        if (metadata.TryGetValue(AttemptTimeoutKey, out text))
        {
            if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) || value < TimeSpan.Zero)
            {
                error = $"'{AttemptTimeoutKey}' must be a time span such as 00:00:30, or 0 for none (got '{Lanes.Parsing.LaneParser.Escape(text)}').";
                return false;
            }

            attemptTimeout = value;
        }

        return true;
    }

    /// <summary>GET, HEAD, OPTIONS, PUT, DELETE and TRACE (RFC 9110, 9.2.2): safe to send again after it may have reached the instance.</summary>
    public static bool IsIdempotent(string method)
        => Is(method, "GET") || Is(method, "HEAD") || Is(method, "OPTIONS") || Is(method, "PUT") || Is(method, "DELETE") || Is(method, "TRACE");

    private static bool Is(string method, string name) => string.Equals(method, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// What a failed attempt's exception says: <see cref="LaneAttemptFailure.ConnectFailure"/> (the connection was
    /// refused or could not be made: nothing reached the instance), <see cref="LaneAttemptFailure.RefusedStream"/> (HTTP/2
    /// REFUSED_STREAM: the instance did not process it), else <see cref="LaneAttemptFailure.Reset"/> (it may have).
    /// </summary>
    public static LaneAttemptFailure Classify(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }:
                    return LaneAttemptFailure.ConnectFailure;
                case HttpProtocolException { ErrorCode: RefusedStreamCode }:
                    return LaneAttemptFailure.RefusedStream;
                case AggregateException { InnerExceptions.Count: > 1 } aggregate:
                    foreach (var inner in aggregate.InnerExceptions)
                    {
                        if (Classify(inner) is not LaneAttemptFailure.Reset and var found)
                        {
                            return found;
                        }
                    }

                    break;
            }
        }

        return LaneAttemptFailure.Reset;
    }

    /// <summary>HTTP/2 REFUSED_STREAM (RFC 9113, 7).</summary>
    private const long RefusedStreamCode = 0x7;
}

/// <summary>Why an attempt failed, as the <c>reason</c> of <c>lanes.retries</c> (kebab-case, docs/behaviour.md, "Failover").</summary>
internal enum LaneAttemptFailure
{
    /// <summary>Not a failure a retry can help (the client went away, the response had started).</summary>
    None,

    /// <summary>connect-failure: nothing reached the instance.</summary>
    ConnectFailure,

    /// <summary>refused-stream: HTTP/2 REFUSED_STREAM, not processed.</summary>
    RefusedStream,

    /// <summary>reset: the connection failed after the request may have reached the instance, before any response.</summary>
    Reset,

    /// <summary>timeout: no response headers within the attempt timeout.</summary>
    Timeout,
}

/// <summary>The names of <see cref="LaneAttemptFailure"/> and of retry outcomes, kebab-case as every other Lanes reason.</summary>
internal static class LaneFailoverNames
{
    public const string Retried = "retried";
    public const string NotIdempotent = "not-idempotent";
    public const string BodyNotBuffered = "body-not-buffered";
    public const string RetriesExhausted = "retries-exhausted";
    public const string LaneExhausted = "lane-exhausted";
    public const string BudgetExhausted = "budget-exhausted";

    public static string Get(LaneAttemptFailure failure) => failure switch
    {
        LaneAttemptFailure.ConnectFailure => "connect-failure",
        LaneAttemptFailure.RefusedStream => "refused-stream",
        LaneAttemptFailure.Reset => "reset",
        LaneAttemptFailure.Timeout => "timeout",
        _ => "none",
    };
}
