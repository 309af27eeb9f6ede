namespace Lanes.Testing;

/// <summary>Tests that touch <c>DistributedContextPropagator.Current</c>, which is process-wide, run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideHookGroup
{
    public const string Name = "DistributedContextPropagator.Current is process-wide";
}
