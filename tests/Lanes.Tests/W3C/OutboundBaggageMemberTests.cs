using Lanes.W3C;

namespace Lanes.Tests.W3C;

public sealed class OutboundBaggageMemberTests
{
    [Fact]
    public void Member_KnownLane_IsTheSameStringEveryCall()
    {
        var first = OutboundBaggage.Member("x-mspider-lane", "yellow");

        Assert.Equal("x-mspider-lane=yellow", first);
        Assert.Same(first, OutboundBaggage.Member("x-mspider-lane", "yellow"));
    }

    [Fact]
    public void Member_MoreLanesThanTheCacheHolds_AreStillRight()
    {
        for (var i = 0; i < OutboundBaggage.MemberCacheLimit * 2; i++)
        {
            Assert.Equal($"k=lane-{i}", OutboundBaggage.Member("k", $"lane-{i}"));
        }
    }
}
