using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Lanes.Testing;

/// <summary>An in-memory <see cref="MeterListener"/> over one Meter instance: records every long measurement with its tags.</summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();

    public MeasurementRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                Instruments.Add(instrument.Name);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            Measurements.Enqueue(new Recorded(instrument.Name, value, tags.ToArray().ToDictionary(static t => t.Key, static t => t.Value?.ToString()))));
        _listener.Start();
    }

    public ConcurrentBag<string> Instruments { get; } = [];

    public ConcurrentQueue<Recorded> Measurements { get; } = new();

    public IEnumerable<Recorded> Of(string instrument) => Measurements.Where(m => m.Instrument == instrument);

    public void Dispose() => _listener.Dispose();

    internal sealed record Recorded(string Instrument, long Value, Dictionary<string, string?> Tags)
    {
        public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;
    }
}
