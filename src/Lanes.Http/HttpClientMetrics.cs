using System.Diagnostics.Metrics;

namespace Lanes.Http;

/// <summary>
/// Whether anyone collects HttpClient's <c>http.client.request.duration</c>: the lane enrichment callback costs an
/// allocation per request, so it is registered only then. A listener that enables nothing watches the instrument
/// being published and reads its <see cref="Instrument.Enabled"/>. HttpClient publishes it on the first request of its
/// meter factory (per DI container), after this check: that one request goes without the lane. The last
/// <see cref="Limit"/> instruments are kept (a disposed meter's instrument reads as disabled).
/// </summary>
internal static class HttpClientMetrics
{
    internal const int Limit = 16;
    private const string MeterName = "System.Net.Http";
    private const string DurationInstrument = "http.client.request.duration";

    private static readonly Lock s_lock = new();
    private static volatile Instrument[] s_instruments = [];
    private static readonly MeterListener s_listener = Start();

    public static bool DurationEnabled
    {
        get
        {
            GC.KeepAlive(s_listener);
            foreach (var instrument in s_instruments)
            {
                if (instrument.Enabled)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static MeterListener Start()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = static (instrument, _) =>
            {
                if (instrument.Meter.Name == MeterName && instrument.Name == DurationInstrument)
                {
                    lock (s_lock)
                    {
                        var current = s_instruments;
                        var skip = current.Length >= Limit ? current.Length - Limit + 1 : 0;
                        s_instruments = [.. current.AsSpan(skip), instrument];
                    }
                }
            },
        };
        listener.Start();
        return listener;
    }
}
