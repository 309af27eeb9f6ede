using System.Diagnostics;

namespace Lanes.W3C;

/// <summary>Implemented by a Lanes <see cref="DistributedContextPropagator"/> that wraps the runtime's, so core can reach the original.</summary>
internal interface IWrappingPropagator
{
    DistributedContextPropagator Inner { get; }
}
