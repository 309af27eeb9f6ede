using System.Diagnostics;
using Lanes.Caching;
using Microsoft.Extensions.Primitives;
using OtelBaggage = OpenTelemetry.Baggage;

namespace Lanes.W3C;

/// <summary>
/// Builds the <c>baggage</c> header of an outgoing call (DESIGN 4): exactly one lane member, first, then every
/// member that would have been sent without Lanes, in this order of precedence (the first member with a key wins):
/// <list type="number">
/// <item>members already on the request (set by application code, by OpenTelemetry, or by the runtime);</item>
/// <item>OpenTelemetry <c>Baggage.Current</c> (or the <c>PropagationContext</c>'s baggage);</item>
/// <item>what the runtime's <see cref="DistributedContextPropagator"/> would write for the current Activity
/// (<c>Activity.Baggage</c> under the default W3C propagator; nothing under <c>NoOutput</c> or <c>Legacy</c>, which
/// writes <c>Correlation-Context</c> instead).</item>
/// </list>
/// Any other member with the lane key is dropped, so the lane member always equals the lane the canonical header
/// carries. Limits: 64 members and 8192 bytes; a member that does not fit is dropped whole, with those after it.
/// </summary>
internal static class OutboundBaggage
{
    internal const int MemberCacheLimit = 256;

    private static readonly BoundedCache<(string Key, string Lane), string> s_members = new(MemberCacheLimit);

    private static readonly DistributedContextPropagator.PropagatorSetterCallback s_probeSetter = static (carrier, key, value) =>
    {
        if (carrier is Probe probe && string.Equals(key, BaggageParser.HeaderName, StringComparison.OrdinalIgnoreCase))
        {
            probe.Value = value;
        }
    };

    public static string? Merge(string key, string lane, StringValues existing, OtelBaggage otelBaggage, Activity? activity, DistributedContextPropagator? runtime)
    {
        var probeActivity = activity is not null && runtime is not null && HasBaggage(activity);
        if (existing.Count == 0 && otelBaggage.Count == 0 && !probeActivity)
        {
            // The usual call: nothing else to merge. A lane needs no percent-encoding and the key is a validated
            // token, so the member is written as it is, and cached per lane: no allocation for known lanes.
            return Member(key, lane);
        }

        var builder = new BaggageBuilder();
        if (!builder.Add(key, lane))
        {
            return null;
        }

        AddMembers(builder, existing);
        foreach (var item in otelBaggage)
        {
            builder.Add(item.Key, item.Value);
        }

        if (probeActivity)
        {
            AddMembers(builder, RuntimeOutput(activity!, runtime!));
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
            if (!members.Current.Key.SequenceEqual(key))
            {
                builder.Add(members.Current);
            }
        }

        return builder.Count == 0 ? null : builder.Build();
    }

    /// <summary><c>key=lane</c>, cached for the first <see cref="MemberCacheLimit"/> combinations.</summary>
    internal static string Member(string key, string lane)
        => s_members.GetOrCreate((key, lane), static k => string.Concat(k.Key, "=", k.Lane));

    /// <summary>The runtime propagator under any Lanes wrapper, to learn what it would send.</summary>
    public static DistributedContextPropagator RuntimePropagator()
    {
        var propagator = DistributedContextPropagator.Current;
        while (propagator is IWrappingPropagator wrapper)
        {
            propagator = wrapper.Inner;
        }

        return propagator;
    }

    /// <summary>
    /// The <c>baggage</c> the runtime propagator would write for <paramref name="activity"/> (null when the Activity has no
    /// baggage or the propagator writes none), learnt by injecting into a probe carrier.
    /// </summary>
    public static string? RuntimeOutput(Activity? activity, DistributedContextPropagator? runtime)
    {
        if (activity is null || runtime is null || !HasBaggage(activity))
        {
            return null;
        }

        var probe = new Probe();
        runtime.Inject(activity, probe, s_probeSetter);
        return probe.Value;
    }

    private static void AddMembers(BaggageBuilder builder, StringValues headers)
    {
        if (headers.Count == 0)
        {
            return;
        }

        var members = BaggageParser.Enumerate(headers);
        while (members.MoveNext())
        {
            builder.Add(members.Current);
        }
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
}
