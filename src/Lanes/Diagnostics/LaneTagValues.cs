using System.Collections.Concurrent;
using System.Collections.Frozen;
using Lanes.Configuration;

namespace Lanes.Diagnostics;

/// <summary>
/// Bounds the <c>lane</c> tag values of metrics (docs/behaviour.md, "Metrics") so that clients can neither grow the
/// number of series nor push real lanes out of them:
/// <list type="bullet">
/// <item>Lanes the configuration names always keep their own tag: <see cref="LaneOptions.KnownLanes"/>, the default lane,
/// and the lanes kept by <see cref="Reserve"/> (every lane a routed service declares or has instances of, and the
/// gateway's colouring lanes).</item>
/// <item>Any other lane shares <see cref="DynamicLimit"/> slots (none when <see cref="LaneOptions.KnownLanes"/> is set). A slot
/// whose lane has not been reported for <see cref="IdleTimeout"/> goes to the next new lane, least recently seen
/// first; while every slot is in use, new lanes are <see cref="LanesDiagnostics.OtherLane"/>.</item>
/// </list>
/// So a flood of junk lanes adds at most <see cref="DynamicLimit"/> series per <see cref="IdleTimeout"/>, never takes a
/// configured lane's tag, and leaves once it stops.
/// </summary>
internal sealed class LaneTagValues
{
    public const int DynamicLimit = 100;

    /// <summary>
    /// How long a lane outside the configuration keeps its slot after it was last reported: longer than the usual export
    /// interval (60 s) and Prometheus' staleness window (5 min), so a lane that is still used now and then keeps its series,
    /// and short enough that lanes from a burst of junk are gone within minutes.
    /// </summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(10);

    private readonly LaneSettingsHolder _settings;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _reservedByOwner = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private FrozenSet<string> _reserved = FrozenSet<string>.Empty;

    // No slot frees before this timestamp: a flood of new lanes answers "other" without scanning the slots.
    private long _noFreeSlotBefore;

    public LaneTagValues(LaneSettingsHolder settings, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        _settings = settings;
        _time = time;
    }

    /// <summary>Lanes holding a dynamic slot now (for tests and the admin page).</summary>
    public int DynamicCount => _slots.Count;

    /// <summary>Replaces the lanes <paramref name="owner"/> keeps: they report under their own tag whatever clients send.</summary>
    public void Reserve(string owner, IEnumerable<string> lanes)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(lanes);
        var array = lanes.ToArray();
        lock (_lock)
        {
            if (_reservedByOwner.TryGetValue(owner, out var previous) && previous.AsSpan().SequenceEqual(array))
            {
                return;
            }

            if (array.Length == 0)
            {
                _reservedByOwner.Remove(owner);
            }
            else
            {
                _reservedByOwner[owner] = array;
            }

            var union = new HashSet<string>(StringComparer.Ordinal);
            foreach (var owned in _reservedByOwner.Values)
            {
                union.UnionWith(owned);
            }

            Volatile.Write(ref _reserved, union.ToFrozenSet(StringComparer.Ordinal));
        }
    }

    public string Get(string lane)
    {
        // Read per call: a reload may change the known lanes and the default. Start-up validation keeps the default
        // lane inside KnownLanes.
        var settings = _settings.Current;
        if (Volatile.Read(ref _reserved).Contains(lane))
        {
            return lane;
        }

        if (settings.KnownLanes is { } known)
        {
            return known.Contains(lane) ? lane : LanesDiagnostics.OtherLane;
        }

        if (settings.DefaultLane is { } defaultLane && string.Equals(lane, defaultLane, StringComparison.Ordinal))
        {
            return defaultLane;
        }

        var now = _time.GetTimestamp();
        if (_slots.TryGetValue(lane, out var slot))
        {
            Volatile.Write(ref slot.LastSeen, now);
            return slot.Lane;
        }

        if (_slots.Count >= DynamicLimit && now < Volatile.Read(ref _noFreeSlotBefore))
        {
            return LanesDiagnostics.OtherLane;
        }

        return Claim(lane, now);
    }

    private string Claim(string lane, long now)
    {
        lock (_lock)
        {
            if (_slots.TryGetValue(lane, out var existing))
            {
                return existing.Lane;
            }

            if (_slots.Count >= DynamicLimit)
            {
                // Least recently seen first, and only once it has been idle for IdleTimeout.
                Slot? oldest = null;
                foreach (var (_, candidate) in _slots)
                {
                    if (oldest is null || Volatile.Read(ref candidate.LastSeen) < Volatile.Read(ref oldest.LastSeen))
                    {
                        oldest = candidate;
                    }
                }

                var oldestSeen = Volatile.Read(ref oldest!.LastSeen);
                if (_time.GetElapsedTime(oldestSeen, now) < IdleTimeout)
                {
                    Volatile.Write(ref _noFreeSlotBefore, oldestSeen + (long)(IdleTimeout.TotalSeconds * _time.TimestampFrequency));
                    return LanesDiagnostics.OtherLane;
                }

                _slots.TryRemove(oldest.Lane, out _);
            }

            _slots[lane] = new Slot(lane, now);
            return lane;
        }
    }

    private sealed class Slot(string lane, long lastSeen)
    {
        public readonly string Lane = lane;
        public long LastSeen = lastSeen;
    }
}
