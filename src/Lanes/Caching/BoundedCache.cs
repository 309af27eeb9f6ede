using System.Collections.Concurrent;

namespace Lanes.Caching;

/// <summary>
/// Immutable per-lane values (frames, log scopes, baggage members) cached for the first <c>limit</c> keys, so
/// requests of known lanes allocate nothing while a client sending endless distinct lanes cannot grow memory.
/// Beyond the limit a value is built per call and not kept.
/// </summary>
internal sealed class BoundedCache<TKey, TValue>(int limit)
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _items = new();

    public int Limit { get; } = limit;

    public int Count => _items.Count;

    /// <summary>The cached value of <paramref name="key"/>, or a new one from <paramref name="create"/> (a static lambda: no closure).</summary>
    public TValue GetOrCreate(TKey key, Func<TKey, TValue> create)
    {
        if (_items.TryGetValue(key, out var value))
        {
            return value;
        }

        value = create(key);
        if (_items.Count < Limit)
        {
            _items.TryAdd(key, value);
        }

        return value;
    }
}
