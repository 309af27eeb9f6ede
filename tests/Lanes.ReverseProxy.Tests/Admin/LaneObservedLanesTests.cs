using Lanes.ReverseProxy.Admin;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>The admin page's observed lanes: declared lanes always have a place; undeclared ones share 256 places that age out.</summary>
public sealed class LaneObservedLanesTests
{
    private readonly FakeTimeProvider _time = new();

    private static Dictionary<string, long> Counts(LaneObservedLanes observed)
        => observed.Snapshot().ToDictionary(static o => o.Lane, static o => o.Count, StringComparer.Ordinal);

    [Fact]
    public void Observe_ThousandUndeclaredLanes_ThenADeclaredLane_TheDeclaredLaneIsListed()
    {
        var observed = new LaneObservedLanes(_time);

        for (var i = 0; i < 1_000; i++)
        {
            observed.Observe("junk-" + i, declared: false);
        }

        observed.Observe("yellow", declared: true);
        observed.Observe("yellow", declared: true);

        var counts = Counts(observed);
        Assert.Equal(2, counts["yellow"]);
        Assert.Equal(LaneObservedLanes.Capacity + 1, counts.Count);
        Assert.Equal(1_000 - LaneObservedLanes.Capacity, observed.Overflow);
    }

    [Fact]
    public void Observe_PlacesFull_TheLeastRecentlySeenLeavesOnceIdleForTheTimeout()
    {
        var observed = new LaneObservedLanes(_time);
        observed.Observe("junk-0", declared: false);
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 1; i < LaneObservedLanes.Capacity; i++)
        {
            observed.Observe("junk-" + i, declared: false);
        }

        _time.Advance(LaneObservedLanes.IdleTimeout - TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(1));
        observed.Observe("dev3", declared: false);
        Assert.DoesNotContain("dev3", Counts(observed).Keys);

        _time.Advance(TimeSpan.FromSeconds(1));
        observed.Observe("dev3", declared: false);
        observed.Observe("dev4", declared: false);

        var counts = Counts(observed);
        Assert.Equal(1, counts["dev3"]);
        Assert.DoesNotContain("junk-0", counts.Keys);
        Assert.DoesNotContain("dev4", counts.Keys);
        Assert.Equal(LaneObservedLanes.Capacity, counts.Count);
        Assert.Equal(2, observed.Overflow);
    }
}
