using Lanes.Http;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lane propagation for every HttpClient, without touching each registration.</summary>
public static partial class LanesHttpExtensions
{
    /// <summary>
    /// Every client made by <c>IHttpClientFactory</c> (named, typed, and the default) carries the current lane,
    /// through <c>ConfigureHttpClientDefaults</c>. Same behaviour as <c>AddLanePropagation()</c> on each client.
    /// </summary>
    public static ILanesBuilder AddHttpClientFactoryPropagation(this ILanesBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.ConfigureHttpClientDefaults(static http => http.AddLanePropagation());
        return builder;
    }

    /// <summary>
    /// Wraps the runtime's <c>DistributedContextPropagator.Current</c> while the host runs, so HttpClient instances
    /// the application or a third-party SDK creates itself (<c>new HttpClient()</c>) carry the current lane too.
    /// The hook fires only where the runtime's diagnostics handler injects trace context: see the package README
    /// for the exact conditions. Process-wide: install it in one host per process.
    /// </summary>
    public static ILanesBuilder AddDiagnosticsPropagation(this ILanesBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LanePropagatorInstaller>(
            static sp => new LanePropagatorInstaller(GetPropagator(sp))));
        return builder;
    }
}
