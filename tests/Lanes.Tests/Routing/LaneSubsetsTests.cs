using Lanes.Routing;

namespace Lanes.Tests.Routing;

/// <summary>Every cell of DESIGN 6's table for every policy, plus instance-set changes and PanicToAny.</summary>
public sealed class LaneSubsetsTests
{
    private sealed class Node(string name)
    {
        public string Name { get; } = name;

        public override string ToString() => Name;
    }

    private static readonly Node G1 = new("g1");
    private static readonly Node Y1 = new("y1");
    private static readonly Node B1 = new("b1");
    private static readonly Node U1 = new("u1");

    /// <summary>green and yellow healthy, blue unhealthy, one unlabelled; red is declared with no instance.</summary>
    private static LaneInstance<Node>[] Fleet(bool withUnlabelled = true)
    {
        var fleet = new List<LaneInstance<Node>>
        {
            new(G1, "green", healthy: true),
            new(Y1, "yellow", healthy: true),
            new(B1, "blue", healthy: false),
        };
        if (withUnlabelled)
        {
            fleet.Add(new(U1, null, healthy: true));
        }

        return [.. fleet];
    }

    private static readonly string[] Declared = ["green", "yellow", "blue", "red"];

    private static LaneSubsets<Node> Build(LanePolicy policy, bool withUnlabelled = true, bool panic = false, string? baseline = null, string[]? declared = null)
        => new LaneSubsetSettings(policy, declared ?? Declared, baseline, panic).CreateSubsets(Fleet(withUnlabelled));

    private static string Names(LaneChoice<Node> choice)
        => choice.Instances.Length == 0 ? "503" : string.Join(",", choice.Instances.Select(static n => n.Name).Order(StringComparer.Ordinal));

