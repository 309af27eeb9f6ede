namespace Lanes.Tests;

public class LaneContextTests
{
    [Fact]
    public void Begin_NestedScopes_RestoreOuterLaneOnDispose()
    {
        Assert.Null(LaneContext.Current);

        using (LaneContext.Begin("green"))
        {
            Assert.Equal("green", LaneContext.Current);
            Assert.Equal(LaneSource.Scope, LaneContext.CurrentSource);
            using (LaneContext.Begin("yellow"))
            {
                Assert.Equal("yellow", LaneContext.Current);
                using (LaneContext.Begin(null))
                {
                    Assert.Null(LaneContext.Current);
                    Assert.Equal(LaneSource.None, LaneContext.CurrentSource);
                }

                Assert.Equal("yellow", LaneContext.Current);
            }

            Assert.Equal("green", LaneContext.Current);
        }

        Assert.Null(LaneContext.Current);
        Assert.Equal(LaneSource.None, LaneContext.CurrentSource);
    }

    [Fact]
    public void Dispose_CalledTwice_RestoresOnlyOnce()
    {
        using var outer = LaneContext.Begin("green");
        var inner = LaneContext.Begin("yellow");
        inner.Dispose();
        using (LaneContext.Begin("blue"))
        {
            inner.Dispose(); // must not restore "green" over "blue"
            Assert.Equal("blue", LaneContext.Current);
        }

        Assert.Equal("green", LaneContext.Current);
    }

    [Fact]
    public async Task Begin_ThousandParallelTasks_EachSeesOnlyItsOwnLane()
    {
        var mismatches = 0;
        var tasks = new Task[1000];
        for (var i = 0; i < tasks.Length; i++)
        {
            var lane = "lane" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            tasks[i] = Task.Run(async () =>
            {
                using (LaneContext.Begin(lane))
                {
                    for (var step = 0; step < 5; step++)
                    {
                        await Task.Yield();
                        if (!string.Equals(LaneContext.Current, lane, StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref mismatches);
                        }

                        // Work started from inside the scope sees the scope's lane.
                        var seenByChild = await Task.Run(() => LaneContext.Current);
                        if (!string.Equals(seenByChild, lane, StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref mismatches);
                        }
                    }
                }

                if (LaneContext.Current is not null)
                {
                    Interlocked.Increment(ref mismatches);
                }
            });
        }

        await Task.WhenAll(tasks);

        Assert.Equal(0, mismatches);
        Assert.Null(LaneContext.Current);
    }

    [Fact]
    public async Task Begin_InsideAsyncMethod_DoesNotLeakToCaller()
    {
        static async Task SetLaneAsync()
        {
            LaneContext.Begin("yellow"); // never disposed on purpose
            await Task.Yield();
            Assert.Equal("yellow", LaneContext.Current);
        }

        await SetLaneAsync();

        Assert.Null(LaneContext.Current);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" yellow")]
    [InlineData("yellow\r\nx: y")]
    [InlineData("a,b")]
    public void Begin_InvalidLane_ThrowsWithEscapedValue(string lane)
    {
        var error = Assert.Throws<ArgumentException>(() => LaneContext.Begin(lane));

        Assert.Equal("lane", error.ParamName);
        Assert.DoesNotContain('\r', error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Null(LaneContext.Current);
    }

    [Fact]
    public void Begin_Resolution_KeepsItsSource()
    {
        var propagator = LanePropagator.Create(new LaneOptions().UsePreset("mspider"));
        var resolution = propagator.Extract(new Dictionary<string, string> { ["x-mspider-laneid"] = "yellow" }, Getters.Dictionary);

        using (LaneContext.Begin(resolution))
        {
            Assert.Equal("yellow", LaneContext.Current);
            Assert.Equal(LaneSource.Alias, LaneContext.CurrentSource);
        }
    }
}
