using System.Net.Http.Headers;
using Lanes.Configuration;
using Lanes.Parsing;
using Lanes.W3C;

namespace Lanes.ReverseProxy.Forwarding;

/// <summary>
/// Writes the gateway's lane onto a proxied request (DESIGN 7, step 6): the canonical header set to the lane
/// (Istio <c>set</c>: any client value is replaced, aliases are removed), and with baggage on exactly one lane
/// member in <c>baggage</c>, merged with the client's other members. Without a lane, the header, the aliases and
/// any client lane member are all removed, so nothing a client sent can pick a lane downstream.
/// </summary>
internal sealed class LaneGatewayOutbound
{
    private readonly LanePropagator _propagator;
    private readonly LaneSettings _settings;

    public LaneGatewayOutbound(LanePropagator propagator)
    {
        ArgumentNullException.ThrowIfNull(propagator);
        _propagator = propagator;
        _settings = propagator.Settings;
    }

    public LaneSettings Settings => _settings;

    public void Apply(HttpRequestMessage request, string? lane)
    {
        var settings = _settings;
        var headers = request.Headers;
        headers.Remove(settings.Header);
        foreach (var alias in settings.Aliases)
        {
            headers.Remove(alias);
        }

        if (lane is not null && LaneParser.IsValidLane(lane, settings.MaxLength))
        {
            headers.TryAddWithoutValidation(settings.Header, lane);
        }
        else
        {
            lane = null;
        }

        ApplyBaggage(headers, lane);
    }

    /// <summary>
    /// Re-applies the lane member after YARP's propagator rewrote <c>baggage</c> from the Activity; the lane is the
    /// canonical header <see cref="Apply"/> set.
    /// </summary>
    public void ReapplyBaggage(HttpRequestMessage request)
    {
        var headers = request.Headers;
        string? lane = null;
        if (headers.NonValidated.TryGetValues(_settings.Header, out var values)
            && LaneParser.Parse(LanePropagator.ToStringValues(values), _settings.MaxLength, out var parsed) == LaneParseStatus.Valid)
        {
            lane = parsed;
        }

        ApplyBaggage(headers, lane);
    }

    /// <summary>With a lane, the propagator's merge (one lane member first); without, any client lane member is removed.</summary>
    private void ApplyBaggage(HttpRequestHeaders headers, string? lane)
    {
        var key = _settings.BaggageKey;
        if (key is null)
        {
            return;
        }

        if (lane is not null)
        {
            _propagator.MergeBaggage(headers, lane, runtime: null, OpenTelemetry.Baggage.Current);
            return;
        }

        if (!headers.NonValidated.TryGetValues(BaggageParser.HeaderName, out var current))
        {
            return;
        }

        var stripped = OutboundBaggage.Without(key, LanePropagator.ToStringValues(current));
        headers.Remove(BaggageParser.HeaderName);
        if (stripped is not null)
        {
            headers.TryAddWithoutValidation(BaggageParser.HeaderName, stripped);
        }
    }
}
