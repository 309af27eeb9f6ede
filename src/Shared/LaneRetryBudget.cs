namespace Lanes.Routing;

/// <summary>
/// A retry budget for one service (Linkerd's, which Envoy's retry budget resembles): over the last
/// <see cref="WindowSeconds"/> seconds, retries may add <c>ratio</c> of the requests sent, plus <c>minPerSecond</c> a
/// second whatever the traffic. A dying fleet gets at most that much extra load instead of every request times the
/// retries. Time comes from the injected <see cref="TimeProvider"/>; counting is lock-free but for the once-a-second
/// roll of a slot.
/// </summary>
internal sealed class LaneRetryBudget
{
    /// <summary>The window the budget looks back over (Linkerd's TTL).</summary>
    public const int WindowSeconds = 10;

    private readonly TimeProvider _time;
    private readonly Slot[] _slots = new Slot[WindowSeconds];
    private readonly Lock _roll = new();

    public LaneRetryBudget(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot();
        }
    }

    /// <summary>Counts a request (a first attempt).</summary>
    public void Request() => Interlocked.Increment(ref Current().Requests);

    /// <summary>Takes one retry from the budget: false when retries in the window already reached what it allows.</summary>
    public bool TryRetry(double ratio, int minPerSecond)
    {
        var now = Now();
        var current = Current(now);
        long requests = 0, retries = 0;
        foreach (var slot in _slots)
        {
            if (now - Volatile.Read(ref slot.Second) < WindowSeconds)
            {
                requests += Volatile.Read(ref slot.Requests);
                retries += Volatile.Read(ref slot.Retries);
            }
        }

        var allowed = ((long)minPerSecond * WindowSeconds) + (long)Math.Floor(ratio * requests);
        if (retries >= allowed)
        {
            return false;
        }

        Interlocked.Increment(ref current.Retries);
        return true;
    }

    private long Now() => (long)(_time.GetTimestamp() / (double)_time.TimestampFrequency);

    private Slot Current() => Current(Now());

    private Slot Current(long now)
    {
        var slot = _slots[(int)(now % WindowSeconds)];
        if (Volatile.Read(ref slot.Second) != now)
        {
            lock (_roll)
            {
                if (slot.Second != now)
                {
                    Volatile.Write(ref slot.Requests, 0);
                    Volatile.Write(ref slot.Retries, 0);
                    Volatile.Write(ref slot.Second, now);
                }
            }
        }

        return slot;
    }

    private sealed class Slot
    {
        public long Second = -1;
        public long Requests;
        public long Retries;
    }
}
