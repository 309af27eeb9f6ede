namespace Lanes.Kubernetes;

/// <summary>
/// A de-duplicating work queue of service names, drained by one worker (as client-go's work queue and
/// Yarp.Kubernetes.Controller's are): a name added while it is already waiting is not added twice, so a burst of events
/// for one service is one rebuild. The worker starts on the first name after a quiet spell, waits
/// <c>delay</c> on the injected clock so that the rest of a burst joins it (istiod debounces its pushes the same
/// way, 100 ms by default), then rebuilds every waiting name once; names added meanwhile wait for the next round.
/// Nothing runs on the caller's thread: a watch thread only adds a name.
/// </summary>
internal sealed class RebuildQueue : IAsyncDisposable
{
    private readonly TimeSpan _delay;
    private readonly TimeProvider _time;
    private readonly Action<string> _rebuild;
    private readonly Action<string, Exception> _failed;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _maxRetryDelay;
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly HashSet<ITimer> _retries = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private HashSet<string> _waiting = new(StringComparer.Ordinal);
    private HashSet<string> _spare = new(StringComparer.Ordinal);
    private Task _worker = Task.CompletedTask;
    private bool _running;

    /// <param name="delay">How long the worker waits after the first name of a round; zero: no wait.</param>
    /// <param name="time">The clock of that wait.</param>
    /// <param name="rebuild">Rebuilds one name; called by the worker only, one name at a time.</param>
    /// <param name="failed">
    /// Told when <paramref name="rebuild"/> threw for a name: the worker goes on with the other names and later rounds
    /// (a throwing rebuild never stops the queue), and the name is added again after <paramref name="retryDelay"/>, doubled
    /// per failure in a row up to <paramref name="maxRetryDelay"/> (client-go's rate-limited requeue), or sooner when it
    /// is added meanwhile. A rebuild that succeeds starts the doubling again.
    /// </param>
    /// <param name="retryDelay">The first retry delay of a name whose rebuild threw; zero: no retry of its own.</param>
    /// <param name="maxRetryDelay">The longest retry delay.</param>
    public RebuildQueue(TimeSpan delay, TimeProvider time, Action<string> rebuild, Action<string, Exception> failed, TimeSpan retryDelay = default, TimeSpan maxRetryDelay = default)
    {
        _retryDelay = retryDelay;
        _maxRetryDelay = maxRetryDelay < retryDelay ? retryDelay : maxRetryDelay;
        _delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
        _time = time;
        _rebuild = rebuild;
        _failed = failed;
    }

    /// <summary>How many names wait for the next round.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>No name waits and no round runs (for tests: every rebuild asked for so far is done).</summary>
    public bool Idle
    {
        get
        {
            lock (_lock)
            {
                return !_running && _waiting.Count == 0;
            }
        }
    }

    public void Add(string name)
    {
        lock (_lock)
        {
            _waiting.Add(name);
            StartLocked();
        }
    }

    public void AddRange(IEnumerable<string> names)
    {
        lock (_lock)
        {
            foreach (var name in names)
            {
                _waiting.Add(name);
            }

            if (_waiting.Count > 0)
            {
                StartLocked();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var retry in _retries)
            {
                retry.Dispose();
            }

            _retries.Clear();
        }

        Task worker;
        lock (_lock)
        {
            worker = _worker;
        }

        await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private void StartLocked()
    {
        if (_running || _stopping.IsCancellationRequested)
        {
            return;
        }

        _running = true;
        _worker = Task.Run(DrainAsync);
    }

    private async Task DrainAsync()
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            if (_delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(_delay, _time, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            HashSet<string> round;
            lock (_lock)
            {
                round = _waiting;
                _waiting = _spare;
                _spare = round;
            }

            foreach (var name in round)
            {
                if (stopping.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    _rebuild(name);
                    lock (_lock)
                    {
                        _failures.Remove(name);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _failed(name, ex);
                    Retry(name);
                }
            }

            lock (_lock)
            {
                round.Clear();
                if (_waiting.Count == 0)
                {
                    _running = false;
                    return;
                }
            }
        }
    }

    /// <summary>Adds <paramref name="name"/> again after its retry delay, on the injected clock.</summary>
    private void Retry(string name)
    {
        if (_retryDelay <= TimeSpan.Zero)
        {
            return;
        }

        lock (_lock)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            var failures = _failures[name] = _failures.GetValueOrDefault(name) + 1;
            var ticks = Math.Min(_retryDelay.Ticks * Math.Pow(2, Math.Min(failures - 1, 20)), _maxRetryDelay.Ticks);
            ITimer? timer = null;
            timer = _time.CreateTimer(
                _ =>
                {
                    lock (_lock)
                    {
                        _retries.Remove(timer!);
                    }

                    timer!.Dispose();
                    Add(name);
                },
                null,
                TimeSpan.FromTicks((long)ticks),
                Timeout.InfiniteTimeSpan);
            _retries.Add(timer);
        }
    }
}
