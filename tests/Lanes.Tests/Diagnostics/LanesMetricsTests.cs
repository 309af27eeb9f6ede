using Lanes.Testing;

namespace Lanes.Tests.Diagnostics;

public class LanesMetricsTests
{
    private static LanePropagator MSpider(Action<LaneOptions>? configure = null)
    {
        var options = new LaneOptions().UsePreset("mspider");
        configure?.Invoke(options);
        return LanePropagator.Create(options);
    }

    private static LaneResolution Resolve(LanePropagator propagator, params (string Key, string Value)[] headers)
        => propagator.Extract(headers.ToDictionary(static h => h.Key, static h => h.Value), Getters.Dictionary);

    [Fact]
    public void Meter_IsNamedLanes_AndPublishesItsInstruments()
    {
        var propagator = MSpider();
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        Assert.Equal(LanesDiagnostics.MeterName, propagator.Resolver.Metrics.Meter.Name);
        Assert.Contains(LanesDiagnostics.InboundInstrument, recorder.Instruments);
        Assert.Contains(LanesDiagnostics.InvalidInstrument, recorder.Instruments);
        Assert.Contains(LanesDiagnostics.RejectedInstrument, recorder.Instruments);
    }

    [Fact]
    public void Inbound_IsCountedByLaneAndSource()
    {
        var propagator = MSpider();
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        Resolve(propagator, ("x-mspider-lane", "yellow"));
        Resolve(propagator, ("x-mspider-laneid", "yellow"));
        Resolve(propagator, ("baggage", "x-mspider-lane=blue"));
        Resolve(propagator);

        var inbound = recorder.Of(LanesDiagnostics.InboundInstrument).Select(static m => $"{m.Tag("lane.name")}/{m.Tag("lane.source")}").ToArray();
        Assert.Equal(["yellow/header", "yellow/alias", "blue/baggage", "green/default"], inbound);
    }

    [Fact]
    public void Inbound_NoLane_HasNoLaneTag()
    {
        var propagator = LanePropagator.Create(new LaneOptions().UsePreset("nsf"));
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        Resolve(propagator);

        var measurement = Assert.Single(recorder.Of(LanesDiagnostics.InboundInstrument));
        Assert.Null(measurement.Tag("lane.name"));
        Assert.Equal("none", measurement.Tag("lane.source"));
    }

    [Fact]
    public void InvalidValues_AreCountedBySourceAndReason_WithoutTheValue()
    {
        var propagator = MSpider();
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        Resolve(propagator, ("x-mspider-lane", "evil\u0001value"));
        Resolve(propagator, ("x-mspider-laneid", new string('a', 64)));
        Resolve(propagator, ("baggage", "x-mspider-lane=a,x-mspider-lane=b"));

        var invalid = recorder.Of(LanesDiagnostics.InvalidInstrument).Select(static m => $"{m.Tag("lane.source")}/{m.Tag("lane.invalid.reason")}").ToArray();
        Assert.Equal(["header/invalid-character", "alias/too-long", "baggage/ambiguous"], invalid);
        Assert.All(recorder.Measurements, static m => Assert.DoesNotContain(m.Tags.Values, static v => v != null && v.Contains("evil", StringComparison.Ordinal)));
    }

    [Fact]
    public void Rejections_AreCountedByReason()
    {
        var propagator = LanePropagator.Create(new LaneOptions { RequireLane = true }.UsePreset("nsf"));
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        Resolve(propagator);

        var rejected = Assert.Single(recorder.Of(LanesDiagnostics.RejectedInstrument));
        Assert.Equal("missing", rejected.Tag("lane.rejection.reason"));
        Assert.Empty(recorder.Of(LanesDiagnostics.InboundInstrument));
    }

