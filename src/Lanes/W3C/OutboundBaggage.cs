using System.Diagnostics;
using Lanes.Caching;
using Lanes.Parsing;
using Microsoft.Extensions.Primitives;
using OtelBaggage = OpenTelemetry.Baggage;

namespace Lanes.W3C;

/// <summary>
/// Builds the one <c>baggage</c> value of an outgoing call (docs/behaviour.md, "W3C baggage"). With a lane: exactly one lane member, first.
/// Then every member that would have been sent without Lanes, the first member with a key winning:
/// <list type="number">
/// <item>members already on the call (set by application code);</item>
/// <item>the members of the inbound request the call is made for, exactly as they arrived (key, encoded value and
/// properties as the W3C grammar reads them), unless application code changed that key in OpenTelemetry
/// <c>Baggage.Current</c> since the request arrived;</item>
/// <item>OpenTelemetry <c>Baggage.Current</c>, values percent-encoded;</item>
/// <item>what the runtime's <see cref="DistributedContextPropagator"/> writes for the current Activity, except keys that
/// appear in the inbound header: those are the runtime's own (lossy) reading of members already forwarded in 2.</item>
/// </list>
/// Any other member with the lane key is dropped, so the lane member always equals the lane the canonical header
/// carries. A call without a lane carries no lane member, except one application code set on the call that is one
/// valid lane. Limits: <see cref="BaggageParser.MaxMembers"/> members and <see cref="BaggageParser.MaxBytes"/> bytes;
/// a member that does not fit is dropped whole, with those after it.
/// </summary>
internal static class OutboundBaggage
{
    internal const int MemberCacheLimit = 256;

    private static readonly BoundedCache<(string Key, string Lane), string> s_members = new(MemberCacheLimit);

    private static PropagatorProbe? s_writesBaggage;

    private static readonly DistributedContextPropagator.PropagatorSetterCallback s_probeSetter = static (carrier, key, value) =>
    {
        if (carrier is Probe probe && string.Equals(key, BaggageParser.HeaderName, StringComparison.OrdinalIgnoreCase))
        {
            probe.Value = value;
        }
    };

    /// <summary>
    /// The <c>baggage</c> of a call; <see langword="null"/> when nothing is to be sent. <paramref name="lane"/> is the
    /// call's lane (null: none), <paramref name="existing"/> the call's own <c>baggage</c>, <paramref name="frame"/> the
    /// request or scope the call is made in, <paramref name="runtimeOutput"/> what the runtime writes for the Activity.
    /// </summary>
    public static string? Build(string key, string? lane, StringValues existing, LaneContext.Frame? frame, OtelBaggage otel, string? runtimeOutput, int maxLength, bool untrustedExisting = false)
    {
        var inbound = frame is null ? default : frame.InboundBaggage;
        if (lane is not null && existing.Count == 0 && inbound.Count == 0 && otel.Count == 0 && runtimeOutput is null)
        {
            // The usual call: nothing else to merge. A lane needs no percent-encoding and the key is a validated
            // token, so the member is written as it is, and cached per lane: no allocation for known lanes.
            return frame is not null && ReferenceEquals(frame.Lane, lane) ? frame.LaneMember(key) : Member(key, lane);
        }

        var builder = new BaggageBuilder();
        var keepCallerLaneMember = false;
        if (lane is not null)
        {
            if (!builder.Add(key, lane))
            {
                return null;
            }
        }
        else if (existing.Count > 0 && !untrustedExisting)
        {
            // No lane: a lane member application code put on the call stays only when it is one valid lane.
            keepCallerLaneMember = BaggageParser.Find(existing, key, out var value) == BaggageLookup.Found && LaneParser.IsValidLane(value, maxLength);
        }

        var members = BaggageParser.Enumerate(existing);
        while (members.MoveNext())
        {
            if (keepCallerLaneMember || !members.Current.HasKey(key))
            {
                builder.Add(members.Current);
            }
        }

        if (inbound.Count > 0 && RuntimeWritesBaggage())
        {
            var entry = frame!.EntryBaggage;
            members = BaggageParser.Enumerate(inbound);
            while (members.MoveNext())
            {
                var member = members.Current;
                if (!member.HasKey(key) && !ChangedSinceEntry(member, otel, entry))
                {
                    builder.Add(member);
                }
            }
        }

        foreach (var item in otel)
        {
            if (!string.Equals(item.Key, key, StringComparison.Ordinal))
            {
                builder.Add(item.Key, item.Value);
            }
        }

        if (runtimeOutput is not null)
        {
            // The runtime read its Activity baggage from the same inbound header (a client's, at a proxy): its reading
            // of a key that header mentions is not sent, valid or not.
            var source = untrustedExisting ? StringValues.Concat(inbound, existing) : inbound;
            members = BaggageParser.Enumerate(runtimeOutput);
            while (members.MoveNext())
            {
                var member = members.Current;
                if (!member.HasKey(key) && (source.Count == 0 || !BaggageParser.MentionsKey(source, member.Key)))
                {
                    builder.Add(member);
                }
            }
        }

        return builder.Build();
    }

