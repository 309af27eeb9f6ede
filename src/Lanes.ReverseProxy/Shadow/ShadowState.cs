using System.Collections.Concurrent;

namespace Lanes.ReverseProxy.Shadow;

/// <summary>
/// What one shadow rule has seen: copies mirrored and dropped, answers that differed, the differing field paths (each
/// with a count and one short, redacted example) and the noise learned from the secondary, and latencies. Bounded: at
/// most <see cref="MaxFields"/> paths and <see cref="MaxNoise"/> noise paths, <see cref="LatencySamples"/> latest latencies.
/// </summary>
internal sealed class ShadowState(ShadowRule rule)
{
    internal const int MaxFields = 64;
    internal const int MaxNoise = 256;
    internal const int LatencySamples = 256;
    internal const string OtherFields = "(other)";

    private readonly ConcurrentDictionary<string, Field> _fields = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _noise = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _dropped = new(StringComparer.Ordinal);
    private readonly Latencies _primary = new();
    private readonly Latencies _shadow = new();
    private long _mirrored;
    private long _differing;
    private int _inFlight;

    public ShadowRule Rule { get; set; } = rule;

    public long Mirrored => Interlocked.Read(ref _mirrored);

    public long Differing => Interlocked.Read(ref _differing);

    public long DroppedTotal => _dropped.Values.Sum();

    public IReadOnlyDictionary<string, long> Dropped => new SortedDictionary<string, long>(_dropped, StringComparer.Ordinal);

    /// <summary>Takes a place for one copy; false when <see cref="ShadowRule.MaxConcurrent"/> are in flight.</summary>
    public bool TryEnter(int max)
    {
        if (Interlocked.Increment(ref _inFlight) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref _inFlight);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public void Drop(string reason) => _dropped.AddOrUpdate(reason, 1, static (_, n) => n + 1);

    /// <summary>
    /// Records one comparison: <paramref name="noise"/> (the primary against the secondary) is learned first, then what
    /// remains of <paramref name="differences"/> (the primary against the shadow) is counted. True when something differed.
    /// </summary>
    public bool Record(List<ShadowDifference> differences, List<ShadowDifference>? noise, double primaryMs, double shadowMs)
    {
        if (noise is not null)
        {
            foreach (var difference in noise)
            {
                if (_noise.Count < MaxNoise || _noise.ContainsKey(difference.Path))
                {
                    _noise.TryAdd(difference.Path, 0);
                }
            }
        }

        var differed = false;
        foreach (var difference in differences)
        {
            if (_noise.ContainsKey(difference.Path))
            {
                continue;
            }

            differed = true;
            var path = _fields.ContainsKey(difference.Path) || _fields.Count < MaxFields ? difference.Path : OtherFields;
            _fields.GetOrAdd(path, static (_, example) => new Field(example), difference.Example).Hit();
        }

        Interlocked.Increment(ref _mirrored);
        if (differed)
        {
            Interlocked.Increment(ref _differing);
        }

        _primary.Add(primaryMs);
        _shadow.Add(shadowMs);
        return differed;
    }

    /// <summary>The differing paths not (yet) known as noise, most frequent first.</summary>
    public IReadOnlyList<(string Path, long Count, string Example)> Fields()
        => [.. _fields.Where(f => !_noise.ContainsKey(f.Key)).Select(static f => (f.Key, f.Value.Count, f.Value.Example)).OrderByDescending(static f => f.Count).ThenBy(static f => f.Key, StringComparer.Ordinal)];

    public IReadOnlyList<string> Noise() => [.. _noise.Keys.Order(StringComparer.Ordinal)];

    public (double? P50, double? P99) PrimaryLatency => _primary.Percentiles();

    public (double? P50, double? P99) ShadowLatency => _shadow.Percentiles();

    private sealed class Field(string example)
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public string Example { get; } = example;

        public void Hit() => Interlocked.Increment(ref _count);
    }

    /// <summary>The latest <see cref="LatencySamples"/> latencies, in milliseconds.</summary>
    private sealed class Latencies
    {
        private readonly Lock _lock = new();
        private readonly double[] _samples = new double[LatencySamples];
        private int _count;
        private int _next;

        public void Add(double ms)
        {
            lock (_lock)
            {
                _samples[_next] = ms;
                _next = (_next + 1) % _samples.Length;
                _count = Math.Min(_count + 1, _samples.Length);
            }
        }

        public (double? P50, double? P99) Percentiles()
        {
            double[] copy;
            lock (_lock)
            {
                if (_count == 0)
                {
                    return (null, null);
                }

                copy = _samples[.._count];
            }

            Array.Sort(copy);
            return (At(copy, 0.50), At(copy, 0.99));
        }

        private static double At(double[] sorted, double q) => Math.Round(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)], 3);
    }
}