    // Rows of DESIGN 6 (lane null = no lane; yellow = has healthy instances; blue = declared, all unhealthy;
    // red = declared, no instances; purple = not declared, no instances). Baseline = the unlabelled u1.
    [Theory]
    [InlineData(LanePolicy.Strict, null, "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.NoLane)]
    [InlineData(LanePolicy.Permissive, null, "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.NoLane)]
    [InlineData(LanePolicy.Declared, null, "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.NoLane)]
    [InlineData(LanePolicy.Any, null, "g1,u1,y1", LaneRoutingOutcome.Fallback, LaneFallbackReason.NoLane)]
    [InlineData(LanePolicy.Strict, "yellow", "y1", LaneRoutingOutcome.Matched, LaneFallbackReason.None)]
    [InlineData(LanePolicy.Permissive, "yellow", "y1", LaneRoutingOutcome.Matched, LaneFallbackReason.None)]
    [InlineData(LanePolicy.Declared, "yellow", "y1", LaneRoutingOutcome.Matched, LaneFallbackReason.None)]
    [InlineData(LanePolicy.Any, "yellow", "y1", LaneRoutingOutcome.Matched, LaneFallbackReason.None)]
    [InlineData(LanePolicy.Strict, "blue", "503", LaneRoutingOutcome.NoUpstream, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Permissive, "blue", "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Declared, "blue", "503", LaneRoutingOutcome.NoUpstream, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Any, "blue", "g1,u1,y1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Strict, "red", "503", LaneRoutingOutcome.NoUpstream, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Permissive, "red", "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Declared, "red", "503", LaneRoutingOutcome.NoUpstream, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Any, "red", "g1,u1,y1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUnavailable)]
    [InlineData(LanePolicy.Strict, "purple", "503", LaneRoutingOutcome.NoUpstream, LaneFallbackReason.LaneUndeclared)]
    [InlineData(LanePolicy.Permissive, "purple", "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUndeclared)]
    [InlineData(LanePolicy.Declared, "purple", "u1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUndeclared)]
    [InlineData(LanePolicy.Any, "purple", "g1,u1,y1", LaneRoutingOutcome.Fallback, LaneFallbackReason.LaneUndeclared)]
    public void Select_DesignTableRow_ChoosesTheDocumentedSubset(LanePolicy policy, string? lane, string expected, LaneRoutingOutcome outcome, LaneFallbackReason reason)
    {
        var subsets = Build(policy);

        var choice = subsets.Select(lane);

        Assert.Equal(expected, Names(choice));
        Assert.Equal(outcome, choice.Outcome);
        Assert.Equal(reason, choice.Reason);
    }

    // Last row: the chosen set is empty because the baseline is empty too (no unlabelled instance).
    [Theory]
    [InlineData(LanePolicy.Strict, null)]
    [InlineData(LanePolicy.Permissive, null)]
    [InlineData(LanePolicy.Declared, null)]
    [InlineData(LanePolicy.Permissive, "blue")]
    [InlineData(LanePolicy.Permissive, "purple")]
    [InlineData(LanePolicy.Declared, "purple")]
    public void Select_ChosenSetEmpty_Is503(LanePolicy policy, string? lane)
    {
        var subsets = Build(policy, withUnlabelled: false);

        var choice = subsets.Select(lane);

        Assert.Equal(LaneRoutingOutcome.NoUpstream, choice.Outcome);
        Assert.Empty(choice.Instances);
        Assert.Null(choice.Served);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("blue")]
    [InlineData("purple")]
    public void Select_AnyWithNoHealthyInstance_Is503(string? lane)
    {
        var subsets = new LaneSubsetSettings(LanePolicy.Any, Declared, null, panicToAny: true).CreateSubsets<Node>([new(B1, "blue", healthy: false)]);

        Assert.Equal(LaneRoutingOutcome.NoUpstream, subsets.Select(lane).Outcome);
    }

    [Theory]
    [InlineData(LanePolicy.Strict, null)]
    [InlineData(LanePolicy.Permissive, null)]
    [InlineData(LanePolicy.Declared, null)]
    [InlineData(LanePolicy.Permissive, "blue")]
    [InlineData(LanePolicy.Permissive, "purple")]
    [InlineData(LanePolicy.Declared, "purple")]
    public void Select_PanicToAnyAndBaselineEmpty_UsesAllHealthy(LanePolicy policy, string? lane)
    {
        var subsets = Build(policy, withUnlabelled: false, panic: true);

        var choice = subsets.Select(lane);

        Assert.Equal("g1,y1", Names(choice));
        Assert.Equal(LaneRoutingOutcome.Fallback, choice.Outcome);
        Assert.Equal(LaneChoice<Node>.AllSubset, choice.Served);
    }

    [Theory]
    [InlineData(LanePolicy.Strict, "blue")]
    [InlineData(LanePolicy.Strict, "purple")]
    [InlineData(LanePolicy.Declared, "red")]
    public void Select_PanicToAny_DoesNotOverrideAPolicy503(LanePolicy policy, string lane)
    {
        var subsets = Build(policy, panic: true);

        Assert.Equal(LaneRoutingOutcome.NoUpstream, subsets.Select(lane).Outcome);
    }

    [Fact]
    public void Select_BaselineLane_FallsBackToThatLaneNotTheUnlabelled()
    {
        var subsets = Build(LanePolicy.Permissive, baseline: "green");

        Assert.Equal("g1", Names(subsets.Select(null)));
        Assert.Equal("g1", Names(subsets.Select("purple")));
        Assert.Equal("green", subsets.Select("purple").Served);
        Assert.Equal("y1", Names(subsets.Select("yellow")));
    }

    [Fact]
    public void Select_BaselineLaneWithoutHealthyInstances_Is503EvenWithUnlabelledInstances()
    {
        var subsets = Build(LanePolicy.Permissive, baseline: "blue");

        Assert.Equal(LaneRoutingOutcome.NoUpstream, subsets.Select(null).Outcome);
    }

    [Fact]
    public void Build_WithoutDeclaredLanes_DerivesThemFromEveryLabelIncludingUnhealthyInstances()
    {
        var subsets = new LaneSubsetSettings(LanePolicy.Declared, null, null, false).CreateSubsets<Node>(Fleet());

        Assert.Equal(["blue", "green", "yellow"], subsets.DeclaredLanes);
        Assert.Equal(LaneRoutingOutcome.NoUpstream, subsets.Select("blue").Outcome); // declared (derived), all unhealthy
        Assert.Equal("u1", Names(subsets.Select("red"))); // not declared any more: baseline
        Assert.Equal(LaneFallbackReason.LaneUndeclared, subsets.Select("red").Reason);
    }

    [Fact]
    public void Build_LaneRemovedOrLastInstanceUnhealthy_FallsBackOnTheNextBuild()
    {
        var before = Build(LanePolicy.Permissive);
        Assert.Equal("y1", Names(before.Select("yellow")));

        var removed = new LaneSubsetSettings(LanePolicy.Permissive, null, null, false).CreateSubsets<Node>(
            [new(G1, "green", true), new(U1, null, true)]);
        var unhealthy = new LaneSubsetSettings(LanePolicy.Permissive, null, null, false).CreateSubsets<Node>(
            [new(G1, "green", true), new(Y1, "yellow", false), new(U1, null, true)]);

        Assert.Equal("u1", Names(removed.Select("yellow")));
        Assert.Equal(LaneFallbackReason.LaneUndeclared, removed.Select("yellow").Reason);
        Assert.Equal("u1", Names(unhealthy.Select("yellow")));
        Assert.Equal(LaneFallbackReason.LaneUnavailable, unhealthy.Select("yellow").Reason);
    }

    [Fact]
    public void Build_LabelEdited_MovesTheInstance()
    {
        var settings = new LaneSubsetSettings(LanePolicy.Strict, null, null, false);
        var before = settings.CreateSubsets<Node>([new(G1, "green", true), new(Y1, "yellow", true)]);

        var after = settings.CreateSubsets<Node>([new(G1, "green", true), new(Y1, "green", true)]);

        Assert.Equal("y1", Names(before.Select("yellow")));
        Assert.Equal("g1,y1", Names(after.Select("green")));
        Assert.Equal(LaneRoutingOutcome.NoUpstream, after.Select("yellow").Outcome);
    }

    [Fact]
    public void Build_HealthFlipsBack_LaneServesAgain()
    {
        var settings = new LaneSubsetSettings(LanePolicy.Strict, null, null, false);

        var down = settings.CreateSubsets<Node>([new(Y1, "yellow", false), new(U1, null, true)]);
        var up = settings.CreateSubsets<Node>([new(Y1, "yellow", true), new(U1, null, true)]);

        Assert.Equal(LaneRoutingOutcome.NoUpstream, down.Select("yellow").Outcome);
        Assert.Equal("y1", Names(up.Select("yellow")));
    }

    [Fact]
    public void Select_NamesForDebugHeadersAndMetrics_AreBounded()
    {
        var subsets = Build(LanePolicy.Permissive);

        Assert.Equal("yellow", subsets.Select("yellow").Served);
        Assert.Equal(LaneChoice<Node>.UnlabelledSubset, subsets.Select(null).Served);
        Assert.Equal("red", subsets.Select("red").LaneTag);
        Assert.Equal(LanesDiagnostics.OtherLane, subsets.Select("lane-" + Guid.NewGuid().ToString("N")).LaneTag);
        Assert.Null(subsets.Select(null).LaneTag);
    }

    [Fact]
    public void Select_IsCaseSensitive()
    {
        var subsets = Build(LanePolicy.Strict);

        Assert.Equal(LaneRoutingOutcome.NoUpstream, subsets.Select("Yellow").Outcome);
    }

    [Fact]
    public void Select_ReturnsPrecomputedChoicesAndAllocatesNothing()
    {
        var subsets = Build(LanePolicy.Permissive);
        var lanes = new[] { null, "yellow", "blue", "red", "purple" };
        foreach (var lane in lanes)
        {
            Assert.Same(subsets.Select(lane), subsets.Select(lane));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            _ = subsets.Select(lanes[i % lanes.Length]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Next_IsRoundRobinOverTheSubset_AndNullWhenEmpty()
    {
        var subsets = new LaneSubsetSettings(LanePolicy.Strict, null, null, false).CreateSubsets<Node>(
            [new(G1, "green", true), new(Y1, "green", true)]);
        var counter = -1;

        var picks = Enumerable.Range(0, 4).Select(_ => subsets.Select("green").Next(ref counter)!.Name).ToArray();

        Assert.Equal(["g1", "y1", "g1", "y1"], picks);
        Assert.Null(subsets.Select("purple").Next(ref counter));
    }

    [Fact]
    public void NoHealthyUpstreamDetail_NamesServiceLaneAndPolicy()
    {
        Assert.Equal("No healthy instance of 'svc1' can serve lane 'dev2' (policy Declared).", LaneRoutingNames.NoHealthyUpstreamDetail("svc1", "dev2", LanePolicy.Declared));
        Assert.Equal("No healthy instance of 'svc1' can serve a request without a lane (policy Strict).", LaneRoutingNames.NoHealthyUpstreamDetail("svc1", null, LanePolicy.Strict));
    }
}
