using System.Collections.Concurrent;
using Lanes.Configuration;

namespace Lanes.Diagnostics;

/// <summary>
/// Bounds the <c>lane</c> tag values of metrics (docs/behaviour.md, "Metrics"). With <see cref="LaneOptions.KnownLanes"/> set, the known
/// set is those lanes plus the default lane. Without it, the known set is the default lane plus the first
/// <see cref="DynamicLimit"/> distinct lanes this process reports. Every other lane is <c>other</c>, so a client
/// that sends 100,000 different lanes adds at most one series.
/// </summary>
internal sealed class LaneTagValues
{
    public const int DynamicLimit = 100;

    private readonly LaneSettingsHolder _settings;
    private readonly ConcurrentDictionary<string, string> _seen = new(StringComparer.Ordinal);
    private int _seenCount;

    public LaneTagValues(LaneSettingsHolder settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
    }

    public string Get(string lane)
    {
        // Read per call: a reload may change the known lanes and the default. Start-up validation keeps the default
        // lane inside KnownLanes, so with KnownLanes set the known set is KnownLanes itself.
        var settings = _settings.Current;
        if (settings.KnownLanes is { } known)
        {
            return known.Contains(lane) ? lane : LanesDiagnostics.OtherLane;
        }

        if (settings.DefaultLane is { } defaultLane && string.Equals(lane, defaultLane, StringComparison.Ordinal))
        {
            return defaultLane;
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
