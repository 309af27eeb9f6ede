using Lanes.Caching;

namespace Lanes.Tests.Caching;

public sealed class BoundedCacheTests
{
    [Fact]
    public void GetOrCreate_WithinTheLimit_ReturnsTheSameInstance()
    {
        var cache = new BoundedCache<string, string>(4);

        var first = cache.GetOrCreate("yellow", static k => "member=" + k);

        Assert.Same(first, cache.GetOrCreate("yellow", static k => "member=" + k));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void GetOrCreate_BeyondTheLimit_StaysUnderTwiceTheLimitAndStillAnswers()
    {
        var cache = new BoundedCache<string, string>(4);

        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal("member=lane-" + i, cache.GetOrCreate("lane-" + i, static k => "member=" + k));
            Assert.True(cache.Count <= 2 * cache.Limit, $"{cache.Count} keys held after {i + 1} distinct keys");
        }
    }

    /// <summary>
    /// The CI failure this guards: earlier tests had sent more than the limit's worth of distinct lanes through the
    /// process-wide caches, and a cache that kept only its first keys then built a new frame and log scope for every
    /// request in <c>yellow</c> (120 B per request more, found by the allocation budget).
    /// </summary>
    [Fact]
    public void GetOrCreate_ALaneInUse_StaysCachedThroughAnEndlessStreamOfOtherKeys()
    {
        var cache = new BoundedCache<string, string>(4);
        for (var i = 0; i < 100; i++)
        {
            cache.GetOrCreate("junk-before-" + i, static k => "member=" + k);
        }

        var yellow = cache.GetOrCreate("yellow", static k => "member=" + k);
        for (var i = 0; i < 10_000; i++)
        {
            cache.GetOrCreate("junk-" + i, static k => "member=" + k);
            if (i % 3 == 2)
            {
                Assert.Same(yellow, cache.GetOrCreate("yellow", static k => "member=" + k));
            }
        }
    }

    [Fact]
    public void GetOrCreate_ALaneNotAskedForInTwoGenerations_IsDroppedAndBuiltAgain()
    {
        var cache = new BoundedCache<string, string>(4);
        var yellow = cache.GetOrCreate("yellow", static k => "member=" + k);

        for (var i = 0; i < 2 * cache.Limit; i++)
        {
            cache.GetOrCreate("junk-" + i, static k => "member=" + k);
        }

        var again = cache.GetOrCreate("yellow", static k => "member=" + k);
        Assert.Equal(yellow, again);
        Assert.NotSame(yellow, again);
    }
}
