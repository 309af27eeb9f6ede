namespace Lanes;

/// <summary>
/// Failover that never crosses a lane (docs/behaviour.md, "Failover"), from <c>Lanes:Failover</c>: a request that failed
/// before any response came back goes again to another instance of the same lane subset, then where the service's policy
/// sends a lane with no instance; an instance that refused a connection, or failed
/// <see cref="ConsecutiveFailures"/> times in a row, leaves its subset for <see cref="EjectionPeriod"/>. The defaults are
/// Istio's retries (2) and the standard resilience handler's attempt timeout (10 s), with Linkerd's retry budget.
/// </summary>
/// <example><code>
/// "Lanes": { "Failover": { "Retries": 2, "AttemptTimeout": "00:00:10", "MaxBodyBytes": 65536 } }
/// </code></example>
public sealed class LaneFailoverOptions
{
    /// <summary>Whether failover is on: retries, ejection and the attempt timeout. Default <see langword="true"/>; <see langword="false"/> leaves every failure to the caller, as plain YARP does.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Retries after the first attempt, 0 to 10 (default 2, as Istio's default retry policy). 0 turns retries off and keeps ejection.</summary>
    public int Retries { get; set; } = 2;

    /// <summary>
    /// The largest request body that is buffered so it can be sent again (default 65,536 bytes). A request with a larger
    /// body, or one whose length is not known, is retried only when its connection was refused (its body was never
    /// read), and the attempt timeout does not apply to it (a large upload may take longer).
    /// </summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How long one attempt may wait for the response headers before it counts as failed and is retried (idempotent
    /// methods) on another instance of the lane (default 10 s, as the standard resilience handler's attempt timeout).
    /// <see cref="TimeSpan.Zero"/> or <see cref="Timeout.InfiniteTimeSpan"/>: no attempt timeout. A cluster or service
    /// overrides it with the metadata key <c>laneAttemptTimeout</c>.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The retry budget: retries may add at most this share of a service's requests over the last 10 seconds (default 20,
    /// Linkerd's and Envoy's budget), on top of <see cref="MinRetriesPerSecond"/>, so a dying fleet is not sent triple load.
    /// </summary>
    public double RetryBudgetPercent { get; set; } = 20;

    /// <summary>Retries always allowed per second and service, whatever the traffic (default 10, Linkerd's floor), so a quiet service still retries.</summary>
    public int MinRetriesPerSecond { get; set; } = 10;

    /// <summary>
    /// Failures in a row (a 5xx answer, an attempt timeout, a transport error) after which an instance leaves its subset
    /// (default 5, as Envoy's outlier detection). A refused connection ejects at once.
    /// </summary>
    public int ConsecutiveFailures { get; set; } = 5;

    /// <summary>How long an ejected instance stays out (default 30 s, Envoy's base ejection time), unless the cluster's <c>HealthCheck:Passive:ReactivationPeriod</c> says otherwise.</summary>
    public TimeSpan EjectionPeriod { get; set; } = TimeSpan.FromSeconds(30);
}
