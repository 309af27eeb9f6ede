namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>services.AddLanes()</c>; the Lanes packages hang their options off it.</summary>
public interface ILanesBuilder
{
    /// <summary>The service collection Lanes was added to.</summary>
    IServiceCollection Services { get; }
}
