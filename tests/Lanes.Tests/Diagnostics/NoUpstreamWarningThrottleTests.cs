using Lanes.Routing;
using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.Tests.Diagnostics;

/// <summary>
/// A client sending a lane nothing serves (Strict: 503 on every request) must not write a warning per request: one
/// line per service and lane per minute, on the injected clock, saying how many it held back.
/// </summary>
public sealed class NoUpstreamWarningThrottleTests
{
    [Fact]
    public void NoHealthyUpstream_OneLinePerServiceAndLanePerMinute_WithTheCountHeldBack()
    {
        var time = new FakeTimeProvider();
        using var logs = new InMemoryLoggerProvider();
        using var provider = Services(time, logs);
        var telemetry = provider.GetRequiredService<LaneTelemetry>();
        string[] Lines() => [.. logs.Records.Where(static r => r.EventId.Name == "NoHealthyUpstream").Select(static r => r.Message)];

        for (var i = 0; i < 100; i++)
        {
            telemetry.Routed("svc1", "purple", s_strict.Select("purple"));  // 100 requests in an unserved lane
        }

        telemetry.Routed("svc1", "orange", s_strict.Select("orange"));      // another lane has its own line
        telemetry.Routed("svc2", "purple", s_strict.Select("purple"));      // and so has another service
        Assert.Equal(3, Lines().Length);
        Assert.Contains("0 more like it", Lines()[0], StringComparison.Ordinal);

        time.Advance(LaneTelemetry.WarningInterval - TimeSpan.FromTicks(1));
        telemetry.Routed("svc1", "purple", s_strict.Select("purple"));      // still inside the minute: held back
        Assert.Equal(3, Lines().Length);

        time.Advance(TimeSpan.FromTicks(1));
        telemetry.Routed("svc1", "purple", s_strict.Select("purple"));      // the next minute: one line, with the count
        Assert.Equal(4, Lines().Length);
        Assert.Contains("'svc1' and lane 'purple'", Lines()[3], StringComparison.Ordinal);
        Assert.Contains("100 more like it", Lines()[3], StringComparison.Ordinal);
    }

    [Fact]
    public void NoHealthyUpstream_AFloodOfDistinctLanes_KeepsBoundedState_AndStillLogsANewLaneOnce()
    {
        var time = new FakeTimeProvider();
        using var logs = new InMemoryLoggerProvider();
        using var provider = Services(time, logs);
        var telemetry = provider.GetRequiredService<LaneTelemetry>();

        for (var i = 0; i < 5_000; i++)
        {
            telemetry.Routed("svc1", $"junk-{i}", s_strict.Select($"junk-{i}"));
        }

        // Past the bound, new lanes share one window: at most MaxKeys + 1 lines for 5,000 junk lanes in one minute.
        var lines = logs.Records.Count(static r => r.EventId.Name == "NoHealthyUpstream");
        Assert.InRange(lines, 1, 1024 + 1);
        time.Advance(LaneTelemetry.WarningInterval);
        telemetry.Routed("svc1", "real", s_strict.Select("real"));          // the minute after: room again for a new lane
        Assert.Contains(logs.Records, static r => r.EventId.Name == "NoHealthyUpstream" && r.Message.Contains("lane 'real'", StringComparison.Ordinal));
    }

    private static readonly LaneSubsets<string> s_strict = new LaneSubsetSettings(LanePolicy.Strict, null, null, false).CreateSubsets<string>([new("a", "green", healthy: true)]);

    /// <summary>Lanes with the fake clock and the in-memory logs.</summary>
    private static ServiceProvider Services(FakeTimeProvider time, InMemoryLoggerProvider logs)
        => new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddSingleton<TimeProvider>(time)
            .AddLanes(static _ => { })
            .Services.BuildServiceProvider();
}
