using System.Diagnostics.Metrics;
using Lanes.Configuration;
using System.Diagnostics;
using Lanes.Parsing;
using Lanes.Routing;

namespace Lanes.Diagnostics;

/// <summary>The instruments of the <c>Lanes</c> Meter (docs/behaviour.md, "Metrics"). Tag values are bounded: lanes by <see cref="LaneTagValues"/>, the rest are fixed names.</summary>
internal sealed class LanesMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _inbound;
    private readonly Counter<long> _invalid;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _routed;
    private readonly Counter<long> _conflicts;
    private readonly LaneTagValues _lanes;

    public LanesMetrics(LaneSettingsHolder settings, IMeterFactory? meterFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(new MeterOptions(LanesDiagnostics.MeterName)) ?? new Meter(LanesDiagnostics.MeterName);
        _lanes = new LaneTagValues(settings, time ?? TimeProvider.System);
        _inbound = _meter.CreateCounter<long>(LanesDiagnostics.InboundInstrument, "{request}", "Inbound requests and messages by resolved lane and where it came from.");
        _invalid = _meter.CreateCounter<long>(LanesDiagnostics.InvalidInstrument, "{value}", "Invalid lane values, treated as absent or rejected.");
        _rejected = _meter.CreateCounter<long>(LanesDiagnostics.RejectedInstrument, "{request}", "Requests answered 400 by a lane policy.");
        _conflicts = _meter.CreateCounter<long>(LanesDiagnostics.CarrierConflictsInstrument, "{request}", "Inbound requests and messages where a configured carrier held another lane than the one that won.");
        _routed = _meter.CreateCounter<long>(LanesDiagnostics.RoutedInstrument, "{request}", "Routing decisions by cluster, lane, outcome and fallback reason.");
    }

    public Meter Meter => _meter;

    public LaneTagValues LaneTags => _lanes;

    public void Inbound(string? lane, LaneSource source)
    {
        if (!_inbound.Enabled)
        {
            return;
        }

        var sourceTag = new KeyValuePair<string, object?>(LanesDiagnostics.LaneSourceAttribute, LaneSourceNames.Get(source));
        if (lane is null)
        {
            _inbound.Add(1, sourceTag);
        }
        else
        {
            _inbound.Add(1, new KeyValuePair<string, object?>(LanesDiagnostics.LaneAttribute, _lanes.Get(lane)), sourceTag);
        }
    }

    public void Invalid(LaneSource source, LaneParseStatus status)
    {
        if (_invalid.Enabled)
        {
            _invalid.Add(
                1,
                new KeyValuePair<string, object?>(LanesDiagnostics.LaneSourceAttribute, LaneSourceNames.Get(source)),
                new KeyValuePair<string, object?>(LanesDiagnostics.InvalidReasonAttribute, ReasonOf(status)));
        }
    }

    public void Conflict(LaneSource winner, string carrier)
    {
        if (_conflicts.Enabled)
        {
            _conflicts.Add(
                1,
                new KeyValuePair<string, object?>(LanesDiagnostics.LaneSourceAttribute, LaneSourceNames.Get(winner)),
                new KeyValuePair<string, object?>(LanesDiagnostics.LaneCarrierAttribute, carrier));
        }
    }

    public void Rejected(LaneRejection rejection)
    {
        if (_rejected.Enabled)
        {
            _rejected.Add(1, new KeyValuePair<string, object?>(LanesDiagnostics.RejectionReasonAttribute, ReasonOf(rejection)));
        }
    }

    /// <summary>Counts a routing decision; <paramref name="laneTag"/> is already bounded (<see cref="Routing.LaneChoice{T}.LaneTag"/>).</summary>
    public void Routed(string cluster, string? laneTag, LaneRoutingOutcome outcome, LaneFallbackReason reason)
    {
        if (!_routed.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { LanesDiagnostics.RoutingServiceAttribute, cluster },
            { LanesDiagnostics.RoutingOutcomeAttribute, LaneRoutingNames.Get(outcome) },
        };
        if (laneTag is not null)
        {
            tags.Add(LanesDiagnostics.LaneAttribute, laneTag);
        }

        var reasonName = LaneRoutingNames.Get(reason);
        if (reasonName is not null)
        {
            tags.Add(LanesDiagnostics.RoutingReasonAttribute, reasonName);
        }

        _routed.Add(1, in tags);
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    internal static string ReasonOf(LaneParseStatus status) => status switch
    {
        LaneParseStatus.Empty => "empty",
        LaneParseStatus.TooLong => "too-long",
        LaneParseStatus.InvalidCharacter => "invalid-character",
        LaneParseStatus.Ambiguous => "ambiguous",
        _ => "other",
    };

    internal static string ReasonOf(LaneRejection rejection) => rejection switch
    {
        LaneRejection.InvalidValue => "invalid-value",
        LaneRejection.UnknownLane => "unknown-lane",
        LaneRejection.Missing => "missing",
        LaneRejection.Undeclared => "undeclared",
        _ => "other",
    };
}
