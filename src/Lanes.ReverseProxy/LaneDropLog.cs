using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Logging;

namespace Lanes.ReverseProxy;

/// <summary>
/// The log line of a client lane dropped under <see cref="LaneTrust.AcceptDeclared"/> (event 102, Information), at most
/// once per lane per <see cref="Interval"/>: a client that keeps sending a lane the gateway does not know is told once,
/// not on every request. At most <see cref="Capacity"/> lanes are remembered; when that many are, the oldest memory is
/// cleared, so a flood of junk lanes costs a bounded amount of memory (and at most one line per lane per interval).
/// </summary>
internal sealed class LaneDropLog(TimeProvider time, ILogger logger)
{
    /// <summary>How long a lane's line holds back the next one for the same lane.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    /// <summary>Lanes remembered at once.</summary>
    public const int Capacity = 256;

    /// <summary>Lanes listed in the line; more are summarised as a count.</summary>
    private const int Listed = 20;

    private readonly ConcurrentDictionary<string, long> _logged = new(StringComparer.Ordinal);

    /// <summary>Lanes whose last line is remembered (at most <see cref="Capacity"/>).</summary>
    internal int Remembered => _logged.Count;

    public void Dropped(string lane, FrozenSet<string> declared)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var now = time.GetUtcNow().UtcTicks;
        if (_logged.TryGetValue(lane, out var last) && now - last < Interval.Ticks)
        {
            return;
        }

        if (_logged.Count >= Capacity)
        {
            _logged.Clear();
        }

        _logged[lane] = now;
        LaneGatewayLog.UndeclaredLaneDropped(logger, Parsing.LaneParser.Escape(lane), Describe(declared), Interval);
    }

    private static string Describe(FrozenSet<string> declared)
    {
        if (declared.Count == 0)
        {
            return "none";
        }

        var names = declared.Order(StringComparer.Ordinal).ToList();
        return names.Count <= Listed
            ? string.Join(", ", names)
            : string.Join(", ", names.Take(Listed)) + $" and {names.Count - Listed} more";
    }
}
