using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Lanes.Tracing;

namespace Lanes.Benchmarks;

/// <summary>The trace cache at its default capacity (1024, mspider's <c>cache_size</c>): hit, miss, insert when full.</summary>
[MemoryDiagnoser]
public class TraceCacheBenchmarks
{
    private const int Capacity = 1024;
    private LaneTraceCache _cache = null!;
    private ActivityTraceId[] _present = null!;
    private ActivityTraceId[] _fresh = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _cache = new LaneTraceCache(Capacity);
        _present = new ActivityTraceId[Capacity];
        for (var i = 0; i < Capacity; i++)
        {
            _present[i] = ActivityTraceId.CreateRandom();
            _cache.Set(_present[i], "yellow");
        }

        _fresh = new ActivityTraceId[Capacity * 16];
        for (var i = 0; i < _fresh.Length; i++)
        {
            _fresh[i] = ActivityTraceId.CreateRandom();
        }
    }

    [Benchmark(Description = "lookup hit")]
    public string? Hit()
    {
        _cache.TryGet(_present[_next++ & (Capacity - 1)], out var lane);
        return lane;
    }

    [Benchmark(Description = "lookup miss")]
    public string? Miss()
    {
        _cache.TryGet(_fresh[_next++ & (Capacity - 1)], out var lane);
        return lane;
    }

    [Benchmark(Description = "insert at capacity (evicts the oldest)")]
    public int InsertAtCapacity()
    {
        _cache.Set(_fresh[_next++ % _fresh.Length], "yellow");
        return _cache.Count;
    }
}
