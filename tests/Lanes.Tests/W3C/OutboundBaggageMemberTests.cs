using Lanes.W3C;

namespace Lanes.Tests.W3C;

public sealed class OutboundBaggageMemberTests
{
    // The cache is process-wide and bounded (other tests fill it), so only the value is asserted here; the
    // benchmark shows the saved allocation (OutboundInjectionBenchmarks: 264 B with baggage on, as without).
    [Fact]
    public void Member_IsKeyEqualsLane()
    {
        Assert.Equal("x-mspider-lane=yellow", OutboundBaggage.Member("x-mspider-lane", "yellow"));
        Assert.Equal("x-mspider-lane=yellow", OutboundBaggage.Member("x-mspider-lane", "yellow"));
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
