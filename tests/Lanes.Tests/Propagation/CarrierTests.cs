using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lanes.Configuration;
using Lanes.Resolution;
using Microsoft.Extensions.Primitives;

namespace Lanes.Tests.Propagation;

/// <summary>
/// <c>Lanes:Propagators</c> (docs/polyglot.md): the carriers other languages' tracers forward, read in the configured order
/// and written by the one outbound pipeline, once each.
/// </summary>
public sealed class CarrierTests
{
    private const string All = "header, baggage, tracecontext, jaeger, ottrace";
    private const string TraceParentValue = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    // No trace cache: a lane read under one trace id must not answer for the next test's request with the same id.
    private static readonly LanePropagator Every = LanePropagator.Create(new LaneOptions { Propagators = All, TraceCacheSize = 0 });

    [Fact]
    public void Propagators_DefaultToHeaderAndBaggage_AndFollowEnableBaggage()
    {
        Assert.Equal(LanePropagators.Header | LanePropagators.Baggage, LaneSettings.Create(new LaneOptions()).Propagators);
        Assert.Equal("header, baggage", LaneSettings.Create(new LaneOptions()).PropagatorsText);
        Assert.Equal(LanePropagators.Header, LaneSettings.Create(new LaneOptions { EnableBaggage = false }).Propagators);

        var every = LaneSettings.Create(new LaneOptions { Propagators = " Header,JAEGER , tracecontext,ottrace, baggage" });
        Assert.Equal(LanePropagators.Header | LanePropagators.Baggage | LanePropagators.TraceContext | LanePropagators.Jaeger | LanePropagators.OtTrace, every.Propagators);
        Assert.Equal("header, jaeger, tracecontext, ottrace, baggage", every.PropagatorsText);
        Assert.Equal("uberctx-x-lane", every.JaegerHeader);
        Assert.Equal("ot-baggage-x-lane", every.OtBaggageHeader);
        Assert.Equal("x-lane", every.TraceStateKey);

        var noBaggage = LaneSettings.Create(new LaneOptions { Propagators = "header, jaeger" });
        Assert.Null(noBaggage.BaggageKey);                                   // baggage is neither read nor written
        Assert.Equal("x-lane", noBaggage.CarrierKey);                        // the key of the other carriers
    }

