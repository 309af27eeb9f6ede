using System.Collections.Concurrent;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The lanes the gateway's entry has seen on requests (validated values only), with a count and when each was last
/// seen, so the admin page can set observed traffic against what clusters declare and flag a lane no cluster declares
/// (Hango's <c>dev3</c>). Bounded: after <see cref="Capacity"/> distinct lanes, new ones are only counted in
/// <see cref="Overflow"/>, so a client sending random lanes cannot grow it. A request costs one dictionary lookup.
/// </summary>
internal sealed class LaneObservedLanes(TimeProvider time)
{
    public const int Capacity = 256;

    private readonly ConcurrentDictionary<string, Seen> _lanes = new(StringComparer.Ordinal);
    private long _overflow;

    /// <summary>Requests whose lane arrived after the set was full.</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    public void Observe(string lane)
    {
        if (!_lanes.TryGetValue(lane, out var seen))
        {
            if (_lanes.Count >= Capacity)
            {
                Interlocked.Increment(ref _overflow);
                return;
            }

            seen = _lanes.GetOrAdd(lane, static _ => new Seen());
        }

        Interlocked.Increment(ref seen.Count);
        Volatile.Write(ref seen.LastTicks, time.GetUtcNow().UtcTicks);
    }

    public IEnumerable<(string Lane, long Count, DateTimeOffset LastSeen)> Snapshot()
    {
        foreach (var (lane, seen) in _lanes)
        {
            yield return (lane, Interlocked.Read(ref seen.Count), new DateTimeOffset(Volatile.Read(ref seen.LastTicks), TimeSpan.Zero));
        }
    }

    private sealed class Seen
    {
        public long Count;
        public long LastTicks;
    }
}
