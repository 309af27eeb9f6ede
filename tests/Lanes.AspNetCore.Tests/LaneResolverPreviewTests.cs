using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.AspNetCore.Tests;

/// <summary><see cref="LaneResolver.PreviewClient{TReader}(ref TReader)"/>: the client's lane as a request would resolve it, with no effect.</summary>
public sealed class LaneResolverPreviewTests
{
    private const string TraceA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private const string TraceB = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public void Preview_ReadsTheTraceCache_NeverFillsIt_AndCountsNoInvalidValue()
    {
        using var provider = new ServiceCollection().AddMetrics().AddLogging()
            .AddLanes(static o => o.UsePreset("mspider")).Services.BuildServiceProvider();
        var resolver = provider.GetRequiredService<LaneResolver>();
        var factory = provider.GetRequiredService<IMeterFactory>();
        var invalid = new ConcurrentQueue<long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == LanesDiagnostics.InvalidInstrument)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => invalid.Enqueue(value));
        listener.Start();

        var previewed = Preview(resolver, ("x-mspider-lane", "yellow"), ("traceparent", TraceA));
        var afterPreview = Client(resolver, ("traceparent", TraceA));
        Client(resolver, ("x-mspider-lane", "yellow"), ("traceparent", TraceB));
        var fromCache = Preview(resolver, ("traceparent", TraceB));
        var invalidPreviewed = Preview(resolver, ("x-mspider-lane", "yel\u0001low"));
        var countedBefore = invalid.Sum();
        Client(resolver, ("x-mspider-lane", "yel\u0001low"));

        Assert.Equal(new LaneResolution("yellow", LaneSource.Header), previewed);
        Assert.Null(afterPreview.Lane);                                       // the preview taught the cache nothing
        Assert.Equal(new LaneResolution("yellow", LaneSource.TraceCache), fromCache);
        Assert.Null(invalidPreviewed.Lane);
        Assert.Equal(0, countedBefore);                                       // the preview counted no invalid value
        Assert.Equal(1, invalid.Sum());                                       // the request did
    }

    private static LaneResolution Preview(LaneResolver resolver, params (string Name, string Value)[] headers)
    {
        var reader = new HttpHeadersLaneReader(Headers(headers));
        return resolver.PreviewClient(ref reader);
    }

    private static LaneResolution Client(LaneResolver resolver, params (string Name, string Value)[] headers)
    {
        var reader = new HttpHeadersLaneReader(Headers(headers));
        return resolver.ResolveClient(ref reader);
    }

    private static HeaderDictionary Headers((string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary[name] = value;
        }

        return dictionary;
    }
}