    [Theory]
    [InlineData("header, b3", "Lanes:Propagators names 'b3', which is not a lane carrier")]
    [InlineData("header, jaeger, jaeger", "Lanes:Propagators lists 'jaeger' twice")]
    [InlineData("baggage, jaeger", "Lanes:Propagators has no 'header'")]
    public void Propagators_Invalid_AreRefusedWithTheKeyNamed(string propagators, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => LaneSettings.Create(new LaneOptions { Propagators = propagators }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Propagators_BaggageListedWithBaggageOff_OrATraceStateKeyW3CRefuses_AreRefused()
    {
        var off = Assert.Throws<ArgumentException>(() => LaneSettings.Create(new LaneOptions { EnableBaggage = false, Propagators = "header, baggage" }));
        var key = Assert.Throws<ArgumentException>(() => LaneSettings.Create(new LaneOptions { Header = "x.lane", Propagators = "header, tracecontext" }));
        var fixedKey = LaneSettings.Create(new LaneOptions { Header = "x.lane", BaggageKey = "lane", Propagators = "header, tracecontext" });

        Assert.Contains("Lanes:Propagators lists 'baggage' but Lanes:EnableBaggage is false", off.Message, StringComparison.Ordinal);
        Assert.Contains("'x.lane' is not a W3C tracestate key", key.Message, StringComparison.Ordinal);
        Assert.Equal("lane", fixedKey.TraceStateKey);
    }

    [Theory]
    [InlineData("baggage", "x-lane=yellow", LaneSource.Baggage)]
    [InlineData("tracestate", "congo=t61rcWkgMzE,x-lane=yellow", LaneSource.TraceState)]
    [InlineData("uberctx-x-lane", "yellow", LaneSource.Jaeger)]
    [InlineData("UBERCTX-X-LANE", "%79ellow", LaneSource.Jaeger)]
    [InlineData("ot-baggage-x-lane", "yellow", LaneSource.OtTrace)]
    public void Extract_EachCarrier_ResolvesTheLaneAndNamesItsSource(string field, string value, LaneSource source)
    {
        var resolution = Extract(Every, (field, [value]), ("traceparent", [TraceParentValue]));

        Assert.Equal(new LaneResolution("yellow", source), resolution);
    }

    [Fact]
    public void Extract_ReadsTheHeaderFirst_ThenTheCarriersInTheConfiguredOrder()
    {
        var jaegerFirst = LanePropagator.Create(new LaneOptions { Propagators = "header, jaeger, baggage" });
        var baggageFirst = LanePropagator.Create(new LaneOptions { Propagators = "header, baggage, jaeger" });
        (string, string[])[] carriers = [("baggage", ["x-lane=blue"]), ("uberctx-x-lane", ["red"])];

        Assert.Equal(new LaneResolution("red", LaneSource.Jaeger), Extract(jaegerFirst, carriers));
        Assert.Equal(new LaneResolution("blue", LaneSource.Baggage), Extract(baggageFirst, carriers));
        Assert.Equal(new LaneResolution("green", LaneSource.Header), Extract(jaegerFirst, [.. carriers, ("x-lane", ["green"])]));
    }

    [Fact]
    public void Extract_ACarrierNotConfigured_IsNotRead()
    {
        var defaults = LanePropagator.Create(new LaneOptions());

        Assert.Null(Extract(defaults, ("uberctx-x-lane", ["yellow"])).Lane);
        Assert.Null(Extract(defaults, ("ot-baggage-x-lane", ["yellow"])).Lane);
        Assert.Null(Extract(defaults, ("tracestate", ["x-lane=yellow"]), ("traceparent", [TraceParentValue])).Lane);
    }

    [Theory]
    [InlineData("tracestate", "x-lane=yellow", false)]                       // no traceparent: W3C says not to read tracestate
    [InlineData("tracestate", "x-lane=yellow", true, "00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("tracestate", "x-lane=yellow,x-lane=red", true)]             // one key, two lanes
    [InlineData("tracestate", "x-lane=yel\r\nlow", true)]
    [InlineData("uberctx-x-lane", "%zzyellow", true)]                        // malformed percent-encoding
    [InlineData("uberctx-x-lane", "yel%0D%0Alow", true)]                     // CR/LF, encoded
    [InlineData("uberctx-x-lane", "yellow,red", true)]
    [InlineData("ot-baggage-x-lane", "yellow\r\nx-evil: 1", true)]
    [InlineData("ot-baggage-x-lane", "bad value", true)]
    public void Extract_BadCarrierValues_ResolveNoLane_AndDoNotThrow(string field, string value, bool withTraceParent, string traceParent = TraceParentValue)
    {
        var resolution = withTraceParent
            ? Extract(Every, (field, [value]), ("traceparent", [traceParent]))
            : Extract(Every, (field, [value]));

        Assert.Null(resolution.Lane);
        Assert.False(resolution.IsRejected);
    }

    [Fact]
    public void Extract_RepeatedCarrierHeaders_AgreeingAreOneLane_DisagreeingAreNone()
    {
        Assert.Equal("yellow", Extract(Every, ("uberctx-x-lane", ["yellow", "%79ellow"])).Lane);
        Assert.Null(Extract(Every, ("uberctx-x-lane", ["yellow", "red"])).Lane);
        Assert.Null(Extract(Every, ("ot-baggage-x-lane", ["yellow", "red"])).Lane);
        Assert.Equal("yellow", Extract(Every, ("tracestate", ["a=1", "x-lane=yellow"]), ("traceparent", [TraceParentValue])).Lane);
    }

    [Fact]
    public void Extract_HugeCarrierValues_ResolveNoLane()
    {
        var huge = new string('y', 10_000);
        var hugeList = string.Join(',', Enumerable.Range(0, 900).Select(static i => $"k{i}=v{i}")) + ",x-lane=yellow";

        Assert.Null(Extract(Every, ("uberctx-x-lane", [huge])).Lane);
        Assert.Null(Extract(Every, ("ot-baggage-x-lane", [huge])).Lane);
        Assert.Null(Extract(Every, ("tracestate", ["x-lane=" + huge]), ("traceparent", [TraceParentValue])).Lane);
        Assert.True(hugeList.Length > 8192);
        Assert.Null(Extract(Every, ("tracestate", [hugeList]), ("traceparent", [TraceParentValue])).Lane);
    }

    [Fact]
    public void Extract_InvalidCarrierValue_UnderRejectPolicy_IsRejected()
    {
        var strict = LanePropagator.Create(new LaneOptions { Propagators = All, InvalidLanePolicy = InvalidLanePolicy.Reject });

        Assert.Equal(LaneRejection.InvalidValue, Extract(strict, ("uberctx-x-lane", ["%zz"])).Rejection);
    }

    [Fact]
    public void Extract_ACarrierThatDisagreesWithTheWinner_IsCounted_AndTheWinnerStands()
    {
        var propagator = LanePropagator.Create(new LaneOptions { Propagators = All });
        var meter = propagator.Resolver.Metrics.Meter;
        var conflicts = new ConcurrentQueue<(string? Source, string? Carrier)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == LanesDiagnostics.CarrierConflictsInstrument)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? source = null, carrier = null;
            foreach (var tag in tags)
            {
                source = tag.Key == LanesDiagnostics.LaneSourceAttribute ? (string?)tag.Value : source;
                carrier = tag.Key == LanesDiagnostics.LaneCarrierAttribute ? (string?)tag.Value : carrier;
            }

            conflicts.Enqueue((source, carrier));
        });
        listener.Start();

        var agreeing = Extract(propagator, ("x-lane", ["yellow"]), ("uberctx-x-lane", ["yellow"]), ("baggage", ["x-lane=yellow"]));
        var disagreeing = Extract(propagator, ("x-lane", ["yellow"]), ("uberctx-x-lane", ["red"]), ("ot-baggage-x-lane", ["yellow"]));

        Assert.Equal(new LaneResolution("yellow", LaneSource.Header), agreeing);
        Assert.Equal(new LaneResolution("yellow", LaneSource.Header), disagreeing);
        Assert.Equal([("header", "jaeger")], conflicts.ToArray());
    }

    [Fact]
    public void Inject_EveryConfiguredCarrier_OnceEach_TraceStateLeftmost_WithTheOtSpanContext()
    {
        using var activity = StartActivity("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
        var carrier = new MultiCarrier();

        using (LaneContext.Begin("yellow"))
        {
            var wrapped = new Ref(carrier);
            Every.InjectCall(ref wrapped);
            Every.InjectCall(ref wrapped);                                   // a second step of the same call changes nothing
        }

        Assert.Equal(["yellow"], carrier["x-lane"]);
        Assert.Equal(["x-lane=yellow"], carrier["baggage"]);
        Assert.Equal(["x-lane=yellow,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"], carrier["tracestate"]);
        Assert.Equal(["yellow"], carrier["uberctx-x-lane"]);
        Assert.Equal(["yellow"], carrier["ot-baggage-x-lane"]);
        Assert.Equal([activity.TraceId.ToHexString()[16..]], carrier["ot-tracer-traceid"]);
        Assert.Equal([activity.SpanId.ToHexString()], carrier["ot-tracer-spanid"]);
        Assert.Equal(["true"], carrier["ot-tracer-sampled"]);
    }

    [Fact]
    public void Inject_DefaultCarriers_WriteNoOtherCarrier()
    {
        using var activity = StartActivity("congo=t61rcWkgMzE");
        var carrier = new MultiCarrier();

        using (LaneContext.Begin("yellow"))
        {
            var wrapped = new Ref(carrier);
            LanePropagator.Create(new LaneOptions()).InjectCall(ref wrapped);
        }

        Assert.Equal(["baggage", "x-lane"], carrier.Names);
    }

    [Fact]
    public void Inject_WithoutATraceContext_WritesNoTraceState_AndNoOtSpanContext()
    {
        Activity.Current = null;
        var carrier = new MultiCarrier();

        using (LaneContext.Begin("yellow"))
        {
            var wrapped = new Ref(carrier);
            Every.InjectCall(ref wrapped);
        }

        Assert.Equal(["baggage", "ot-baggage-x-lane", "uberctx-x-lane", "x-lane"], carrier.Names);
    }

    [Fact]
    public void Inject_TraceState_ReplacesAClientMember_KeepsTheOthersInOrder_At32Members()
    {
        using var activity = StartActivity(null);
        var members = Enumerable.Range(0, 31).Select(static i => $"k{i}=v{i}").ToList();
        members.Insert(5, "x-lane=red");                                       // 32 members: a full, valid list
        var carrier = new MultiCarrier { ["tracestate"] = [string.Join(" , ", members[..20]), string.Join(',', members[20..])] };

        using (LaneContext.Begin("yellow"))
        {
            var wrapped = new Ref(carrier);
            Every.InjectCall(ref wrapped);
        }

        var written = Assert.Single(carrier["tracestate"]).Split(',');
        Assert.Equal(32, written.Length);
        Assert.Equal("x-lane=yellow", written[0]);
        Assert.Equal(Enumerable.Range(0, 31).Select(static i => $"k{i}=v{i}"), written[1..]);
    }

    [Theory]
    [InlineData("a=1,BAD KEY=1,b=2")]
    [InlineData("a=1,ok=bad=value")]
    [InlineData("@foo=1,bar=2")]
    public void Inject_TraceState_AnInvalidList_IsDiscardedWhole_AndTheLaneMemberGoesAlone(string list)
    {
        using var activity = StartActivity(null);
        var carrier = new MultiCarrier { ["tracestate"] = [list] };

        using (LaneContext.Begin("yellow"))
        {
            var wrapped = new Ref(carrier);
            Every.InjectCall(ref wrapped);
        }

        Assert.Equal(["x-lane=yellow"], carrier["tracestate"]);
    }

    [Theory]
    [InlineData("x-lane", true)]
    [InlineData("0lane", true)]
    [InlineData("foo@", true)]
    [InlineData("tenant@system", true)]
    [InlineData("X-Lane", false)]
    [InlineData("x.lane", false)]
    [InlineData("@foo", false)]
    [InlineData("", false)]
    public void TraceStateKeys_FollowTheW3CGrammar(string key, bool valid)
    {
        Assert.Equal(valid, Lanes.W3C.TraceState.IsValidKey(key));
        Assert.True(Lanes.W3C.TraceState.IsValidKey(new string('z', 256)));
        Assert.False(Lanes.W3C.TraceState.IsValidKey(new string('z', 257)));
    }

    [Fact]
    public void Inject_NoLane_RemovesTheLaneFromEveryCarrierTheCallHolds_AndKeepsTheRest()
    {
        using var activity = StartActivity("x-lane=red,congo=t61rcWkgMzE");
        var carrier = new MultiCarrier
        {
            ["uberctx-x-lane"] = ["red"],
            ["uberctx-user"] = ["alice"],
            ["ot-baggage-x-lane"] = ["red"],
        };

        var wrapped = new Ref(carrier);
            Every.InjectCall(ref wrapped);

        Assert.Equal(["congo=t61rcWkgMzE"], carrier["tracestate"]);          // the Activity's list without the lane member
        Assert.Equal(["alice"], carrier["uberctx-user"]);
        Assert.False(carrier.ContainsKey("uberctx-x-lane"));
        Assert.False(carrier.ContainsKey("ot-baggage-x-lane"));
        Assert.False(carrier.ContainsKey("x-lane"));
    }

    [Fact]
    public void Inject_ThroughAnOpenTelemetryContext_WritesTraceStateFromThatContext()
    {
        Activity.Current = null;
        var context = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, "rojo=1");
        var carrier = new Dictionary<string, string>();

        using (LaneContext.Begin("yellow"))
        {
            new LaneTextMapPropagator(Every).Inject(new global::OpenTelemetry.Context.Propagation.PropagationContext(context, default), carrier, Getters.DictionarySetter);
        }

        Assert.Equal("x-lane=yellow,rojo=1", carrier["tracestate"]);
        Assert.Equal("false", carrier["ot-tracer-sampled"]);
        Assert.Equal(context.SpanId.ToHexString(), carrier["ot-tracer-spanid"]);
    }

    [Fact]
    public void RemoveClientLane_RemovesTheLaneFromEveryKnownCarrier_ConfiguredOrNot()
    {
        var headerOnly = LanePropagator.Create(new LaneOptions { Propagators = "header", EnableBaggage = false, Aliases = { "x-lane-id" } });
        using var activity = StartActivity("x-lane=red,congo=t61rcWkgMzE");
        activity.SetBaggage("x-lane", "red");
        activity.SetBaggage("user", "alice");
        var carrier = new MultiCarrier
        {
            ["x-lane"] = ["red"],
            ["x-lane-id"] = ["red"],
            ["baggage"] = ["user=alice,x-lane=red;p=1"],
            ["tracestate"] = ["x-lane=red,congo=t61rcWkgMzE"],
            ["uberctx-x-lane"] = ["red"],
            ["ot-baggage-x-lane"] = ["red"],
            ["uberctx-user"] = ["alice"],
        };

        var wrapped = new Ref(carrier);
        headerOnly.RemoveClientLane(ref wrapped, activity);

        Assert.Equal(["baggage", "tracestate", "uberctx-user"], carrier.Names);
        Assert.Equal(["user=alice"], carrier["baggage"]);
        Assert.Equal(["congo=t61rcWkgMzE"], carrier["tracestate"]);
        Assert.Equal("congo=t61rcWkgMzE", activity.TraceStateString);
        Assert.Null(activity.GetBaggageItem("x-lane"));
        Assert.Equal("alice", activity.GetBaggageItem("user"));
    }

    [Fact]
    public void Fields_NameEveryConfiguredCarrier()
    {
        Assert.Equal(["x-lane", "baggage", "tracestate", "uberctx-x-lane", "ot-baggage-x-lane", "traceparent"], Every.Fields);
        Assert.Equal(["x-lane", "uberctx-x-lane", "traceparent"], LanePropagator.Create(new LaneOptions { Propagators = "header, jaeger" }).Fields);
    }

    private static Activity StartActivity(string? traceState)
    {
        Activity.Current = null;
        var activity = new Activity("carrier-test");
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        activity.TraceStateString = traceState;
        return activity.Start();
    }

    private static LaneResolution Extract(LanePropagator propagator, params (string Name, string[] Values)[] fields)
    {
        var carrier = new MultiCarrier();
        foreach (var (name, values) in fields)
        {
            carrier[name] = [.. values];
        }

        return propagator.Extract(carrier, static (c, name) => c.TryGetValue(name, out var values) ? values : null);
    }

    private readonly struct Ref(MultiCarrier carrier) : ILaneCarrier
    {
        public StringValues GetValues(string name) => carrier.GetValues(name);

        public void SetValue(string name, string value) => carrier.SetValue(name, value);

        public void Remove(string name) => carrier.Remove(name);
    }

    /// <summary>A case-insensitive multi-valued carrier whose set appends, as HTTP headers do: a second writer would show.</summary>
    private sealed class MultiCarrier : Dictionary<string, List<string>>
    {
        public MultiCarrier()
            : base(StringComparer.OrdinalIgnoreCase)
        {
        }

        public IEnumerable<string> Names => Keys.Order(StringComparer.Ordinal);

        public StringValues GetValues(string name) => TryGetValue(name, out var values) ? new StringValues([.. values]) : StringValues.Empty;

        public void SetValue(string name, string value)
        {
            if (!TryGetValue(name, out var values))
            {
                this[name] = values = [];
            }

            values.Add(value);
        }

    }
}
