using Microsoft.Extensions.Primitives;

namespace Lanes.Tests;

/// <summary>The one outbound rule (<c>TryGetCallLane</c>) every transport uses: HTTP handler, runtime hook, gRPC interceptor, client routing.</summary>
public sealed class LanePropagatorCallLaneTests
{
    private static readonly LanePropagator Propagator = LanePropagator.Create(new LaneOptions().UsePreset("mspider"));

    [Fact]
    public void CallerSetValidLane_WinsOverTheAmbientLane()
    {
        using (LaneContext.Begin("yellow"))
        {
            Assert.True(Propagator.TryGetCallLane(new StringValues(" green "), out var lane));
            Assert.Equal("green", lane);
        }
    }

    [Theory]
    [InlineData("green, blue")]
    [InlineData("gr een")]
    [InlineData("")]
    public void CallerSetInvalidLane_SendsNothingAndDoesNotFallBackToTheAmbientLane(string value)
    {
        using (LaneContext.Begin("yellow"))
        {
            Assert.False(Propagator.TryGetCallLane(new StringValues(value), out _));
        }
    }

    [Fact]
    public void NoCallerLane_UsesTheAmbientLane_OrNothing()
    {
        Assert.False(Propagator.TryGetCallLane(StringValues.Empty, out _));
        using (LaneContext.Begin("yellow"))
        {
            Assert.True(Propagator.TryGetCallLane(StringValues.Empty, out var lane));
            Assert.Equal("yellow", lane);
        }
    }

    [Fact]
    public void AmbientLaneLongerThanMaxLength_IsNotSent()
    {
        using (LaneContext.Begin(new string('a', 100)))
        {
            Assert.False(Propagator.TryGetCallLane(StringValues.Empty, out _));
        }
    }
}
