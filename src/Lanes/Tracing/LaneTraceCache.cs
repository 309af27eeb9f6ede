using System.Collections.Concurrent;
using System.Diagnostics;

namespace Lanes.Tracing;

/// <summary>
/// The lane last seen in this process for a W3C trace id (mspider's <c>cache_size</c>): restores the lane of a
/// request, or of an outgoing call, that lost the lane header but kept <c>traceparent</c> (a hop through a service
/// that forwards only trace context).
/// </summary>
/// <remarks>
/// Bounded at <see cref="Capacity"/> entries; when full, the oldest inserted trace id is evicted first (a ring of
/// insertion order; updating a trace id's lane does not move it). Lookups take no lock; inserts take one short
/// lock. Capacity 0 disables the cache: nothing is stored and every lookup misses.
/// </remarks>
internal sealed class LaneTraceCache
{
    private readonly ConcurrentDictionary<ActivityTraceId, string> _lanes;
    private readonly ActivityTraceId[] _order;
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    public LaneTraceCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        _order = new ActivityTraceId[capacity];
        _lanes = new ConcurrentDictionary<ActivityTraceId, string>(concurrencyLevel: Environment.ProcessorCount, capacity: Math.Min(capacity, 4096));
    }

    public int Capacity { get; }

    public bool Enabled => Capacity > 0;

    public int Count => _lanes.Count;

    public bool TryGet(ActivityTraceId traceId, out string? lane)
    {
        if (Capacity == 0 || traceId == default)
        {
            lane = null;
            return false;
        }

        return _lanes.TryGetValue(traceId, out lane);
    }

    public void Set(ActivityTraceId traceId, string lane)
    {
        ArgumentNullException.ThrowIfNull(lane);
        if (Capacity == 0 || traceId == default)
        {
            return;
        }

        if (_lanes.TryGetValue(traceId, out var existing) && string.Equals(existing, lane, StringComparison.Ordinal))
        {
            return;
        }

        lock (_lock)
        {
            if (_lanes.ContainsKey(traceId))
            {
                _lanes[traceId] = lane;
                return;
            }

            if (_count == Capacity)
            {
                _lanes.TryRemove(_order[_next], out _);
            }
            else
            {
                _count++;
            }

            _order[_next] = traceId;
            _next = _next + 1 == Capacity ? 0 : _next + 1;
            _lanes[traceId] = lane;
        }
    }
}
