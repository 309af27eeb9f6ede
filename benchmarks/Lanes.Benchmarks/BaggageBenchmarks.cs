using BenchmarkDotNet.Attributes;
using Lanes.W3C;
using Microsoft.Extensions.Primitives;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Lanes.Benchmarks;

/// <summary>
/// W3C baggage: finding the lane member in an incoming header, and writing an outgoing header with the lane member
/// merged with four others. Baseline: OpenTelemetry's <c>BaggagePropagator</c> (what an OpenTelemetry app already runs).
/// </summary>
[MemoryDiagnoser]
public class BaggageBenchmarks
{
    private const string Header = "userId=alice,tenant=acme,x-mspider-lane=yellow,session=4f2a9c,region=eu-west-1";

    private static readonly Func<Dictionary<string, string>, string, IEnumerable<string>?> s_getter =
        static (carrier, key) => carrier.TryGetValue(key, out var value) ? [value] : null;

    private static readonly Action<Dictionary<string, string>, string, string> s_setter = static (carrier, key, value) => carrier[key] = value;

    private readonly BaggagePropagator _otel = new();
    private readonly Dictionary<string, string> _incoming = new() { ["baggage"] = Header };
    private readonly StringValues _incomingValues = Header;
    private Baggage _others;
    private PropagationContext _outgoing;

    [GlobalSetup]
    public void Setup()
    {
        _others = Baggage.Create(new Dictionary<string, string>
        {
            ["userId"] = "alice",
            ["tenant"] = "acme",
            ["session"] = "4f2a9c",
            ["region"] = "eu-west-1",
        });
        _outgoing = new PropagationContext(default, Baggage.Create(new Dictionary<string, string>
        {
            ["x-mspider-lane"] = "yellow",
            ["userId"] = "alice",
            ["tenant"] = "acme",
            ["session"] = "4f2a9c",
            ["region"] = "eu-west-1",
        }));
    }

    [Benchmark(Baseline = true, Description = "parse: OpenTelemetry BaggagePropagator.Extract")]
    [BenchmarkCategory("parse")]
    public string? ParseOpenTelemetry()
        => _otel.Extract(default, _incoming, s_getter).Baggage.GetBaggage("x-mspider-lane");

    [Benchmark(Description = "parse: Lanes BaggageParser.Find")]
    [BenchmarkCategory("parse")]
    public string? ParseLanes()
    {
        BaggageParser.Find(_incomingValues, "x-mspider-lane", out var value);
        return value;
    }

    [Benchmark(Description = "serialise: OpenTelemetry BaggagePropagator.Inject")]
    [BenchmarkCategory("serialise")]
    public string SerialiseOpenTelemetry()
    {
        var carrier = new Dictionary<string, string>(1);
        _otel.Inject(_outgoing, carrier, s_setter);
        return carrier["baggage"];
    }

    [Benchmark(Description = "serialise: Lanes OutboundBaggage.Build")]
    [BenchmarkCategory("serialise")]
    public string? SerialiseLanes() => OutboundBaggage.Build("x-mspider-lane", "yellow", StringValues.Empty, frame: null, _others, runtimeOutput: null, maxLength: 63);
}
