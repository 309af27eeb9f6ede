using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lanes.Routing;
using Microsoft.Extensions.Options;

namespace Lanes.ServiceDiscovery.Routing;

/// <summary>
/// Failover of client-side HTTP routing (docs/behaviour.md, "Failover"): <c>Lanes:Failover</c> validated (an invalid
/// start-up value stops the host; an invalid reload keeps the last good settings), a retry budget per service, and the
/// <c>lanes.retries</c> counter, as the gateway has them.
/// </summary>
internal sealed class LaneClientFailover
{
    private readonly IOptionsMonitor<LaneFailoverOptions> _options;
    private readonly LaneTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly Counter<long> _retries;
    private readonly ConcurrentDictionary<string, LaneRetryBudget> _budgets = new(StringComparer.OrdinalIgnoreCase);
    private LaneFailoverOptions? _seen;
    private LaneFailoverSettings _settings = LaneFailoverSettings.Default;

    public LaneClientFailover(IOptionsMonitor<LaneFailoverOptions> options, LaneTelemetry telemetry, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(time);
        _options = options;
        _telemetry = telemetry;
        _time = time;
        _retries = telemetry.Meter.CreateCounter<long>(LanesDiagnostics.RetriesInstrument, "{attempt}", "Failed attempts failover looked at, by service, lane, reason and what it did (retried, or why not).");
    }

    /// <summary>The settings in force: the current options when valid, else the last valid ones.</summary>
    public LaneFailoverSettings Settings
    {
        get
        {
            var current = _options.CurrentValue;
            if (!ReferenceEquals(current, Volatile.Read(ref _seen)))
            {
                if (LaneFailoverSettings.Create(current, "Lanes:Failover", []) is { } settings)
                {
                    Volatile.Write(ref _settings, settings);
                }

                Volatile.Write(ref _seen, current);
            }

            return Volatile.Read(ref _settings);
        }
    }

    public LaneRetryBudget Budget(string service)
    {
        if (!_budgets.TryGetValue(service, out var budget))
        {
            budget = _budgets.GetOrAdd(service, static (_, time) => new LaneRetryBudget(time), _time);
        }

        return budget;
    }

    public void Record(string service, string? lane, LaneAttemptFailure failure, string outcome)
    {
        if (!_retries.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { LanesDiagnostics.RoutingServiceAttribute, service },
            { LanesDiagnostics.RetryReasonAttribute, LaneFailoverNames.Get(failure) },
            { LanesDiagnostics.RetryOutcomeAttribute, outcome },
        };
        if (lane is not null)
        {
            tags.Add(LanesDiagnostics.LaneAttribute, _telemetry.MetricLane(lane));
        }

        _retries.Add(1, tags);
    }

    /// <summary>Refuses invalid <c>Lanes:Failover</c> settings at start-up with what to write.</summary>
    internal sealed class Validator : IValidateOptions<LaneFailoverOptions>
    {
        public ValidateOptionsResult Validate(string? name, LaneFailoverOptions options)
        {
            var failures = new List<string>();
            LaneFailoverSettings.Create(options, "Lanes:Failover", failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