    /// <summary>
    /// The header without any member keyed <paramref name="key"/> (a request that leaves with no lane must not carry a
    /// client's lane member); <see langword="null"/> when no member is left. Other members are kept as they were.
    /// </summary>
    public static string? Without(string key, StringValues existing)
    {
        var builder = new BaggageBuilder();
        var members = BaggageParser.Enumerate(existing);
        while (members.MoveNext())
        {
            if (!members.Current.HasKey(key))
            {
                builder.Add(members.Current);
            }
        }

        return builder.Build();
    }

    /// <summary>True when <paramref name="value"/> (one <c>baggage</c> value) starts with the member <paramref name="key"/>=<paramref name="lane"/>: a call Lanes already wrote.</summary>
    public static bool StartsWithLaneMember(string value, string key, string lane)
    {
        var span = value.AsSpan();
        return span.Length >= key.Length + 1 + lane.Length
            && span.StartsWith(key, StringComparison.Ordinal)
            && span[key.Length] == '='
            && span[(key.Length + 1)..].StartsWith(lane, StringComparison.Ordinal)
            && (span.Length == key.Length + 1 + lane.Length || span[key.Length + 1 + lane.Length] == ',');
    }

    /// <summary><c>key=lane</c>, cached for the combinations in use (two generations of <see cref="MemberCacheLimit"/>).</summary>
    internal static string Member(string key, string lane)
        => s_members.GetOrCreate((key, lane), static k => string.Concat(k.Key, "=", k.Lane));

    /// <summary>
    /// The <c>baggage</c> the runtime propagator would write for <paramref name="activity"/> (null when the Activity has no
    /// baggage or the propagator writes none), learnt by injecting into a probe carrier.
    /// </summary>
    public static string? RuntimeOutput(Activity? activity)
    {
        if (activity is null || !HasBaggage(activity))
        {
            return null;
        }

        var probe = new Probe();
        DistributedContextPropagator.Current.Inject(activity, probe, s_probeSetter);
        return probe.Value;
    }

    /// <summary>
    /// True when the runtime's <see cref="DistributedContextPropagator"/> sends Activity baggage as W3C <c>baggage</c> (the
    /// default; not <c>NoOutput</c>, nor the pre-W3C and pass-through ones, which send <c>Correlation-Context</c>): only then
    /// would the inbound members have been forwarded without Lanes, so only then does Lanes forward them (as they came).
    /// Learnt once per propagator instance by injecting a probe Activity.
    /// </summary>
    public static bool RuntimeWritesBaggage()
    {
        var current = DistributedContextPropagator.Current;
        var known = s_writesBaggage;
        if (known is not null && ReferenceEquals(known.Propagator, current))
        {
            return known.Writes;
        }

        using var activity = new Activity("Lanes.BaggageProbe")
            .SetIdFormat(ActivityIdFormat.W3C)
            .SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom())
            .AddBaggage("lanes-probe", "1");
        var previous = Activity.Current;
        activity.Start();
        var probe = new Probe();
        current.Inject(activity, probe, s_probeSetter);
        activity.Stop();
        Activity.Current = previous;
        var writes = probe.Value is not null;
        s_writesBaggage = new PropagatorProbe(current, writes);
        return writes;
    }

    /// <summary>True when the Activity (or a parent) carries an item keyed <paramref name="key"/>.</summary>
    public static bool ActivityHas(Activity? activity, string key) => activity?.GetBaggageItem(key) is not null;

    /// <summary>
    /// True when application code changed the member's key in <c>Baggage.Current</c> since the request arrived: then
    /// that value, not the inbound one, is sent.
    /// </summary>
    private static bool ChangedSinceEntry(in BaggageMember member, OtelBaggage current, OtelBaggage entry)
    {
        if (current.Count == 0 && entry.Count == 0)
        {
            return false;
        }

        var key = member.Key.ToString();
        var now = current.GetBaggage(key);
        return now is not null && !string.Equals(now, entry.GetBaggage(key), StringComparison.Ordinal);
    }

    private static bool HasBaggage(Activity activity)
    {
        foreach (var _ in activity.Baggage)
        {
            return true;
        }

        return false;
    }

    private sealed class Probe
    {
        public string? Value { get; set; }
    }

    private sealed record PropagatorProbe(DistributedContextPropagator Propagator, bool Writes);
}
