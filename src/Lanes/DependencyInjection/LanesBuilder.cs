namespace Microsoft.Extensions.DependencyInjection;

internal sealed class LanesBuilder(IServiceCollection services) : ILanesBuilder
{
    public IServiceCollection Services { get; } = services;
}
