using System.Collections.Concurrent;

namespace Lanes.Diagnostics;

/// <summary>
/// Lets a warning that requests can repeat (a lane with no healthy upstream under Strict, once per request) through
/// once per key per interval, and counts what it held back for the next line. Keys come from client input (lanes), so
/// their number is bounded: at <see cref="MaxKeys"/>, windows that have run out are dropped, and if none has, new keys
/// share one window.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan interval)
{
    /// <summary>Distinct keys tracked at once; more share one window (the line still says how many it held back).</summary>
    public const int MaxKeys = 1024;

    private const string SharedKey = "\u0000";

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>True when a line for <paramref name="key"/> is due now; <paramref name="heldBack"/>: lines held back since the last one.</summary>
    public bool TryEnter(string key, out int heldBack)
    {
        var now = time.GetTimestamp();
        if (!_windows.TryGetValue(key, out var window))
        {
            if (_windows.Count >= MaxKeys)
            {
                DropExpired(now);
            }

            window = _windows.GetOrAdd(_windows.Count >= MaxKeys ? SharedKey : key, static _ => new Window());
        }

        lock (window)
        {
            if (window.Started && time.GetElapsedTime(window.Start, now) < interval)
            {
                window.HeldBack++;
                heldBack = 0;
                return false;
            }

            heldBack = window.HeldBack;
            window.HeldBack = 0;
            window.Start = now;
            window.Started = true;
            return true;
        }
    }

    private void DropExpired(long now)
    {
        foreach (var (key, window) in _windows)
        {
            lock (window)
            {
                if (window.HeldBack == 0 && time.GetElapsedTime(window.Start, now) >= interval)
                {
                    _windows.TryRemove(key, out _);
                }
            }
        }
    }

    private sealed class Window
    {
        public long Start;
        public bool Started;
        public int HeldBack;
    }
}
