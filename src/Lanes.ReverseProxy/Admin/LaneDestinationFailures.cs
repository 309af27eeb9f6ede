using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Model;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// Recent failures per destination for the admin page: a proxied request the forwarder could not complete (connect
/// error, timeout) or that the destination answered with a 5xx, counted in one-minute periods. Keyed weakly on YARP's
/// destination state, so a destination YARP drops is forgotten with it.
/// </summary>
internal sealed class LaneDestinationFailures(TimeProvider time)
{
    private readonly ConditionalWeakTable<DestinationState, Window> _windows = [];

    public void Failed(DestinationState destination)
    {
        var window = _windows.GetValue(destination, static _ => new Window());
        window.Add(Minute());
    }

    /// <summary>Failures in this minute and the one before it (so a failure stays visible for at least a minute).</summary>
    public long Recent(DestinationState destination)
        => _windows.TryGetValue(destination, out var window) ? window.Recent(Minute()) : 0;

    private long Minute() => time.GetUtcNow().UtcTicks / TimeSpan.TicksPerMinute;

    private sealed class Window
    {
        private readonly Lock _gate = new();
        private long _minute;
        private long _current;
        private long _previous;

        public void Add(long minute)
        {
            lock (_gate)
            {
                Roll(minute);
                _current++;
            }
        }

        public long Recent(long minute)
        {
            lock (_gate)
            {
                Roll(minute);
                return _current + _previous;
            }
        }

        private void Roll(long minute)
        {
            if (minute == _minute)
            {
                return;
            }

            _previous = minute == _minute + 1 ? _current : 0;
            _current = 0;
            _minute = minute;
        }
    }
}
