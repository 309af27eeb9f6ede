namespace Lanes.ServiceDiscovery;

/// <summary>
/// How one service stands in <see cref="LaneServiceEndpoints"/>: whether a provider knows it, how many instances its
/// current snapshot has and when it was built, and, while refreshes fail or hang, since when and why; the last good
/// snapshot keeps serving meanwhile (docs/behaviour.md, "Service discovery and resilience"). The admin page lists
/// these, so "serving from a stale picture" is visible, not only logged.
/// </summary>
public sealed class LaneServiceStatus
{
    internal LaneServiceStatus(string scheme, string service, bool known, int instances, DateTimeOffset? refreshed, DateTimeOffset? failingSince, string? failure)
    {
        Scheme = scheme;
        Service = service;
        IsKnown = known;
        Instances = instances;
        Refreshed = refreshed;
        FailingSince = failingSince;
        Failure = failure;
    }

    /// <summary>The scheme it was asked for with (<c>http</c>, <c>https</c>, <c>https+http</c>).</summary>
    public string Scheme { get; }

    /// <summary>The service name.</summary>
    public string Service { get; }

    /// <summary>Whether a discovery provider knows the name; an unknown name is asked about again once per refresh period.</summary>
    public bool IsKnown { get; }

    /// <summary>The instances of the current snapshot (0 while unknown or not resolved yet).</summary>
    public int Instances { get; }

    /// <summary>When the current snapshot was built (on the injected clock); <see langword="null"/> before the first.</summary>
    public DateTimeOffset? Refreshed { get; }

    /// <summary>
    /// When refreshing started to fail or hang, with no good refresh since; <see langword="null"/> while refreshes
    /// succeed. While set, the snapshot built at <see cref="Refreshed"/> keeps serving.
    /// </summary>
    public DateTimeOffset? FailingSince { get; }

    /// <summary>Why the last refresh failed (the exception's type and message, or the timeout), at most 200 characters.</summary>
    public string? Failure { get; }
}
