using System.Collections.Frozen;
using Lanes.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ReverseProxy.Tests;

/// <summary>
/// Log 102 for a lane trust AcceptDeclared dropped: once per lane per <see cref="LaneDropLog.Interval"/> on the injected
/// clock, the lane escaped, and a bounded memory (a flood of junk lanes cannot grow it past <see cref="LaneDropLog.Capacity"/>).
/// </summary>
public sealed class LaneDropLogTests
{
    private static readonly FrozenSet<string> Declared = new[] { "green", "yellow" }.ToFrozenSet(StringComparer.Ordinal);

    [Fact]
    public void OncePerLanePerInterval_OnTheInjectedClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var logs = new InMemoryLoggerProvider();
        var log = new LaneDropLog(time, logs.CreateLogger("gateway"));

        log.Dropped("purple", Declared);
        log.Dropped("purple", Declared);
        log.Dropped("blue", Declared);
        time.Advance(LaneDropLog.Interval - TimeSpan.FromTicks(1));
        log.Dropped("purple", Declared);                                 // a tick short: still held back
        Assert.Equal(["purple", "blue"], Lanes(logs));

        time.Advance(TimeSpan.FromTicks(1));
        log.Dropped("purple", Declared);                                 // the interval is over: told again
        Assert.Equal(["purple", "blue", "purple"], Lanes(logs));
        Assert.All(logs.Records, static r => Assert.Contains("green, yellow", r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void AFloodOfLanes_KeepsItsMemoryBounded_AndEveryNewLaneIsToldOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var logs = new InMemoryLoggerProvider();
        var log = new LaneDropLog(time, logs.CreateLogger("gateway"));

        for (var i = 0; i < LaneDropLog.Capacity * 4; i++)
        {
            log.Dropped("junk-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), Declared);
        }

        Assert.Equal(LaneDropLog.Capacity * 4, logs.Records.Count(static r => r.EventId.Id == 102));
        Assert.InRange(log.Remembered, 1, LaneDropLog.Capacity);
    }

    private static List<string> Lanes(InMemoryLoggerProvider logs)
        => [.. logs.Records.Where(static r => r.EventId.Id == 102).Select(static r => r.Message[(r.Message.IndexOf('\'', StringComparison.Ordinal) + 1)..r.Message.IndexOf('\'', r.Message.IndexOf('\'', StringComparison.Ordinal) + 1)])];
}
