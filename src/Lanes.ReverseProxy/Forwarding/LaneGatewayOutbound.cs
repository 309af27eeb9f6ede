using System.Diagnostics;
using System.Net.Http.Headers;
using Lanes.Configuration;
using Lanes.Parsing;
using Lanes.W3C;
using Microsoft.Extensions.Primitives;

namespace Lanes.ReverseProxy.Forwarding;

/// <summary>
/// Writes the gateway's lane onto a proxied request (DESIGN 7, step 6): the canonical header set to the lane
/// (Istio <c>set</c>: any client value is replaced, aliases are removed), and with baggage on exactly one lane
/// member in <c>baggage</c>, merged with the client's other members. Without a lane, the header, the aliases and
/// any client lane member are all removed, so nothing a client sent can pick a lane downstream.
/// </summary>
internal sealed class LaneGatewayOutbound
{
    private readonly LaneSettings _settings;

    public LaneGatewayOutbound(LaneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
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
        if (headers.NonValidated.TryGetValues(_settings.Header, out var values) && values.Count == 1)
        {
            foreach (var value in values)
            {
                lane = LaneParser.IsValidLane(value, _settings.MaxLength) ? value : null;
            }
        }

        ApplyBaggage(headers, lane);
    }

    private void ApplyBaggage(HttpRequestHeaders headers, string? lane)
    {
        var key = _settings.BaggageKey;
        if (key is null)
        {
            return;
        }

        var existing = headers.NonValidated.TryGetValues(BaggageParser.HeaderName, out var current) ? ToStringValues(current) : default;
        string? merged;
        if (lane is not null)
        {
            merged = OutboundBaggage.Merge(key, lane, existing, OpenTelemetry.Baggage.Current, Activity.Current, runtime: null);
        }
        else if (existing.Count > 0)
        {
            merged = OutboundBaggage.Without(key, existing);
        }
        else
        {
            return;
        }

        headers.Remove(BaggageParser.HeaderName);
        if (merged is not null)
        {
            headers.TryAddWithoutValidation(BaggageParser.HeaderName, merged);
        }
    }

    private static StringValues ToStringValues(HeaderStringValues values)
    {
        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }
}
