using System.Collections.Concurrent;

namespace Lanes.Caching;

/// <summary>
/// Immutable per-lane values (frames, log scopes, baggage members) cached so requests of lanes in use allocate
/// nothing, while a client sending endless distinct lanes cannot grow memory. Two generations of at most
/// <c>limit</c> keys each: a new key goes into the current one; when it is full it becomes the previous one and the
/// one before is dropped; a key found in the previous generation moves back into the current one. So memory stays
/// under twice the limit, and a lane that is asked for at least once in every <c>limit</c> new keys stays cached
/// however many other keys pass through (a "first N keys" cache would leave every lane after a burst of N junk
/// values uncached for the life of the process).
/// </summary>
internal sealed class BoundedCache<TKey, TValue>(int limit)
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private volatile ConcurrentDictionary<TKey, TValue> _current = new();
    private volatile ConcurrentDictionary<TKey, TValue> _previous = new();

    public int Limit { get; } = limit;

    /// <summary>The keys held, in both generations (at most twice <see cref="Limit"/>).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _current.Count + _previous.Count;
            }
        }
    }

    /// <summary>The cached value of <paramref name="key"/>, or a new one from <paramref name="create"/> (a static lambda: no closure).</summary>
    public TValue GetOrCreate(TKey key, Func<TKey, TValue> create)
    {
        if (_current.TryGetValue(key, out var value))
        {
            return value;
        }

        if (!_previous.TryGetValue(key, out value))
        {
            value = create(key);
        }

        Add(key, value);
        return value;
    }

    private void Add(TKey key, TValue value)
    {
        lock (_lock)
        {
            var current = _current;
            if (current.Count >= Limit)
            {
                _previous = current;
                _current = current = new ConcurrentDictionary<TKey, TValue>();
            }

            current.TryAdd(key, value);
        }
    }
}
