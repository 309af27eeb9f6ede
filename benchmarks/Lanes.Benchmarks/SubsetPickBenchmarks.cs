using BenchmarkDotNet.Attributes;
using Lanes.Routing;

namespace Lanes.Benchmarks;

/// <summary>
/// Picking the subset for a request's lane among N instances spread over 8 lanes (DESIGN 6). Baseline: filtering
/// the instance list by lane on every request, as code without a precomputed subset would.
/// </summary>
[MemoryDiagnoser]
public class SubsetPickBenchmarks
{
    private LaneSubsets<Instance> _subsets = null!;
    private LaneInstance<Instance>[] _instances = null!;

    [Params(10, 100, 1_000, 10_000)]
    public int Instances { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _instances = new LaneInstance<Instance>[Instances];
        for (var i = 0; i < Instances; i++)
        {
            _instances[i] = new LaneInstance<Instance>(new Instance(i), "lane-" + (i % 8), healthy: i % 10 != 0);
        }

        _subsets = new LaneSubsetSettings(LanePolicy.Permissive, null, "lane-0", false).CreateSubsets(_instances);
    }

    [Benchmark(Baseline = true, Description = "filter instances per request")]
    public Instance? FilterPerRequest()
    {
        Instance? first = null;
        var count = 0;
        foreach (var instance in _instances)
        {
            if (instance.Healthy && instance.Lane == "lane-3")
            {
                first ??= instance.Item;
                count++;
            }
        }

        return count == 0 ? null : first;
    }

    [Benchmark(Description = "LaneSubsets.Select (matched lane)")]
    public Instance Select() => _subsets.Select("lane-3").Instances[0];

    [Benchmark(Description = "LaneSubsets.Select (undeclared lane -> baseline)")]
    public Instance SelectFallback() => _subsets.Select("lane-99").Instances[0];

    public sealed record Instance(int Id);
}
