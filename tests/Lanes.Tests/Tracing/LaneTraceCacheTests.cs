using System.Diagnostics;
using Lanes.Tracing;

namespace Lanes.Tests.Tracing;

public class LaneTraceCacheTests
{
    [Fact]
    public void Set_AtCapacity_EvictsTheOldestInsertedFirst()
    {
        var cache = new LaneTraceCache(3);
        var ids = Enumerable.Range(0, 5).Select(static _ => ActivityTraceId.CreateRandom()).ToArray();

        cache.Set(ids[0], "a");
        cache.Set(ids[1], "b");
        cache.Set(ids[2], "c");
        cache.Set(ids[0], "a2"); // an update does not move it
        cache.Set(ids[3], "d");

        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet(ids[0], out _));
        Assert.True(cache.TryGet(ids[1], out var b));
        Assert.Equal("b", b);
        Assert.True(cache.TryGet(ids[3], out var d));
        Assert.Equal("d", d);

        cache.Set(ids[4], "e");
        Assert.False(cache.TryGet(ids[1], out _));
        Assert.True(cache.TryGet(ids[2], out _));
        Assert.Equal(3, cache.Count);
    }

    [Fact]
    public void Set_ExistingTraceId_UpdatesTheLane()
    {
        var cache = new LaneTraceCache(2);
        var id = ActivityTraceId.CreateRandom();

        cache.Set(id, "yellow");
        cache.Set(id, "green");

        Assert.True(cache.TryGet(id, out var lane));
        Assert.Equal("green", lane);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void CapacityZero_StoresNothing()
    {
        var cache = new LaneTraceCache(0);
        var id = ActivityTraceId.CreateRandom();

        cache.Set(id, "yellow");

        Assert.False(cache.Enabled);
        Assert.False(cache.TryGet(id, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void DefaultTraceId_IsNeverStored()
    {
        var cache = new LaneTraceCache(4);

        cache.Set(default, "yellow");

        Assert.False(cache.TryGet(default, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void NegativeCapacity_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(static () => new LaneTraceCache(-1));
    }

    [Fact]
    public async Task ConcurrentSetAndGet_StaysBounded_AndNeverReturnsAnotherTracesLane()
    {
        const int Capacity = 1024;
        var cache = new LaneTraceCache(Capacity);
        var mismatches = 0;

        // Each worker owns its trace ids and lanes: a lookup that hits must return the lane that worker set.
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            var lane = "lane-" + worker;
            for (var i = 0; i < 20_000; i++)
            {
                var id = ActivityTraceId.CreateRandom();
                cache.Set(id, lane);
                if (cache.TryGet(id, out var seen) && seen != lane)
                {
                    Interlocked.Increment(ref mismatches);
                }

                Assert.True(cache.Count <= Capacity, "the cache never holds more than its capacity");
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(0, mismatches);
        Assert.Equal(Capacity, cache.Count);
    }
}
