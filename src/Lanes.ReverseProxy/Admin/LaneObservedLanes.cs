using System.Collections.Concurrent;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The lanes the gateway's entry has seen on requests (validated values only), with a count and when each was last
/// seen, so the admin page can set observed traffic against what clusters declare and flag a lane no cluster declares
/// (Hango's <c>dev3</c>). Clients cannot fill it: a lane some cluster declares (or labels a destination with) always
/// has its place; other lanes share <see cref="Capacity"/> places, and a place whose lane has not been seen for
/// <see cref="IdleTimeout"/> goes to the next new lane, least recently seen first. While every place is in use, new lanes
/// are only counted in <see cref="Overflow"/>. A request costs one dictionary lookup.
/// </summary>
internal sealed class LaneObservedLanes(TimeProvider time)
{
    /// <summary>Places for lanes no cluster declares.</summary>
    public const int Capacity = 256;

    /// <summary>How long an undeclared lane keeps its place after it was last seen: as long as the metric tag of such a lane (10 minutes).</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The name in <c>from</c> of requests whose lane trust AcceptDeclared dropped.</summary>
    public const string DroppedFrom = "dropped";

    // One counter per LaneSource value, then one for dropped lanes.
    private static readonly int SourceCount = Enum.GetValues<LaneSource>().Length;

    private readonly ConcurrentDictionary<string, Seen> _lanes = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _undeclared;
    private long _overflow;

    // No place frees before this time (UTC ticks): a flood of new lanes is counted without scanning.
    private long _noFreePlaceBefore;

    /// <summary>Requests whose lane found no place.</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    /// <summary>
    /// Counts a request of <paramref name="lane"/>, and where it came from (<paramref name="source"/>: a carrier, a colouring
    /// rule, the default); <paramref name="declared"/>: some cluster declares it or labels a destination with it.
    /// </summary>
    public void Observe(string lane, bool declared, LaneSource source = LaneSource.None)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (!_lanes.TryGetValue(lane, out var seen) && (seen = Place(lane, declared, now)) is null)
        {
            Interlocked.Increment(ref _overflow);
            return;
        }

        Interlocked.Increment(ref seen.Count);
        if ((uint)source < (uint)SourceCount)
        {
            Interlocked.Increment(ref seen.BySource[(int)source]);
        }

        Volatile.Write(ref seen.LastTicks, now);
    }

    /// <summary>Counts a request whose client lane <paramref name="lane"/> the gateway dropped (trust AcceptDeclared: declared nowhere).</summary>
    public void ObserveDropped(string lane)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (!_lanes.TryGetValue(lane, out var seen) && (seen = Place(lane, declared: false, now)) is null)
        {
            Interlocked.Increment(ref _overflow);
            return;
        }

        Interlocked.Increment(ref seen.Count);
        Interlocked.Increment(ref seen.BySource[SourceCount]);
        Volatile.Write(ref seen.LastTicks, now);
    }

    public IEnumerable<(string Lane, long Count, DateTimeOffset LastSeen, IReadOnlyDictionary<string, long> From)> Snapshot()
    {
        foreach (var (lane, seen) in _lanes)
        {
            var from = new SortedDictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < SourceCount; i++)
            {
                var count = Interlocked.Read(ref seen.BySource[i]);
                if (count > 0 && (LaneSource)i != LaneSource.None)
                {
                    from[LanesDiagnostics.GetSourceName((LaneSource)i)] = count;
                }
            }

            if (Interlocked.Read(ref seen.BySource[SourceCount]) is > 0 and var dropped)
            {
                from[DroppedFrom] = dropped;
            }

            yield return (lane, Interlocked.Read(ref seen.Count), new DateTimeOffset(Volatile.Read(ref seen.LastTicks), TimeSpan.Zero), from);
        }
    }

    private Seen? Place(string lane, bool declared, long now)
    {
        if (!declared && Volatile.Read(ref _undeclared) >= Capacity && now < Volatile.Read(ref _noFreePlaceBefore))
        {
            return null;
        }

        lock (_lock)
        {
            if (_lanes.TryGetValue(lane, out var existing))
            {
                return existing;
            }

            if (!declared)
            {
                if (_undeclared >= Capacity && !FreeOldest(now))
                {
                    return null;
                }

                _undeclared++;
            }

            var seen = new Seen(declared, now);
            _lanes[lane] = seen;
            return seen;
        }
    }

    /// <summary>Frees the least recently seen undeclared lane's place when it has been idle for <see cref="IdleTimeout"/>.</summary>
    private bool FreeOldest(long now)
    {
        string? oldest = null;
        var oldestTicks = long.MaxValue;
        foreach (var (lane, seen) in _lanes)
        {
            var ticks = Volatile.Read(ref seen.LastTicks);
            if (!seen.Declared && ticks < oldestTicks)
            {
                oldest = lane;
                oldestTicks = ticks;
            }
        }

        if (oldest is null || now - oldestTicks < IdleTimeout.Ticks)
        {
            Volatile.Write(ref _noFreePlaceBefore, oldestTicks + IdleTimeout.Ticks);
            return false;
        }

        _lanes.TryRemove(oldest, out _);
        _undeclared--;
        return true;
    }

    private sealed class Seen(bool declared, long lastTicks)
    {
        public readonly bool Declared = declared;
        public readonly long[] BySource = new long[SourceCount + 1];
        public long Count;
        public long LastTicks = lastTicks;
    }
}
