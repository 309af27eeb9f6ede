using BenchmarkDotNet.Attributes;
using Lanes.AspNetCore;
using Lanes.Resolution;
using Microsoft.AspNetCore.Http;

namespace Lanes.Benchmarks;

/// <summary>Resolving the lane of one request from its headers (DESIGN 3). Baseline: reading the header by hand.</summary>
[MemoryDiagnoser]
public class InboundResolutionBenchmarks
{
    private LaneResolver _resolver = null!;
    private IHeaderDictionary _canonical = null!;
    private IHeaderDictionary _alias = null!;
    private IHeaderDictionary _baggage = null!;
    private IHeaderDictionary _none = null!;

    [GlobalSetup]
    public void Setup()
    {
        _resolver = BenchmarkHost.CreatePropagator().Resolver;
        _canonical = new HeaderDictionary { ["x-mspider-lane"] = "yellow", ["accept"] = "*/*" };
        _alias = new HeaderDictionary { ["x-mspider-laneid"] = "yellow", ["accept"] = "*/*" };
        _baggage = new HeaderDictionary { ["baggage"] = "userId=alice,x-mspider-lane=yellow", ["accept"] = "*/*" };
        _none = new HeaderDictionary { ["accept"] = "*/*" };
    }

    [Benchmark(Baseline = true, Description = "read the header by hand")]
    public string? ReadHeaderByHand() => _canonical["x-mspider-lane"].ToString();

    [Benchmark(Description = "canonical header, known lane")]
    public string? Canonical() => Resolve(_canonical);

    [Benchmark(Description = "alias header")]
    public string? Alias() => Resolve(_alias);

    [Benchmark(Description = "baggage only")]
    public string? BaggageOnly() => Resolve(_baggage);

    [Benchmark(Description = "none -> default")]
    public string? NoneToDefault() => Resolve(_none);

    private string? Resolve(IHeaderDictionary headers)
    {
        var reader = new HttpHeadersLaneReader(headers);
        return _resolver.Resolve(ref reader).Lane;
    }
}
