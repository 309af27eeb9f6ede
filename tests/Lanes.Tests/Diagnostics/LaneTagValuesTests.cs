using Lanes.Configuration;
using Lanes.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.Tests.Diagnostics;

/// <summary>
/// Metric lane tags (docs/reliability.md, "Memory stays bounded"): configured lanes keep their own tag whatever clients
/// send; other lanes share 100 slots that age out after 10 idle minutes, least recently seen first.
/// </summary>
public sealed class LaneTagValuesTests
{
    private readonly FakeTimeProvider _time = new();

    private LaneTagValues Create(Action<LaneOptions>? configure = null)
    {
        var options = new LaneOptions().UsePreset("mspider");
        configure?.Invoke(options);
        return new LaneTagValues(new LaneSettingsHolder(LaneSettings.Create(options)), _time);
    }

    private static string[] Flood(LaneTagValues tags, int count, string prefix = "junk-")
    {
        var values = new string[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = tags.Get(prefix + i);
        }

        return values;
    }

    [Fact]
    public void Get_ThousandJunkLanes_ThenAReservedLane_KeepsItsOwnTag()
    {
        var tags = Create();
        tags.Reserve("cluster:details", ["yellow", "blue"]);

        var flood = Flood(tags, 1_000);

        Assert.Equal(LaneTagValues.DynamicLimit, flood.Count(static t => t != LanesDiagnostics.OtherLane));
        Assert.Equal("yellow", tags.Get("yellow"));
        Assert.Equal("blue", tags.Get("blue"));
        Assert.Equal("green", tags.Get("green"));                    // the default lane
        Assert.Equal(LanesDiagnostics.OtherLane, tags.Get("not-reserved"));
        Assert.Equal(LaneTagValues.DynamicLimit, tags.DynamicCount);
    }

    [Fact]
    public void Reserve_ReplacesTheOwnersLanes_AndAnEmptySetReleasesThem()
    {
        var tags = Create();
        tags.Reserve("cluster:details", ["yellow"]);
        tags.Reserve("colouring", ["dev1"]);
        Flood(tags, LaneTagValues.DynamicLimit);

        tags.Reserve("cluster:details", ["blue"]);
        tags.Reserve("colouring", []);

        Assert.Equal("blue", tags.Get("blue"));
        Assert.Equal(LanesDiagnostics.OtherLane, tags.Get("yellow"));
        Assert.Equal(LanesDiagnostics.OtherLane, tags.Get("dev1"));
    }

    [Fact]
    public void Get_SlotsFull_ANewLaneWaitsUntilTheLeastRecentlySeenHasBeenIdleForTheTimeout()
    {
        var tags = Create();
        Assert.Equal("junk-1", tags.Get("junk-1"));                     // the oldest
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < LaneTagValues.DynamicLimit; i++)
        {
            if (i != 1)
            {
                Assert.Equal("junk-" + i, tags.Get("junk-" + i));       // the other 99 slots, a minute later
            }
        }

        _time.Advance(LaneTagValues.IdleTimeout - TimeSpan.FromMinutes(1) - TimeSpan.FromSeconds(1));
        Assert.Equal(LanesDiagnostics.OtherLane, tags.Get("real"));     // junk-1 idle 9 min 59 s: no slot yet

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("real", tags.Get("real"));                         // junk-1 idle for 10 minutes: its slot
        Assert.Equal(LanesDiagnostics.OtherLane, tags.Get("real-2"));   // the others were seen 9 minutes ago
        Assert.Equal("junk-0", tags.Get("junk-0"));
        Assert.Equal(LaneTagValues.DynamicLimit, tags.DynamicCount);
    }

    [Fact]
    public void Get_AfterAFloodStops_ItsLanesLeaveWithinTheTimeout()
    {
        var tags = Create();
        Flood(tags, 10_000);

        _time.Advance(LaneTagValues.IdleTimeout);
        var next = Flood(tags, LaneTagValues.DynamicLimit, "later-");

        Assert.All(next, static t => Assert.StartsWith("later-", t, StringComparison.Ordinal));
        Assert.Equal(LaneTagValues.DynamicLimit, tags.DynamicCount);
    }

    [Fact]
    public void Get_WithKnownLanes_NoDynamicSlots_ReservedAndKnownKeepTheirTags()
    {
        var tags = Create(static o =>
        {
            o.KnownLanes.Add("green");
            o.KnownLanes.Add("yellow");
        });
        tags.Reserve("cluster:details", ["blue"]);

        var flood = Flood(tags, 1_000);

        Assert.All(flood, static t => Assert.Equal(LanesDiagnostics.OtherLane, t));
        Assert.Equal("yellow", tags.Get("yellow"));
        Assert.Equal("blue", tags.Get("blue"));
        Assert.Equal(0, tags.DynamicCount);
    }
}
