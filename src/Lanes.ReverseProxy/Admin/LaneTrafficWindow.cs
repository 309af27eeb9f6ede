using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// What the admin page reads from the <c>Lanes</c> meter, as any metrics pipeline would: routing decisions
/// (<see cref="LanesDiagnostics.RoutedInstrument"/>) in <see cref="BucketCount"/> buckets of <see cref="BucketLength"/>
/// (five minutes) per service, lane tag and outcome, and in totals since the page was mapped per service, lane tag,
/// outcome and reason (the per-cluster counters); and colouring-rule hits (<see cref="LanesDiagnostics.ColouredInstrument"/>)
/// per rule index and lane. It listens only once the admin endpoint is mapped; the lane tag is the meter's bounded one
/// (<c>other</c> for lanes no cluster declares).
/// </summary>
internal sealed class LaneTrafficWindow : IDisposable
{
    public const int BucketCount = 30;

    public static readonly TimeSpan BucketLength = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly Meter _meter;
    private readonly ConcurrentDictionary<Key, Series> _series = new();
    private readonly ConcurrentDictionary<TotalKey, StrongBox<long>> _totals = new();
    private readonly ConcurrentDictionary<(int Rule, string Lane), StrongBox<long>> _ruleHits = new();
    private MeterListener? _listener;

    /// <param name="time">The clock of the buckets.</param>
    /// <param name="meter">
    /// This application's <c>Lanes</c> meter (<see cref="Lanes.Routing.LaneTelemetry.Meter"/>): only its instrument is
    /// read, so two gateways in one process never count each other's traffic.
    /// </param>
    public LaneTrafficWindow(TimeProvider time, Meter meter)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(meter);
        _time = time;
        _meter = meter;
    }

    /// <summary>Starts listening to the <c>Lanes</c> meter (idempotent).</summary>
    public void Start()
    {
        if (Volatile.Read(ref _listener) is not null)
        {
            return;
        }

        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, _meter) && instrument.Name is LanesDiagnostics.RoutedInstrument or LanesDiagnostics.ColouredInstrument)
                {
                    listener.EnableMeasurementEvents(instrument, listener);
                }
            },
        };
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            listener.Dispose();
            return;
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            if (instrument.Name == LanesDiagnostics.ColouredInstrument)
            {
                RecordRule(value, tags);
            }
            else
            {
                Record(value, tags);
            }
        });
        listener.Start();
    }

    public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? service = null, lane = null, outcome = null, reason = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case LanesDiagnostics.RoutingReasonAttribute:
                    reason = tag.Value as string;
                    break;
                case LanesDiagnostics.RoutingServiceAttribute:
                    service = tag.Value as string;
                    break;
                case LanesDiagnostics.LaneAttribute:
                    lane = tag.Value as string;
                    break;
                case LanesDiagnostics.RoutingOutcomeAttribute:
                    outcome = tag.Value as string;
                    break;
            }
        }

        if (service is null || outcome is null)
        {
            return;
        }

        var key = new Key(service, lane ?? string.Empty, outcome);
        if (!_series.TryGetValue(key, out var series))
        {
            series = _series.GetOrAdd(key, static _ => new Series());
        }

        series.Add(Bucket(), value);
        Add(_totals, new TotalKey(service, lane, outcome, reason), value);
    }

    public void RecordRule(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        int? rule = null;
        string? lane = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case LanesDiagnostics.ColouringRuleAttribute:
                    rule = tag.Value as int?;
                    break;
                case LanesDiagnostics.LaneAttribute:
                    lane = tag.Value as string;
                    break;
            }
        }

        if (rule is { } index && lane is not null)
        {
            Add(_ruleHits, (index, lane), value);
        }
    }

    /// <summary>Requests the colouring rule at <paramref name="index"/> gave <paramref name="lane"/>, since the page was mapped.</summary>
    public long RuleHits(int index, string lane) => _ruleHits.TryGetValue((index, lane), out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>The decisions for <paramref name="service"/> since the page was mapped, per lane tag, outcome and reason.</summary>
    public IEnumerable<(string? Lane, string Outcome, string? Reason, long Count)> Totals(string service)
    {
        foreach (var (key, box) in _totals)
        {
            if (string.Equals(key.Service, service, StringComparison.OrdinalIgnoreCase))
            {
                yield return (key.Lane, key.Outcome, key.Reason, Interlocked.Read(ref box.Value));
            }
        }
    }

    private static void Add<TKey>(ConcurrentDictionary<TKey, StrongBox<long>> counts, TKey key, long value)
        where TKey : notnull
    {
        if (!counts.TryGetValue(key, out var box))
        {
            box = counts.GetOrAdd(key, static _ => new StrongBox<long>());
        }

        Interlocked.Add(ref box.Value, value);
    }

    /// <summary>Per service, lane and outcome: the totals of the last minute and five minutes, and the five-minute series, oldest first.</summary>
    public IEnumerable<(string Service, string Lane, string Outcome, long LastMinute, long LastFiveMinutes, long[] Series)> Snapshot()
    {
        var now = Bucket();
        var perMinute = (int)(TimeSpan.FromMinutes(1) / BucketLength);
        foreach (var (key, series) in _series)
        {
            var values = series.Read(now);
            long minute = 0, five = 0;
            for (var i = 0; i < values.Length; i++)
            {
                five += values[i];
                if (i >= values.Length - perMinute)
                {
                    minute += values[i];
                }
            }

            yield return (key.Service, key.Lane, key.Outcome, minute, five, values);
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _listener, null)?.Dispose();

    private long Bucket() => _time.GetUtcNow().UtcTicks / BucketLength.Ticks;

    private readonly record struct Key(string Service, string Lane, string Outcome);

    private readonly record struct TotalKey(string Service, string? Lane, string Outcome, string? Reason);

    /// <summary>A ring of buckets; a bucket is cleared when its slot is reused for a newer period.</summary>
    private sealed class Series
    {
        private readonly long[] _counts = new long[BucketCount];
        private readonly long[] _periods = new long[BucketCount];
        private readonly Lock _roll = new();

        public void Add(long period, long value)
        {
            var slot = (int)(period % BucketCount);
            if (Volatile.Read(ref _periods[slot]) != period)
            {
                lock (_roll)
                {
                    if (_periods[slot] != period)
                    {
                        Volatile.Write(ref _counts[slot], 0);
                        Volatile.Write(ref _periods[slot], period);
                    }
                }
            }

            Interlocked.Add(ref _counts[slot], value);
        }

        public long[] Read(long now)
        {
            var values = new long[BucketCount];
            for (var i = 0; i < BucketCount; i++)
            {
                var period = now - (BucketCount - 1) + i;
                var slot = (int)(period % BucketCount);
                values[i] = Volatile.Read(ref _periods[slot]) == period ? Interlocked.Read(ref _counts[slot]) : 0;
            }

            return values;
        }
    }
}