    [Fact]
    public void EveryReasonAndOutcome_IsKebabCase_AsTheFallbackHeader()
    {
        // One spelling everywhere (issue 32): the metric values of every parse status, rejection, outcome and fallback
        // reason are kebab-case, and a fallback reason is the very value of x-lane-fallback and the 503's "reason".
        var propagator = MSpider();
        var metrics = propagator.Resolver.Metrics;
        using var recorder = new MeasurementRecorder(metrics.Meter);
        foreach (var status in Enum.GetValues<Lanes.Parsing.LaneParseStatus>().Where(static s => s != Lanes.Parsing.LaneParseStatus.Valid))
        {
            metrics.Invalid(LaneSource.Header, status);
        }

        foreach (var rejection in Enum.GetValues<LaneRejection>().Where(static r => r != LaneRejection.None))
        {
            metrics.Rejected(rejection);
        }

        foreach (var outcome in Enum.GetValues<Lanes.Routing.LaneRoutingOutcome>())
        {
            foreach (var reason in Enum.GetValues<Lanes.Routing.LaneFallbackReason>())
            {
                metrics.Routed("details", "yellow", outcome, reason);
            }
        }

        var values = recorder.Of(LanesDiagnostics.InvalidInstrument).Select(static m => m.Tag("lane.invalid.reason"))
            .Concat(recorder.Of(LanesDiagnostics.RejectedInstrument).Select(static m => m.Tag("lane.rejection.reason")))
            .Concat(recorder.Of(LanesDiagnostics.RoutedInstrument).Select(static m => m.Tag("lane.routing.outcome")))
            .Concat(recorder.Of(LanesDiagnostics.RoutedInstrument).Select(static m => m.Tag("lane.routing.reason")).Where(static v => v is not null))
            .ToList();
        Assert.Equal(4 + 4 + 3 * 4 + 3 * 3, values.Count);
        Assert.All(values, static v => Assert.Matches("^[a-z]+(-[a-z]+)*$", v));
        Assert.Contains("too-long", values);
        Assert.Contains("unknown-lane", values);
        Assert.Contains("undeclared", values);                           // a gateway's AcceptDeclared drop (issue 42)
        Assert.Contains("no-upstream", values);
        foreach (var reason in Enum.GetValues<Lanes.Routing.LaneFallbackReason>().Where(static r => r != Lanes.Routing.LaneFallbackReason.None))
        {
            Assert.Contains(Lanes.Routing.LaneRoutingNames.Get(reason), values);
            Assert.Equal(System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(reason.ToString()), Lanes.Routing.LaneRoutingNames.Get(reason));
        }
    }

    [Fact]
    public void LaneTag_100000DistinctUnknownLanes_StaysBounded()
    {
        var propagator = MSpider();
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        for (var i = 0; i < 100_000; i++)
        {
            Resolve(propagator, ("x-mspider-lane", "lane-" + i));
        }

        var values = recorder.Of(LanesDiagnostics.InboundInstrument).Select(static m => m.Tag("lane.name")).Distinct().ToList();
        Assert.Equal(100_000, recorder.Of(LanesDiagnostics.InboundInstrument).Count());
        Assert.True(values.Count <= 100 + 1, $"{values.Count} distinct lane tag values");
        Assert.Contains(LanesDiagnostics.OtherLane, values);
        Assert.Contains("lane-0", values);
    }

    [Fact]
    public void LaneTag_WithKnownLanes_ReportsOnlyKnownLanesAndTheDefault()
    {
        var propagator = MSpider(static o =>
        {
            o.KnownLanes.Add("green");
            o.KnownLanes.Add("yellow");
        });
        using var recorder = new MeasurementRecorder(propagator.Resolver.Metrics.Meter);

        Resolve(propagator, ("x-mspider-lane", "yellow"));
        Resolve(propagator, ("x-mspider-lane", "dev3"));
        Resolve(propagator);

        var lanes = recorder.Of(LanesDiagnostics.InboundInstrument).Select(static m => m.Tag("lane.name")).ToArray();
        Assert.Equal(["yellow", "other", "green"], lanes.Select(static l => l ?? "(none)"));
    }
}
