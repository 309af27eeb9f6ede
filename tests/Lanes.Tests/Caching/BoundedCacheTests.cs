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
    public void GetOrCreate_BeyondTheLimit_StaysBoundedAndStillAnswers()
    {
        var cache = new BoundedCache<string, string>(4);

        for (var i = 0; i < 10_000; i++)
        {
            Assert.Equal("member=lane-" + i, cache.GetOrCreate("lane-" + i, static k => "member=" + k));
        }

        Assert.Equal(4, cache.Count);
        Assert.NotSame(cache.GetOrCreate("lane-9999", static k => "member=" + k), cache.GetOrCreate("lane-9999", static k => "member=" + k));
    }
}
