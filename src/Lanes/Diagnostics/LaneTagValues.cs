using System.Collections.Concurrent;
using System.Collections.Frozen;
using Lanes.Configuration;

namespace Lanes.Diagnostics;

/// <summary>
/// Bounds the <c>lane</c> tag values of metrics (DESIGN 5). With <see cref="LaneOptions.KnownLanes"/> set, the known
/// set is those lanes plus the default lane. Without it, the known set is the default lane plus the first
/// <see cref="DynamicLimit"/> distinct lanes this process reports. Every other lane is <c>other</c>, so a client
/// that sends 100,000 different lanes adds at most one series.
/// </summary>
internal sealed class LaneTagValues
{
    public const int DynamicLimit = 100;

    private readonly FrozenSet<string>? _known;
    private readonly string? _defaultLane;
    private readonly ConcurrentDictionary<string, string> _seen = new(StringComparer.Ordinal);
    private int _seenCount;

    public LaneTagValues(LaneSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _defaultLane = settings.DefaultLane;

        // Start-up validation keeps the default lane inside KnownLanes, so the known set is KnownLanes itself.
        _known = settings.KnownLanes;
    }

    public string Get(string lane)
    {
        if (_known is not null)
        {
            return _known.TryGetValue(lane, out var known) ? known : LanesDiagnostics.OtherLane;
        }

        if (_defaultLane is not null && string.Equals(lane, _defaultLane, StringComparison.Ordinal))
        {
            return _defaultLane;
        }

        if (_seen.TryGetValue(lane, out var seen))
        {
            return seen;
        }

        if (Volatile.Read(ref _seenCount) >= DynamicLimit || Interlocked.Increment(ref _seenCount) > DynamicLimit)
        {
            return LanesDiagnostics.OtherLane;
        }

        return _seen.GetOrAdd(lane, static l => l);
    }
}
