using Lanes;
using Lanes.Http;
using Lanes.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lane propagation for one <see cref="IHttpClientBuilder"/> (a named or typed client).</summary>
public static partial class LanesHttpExtensions
{
    /// <summary>
    /// Every request of this client carries the current lane as the canonical header, unless the request sets
    /// that header itself. Requires <c>services.AddLanes()</c>.
    /// </summary>
    /// <example><code>services.AddHttpClient&lt;DetailsClient&gt;(c => c.BaseAddress = new("http://details")).AddLanePropagation();</code></example>
    public static IHttpClientBuilder AddLanePropagation(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddHttpMessageHandler(static sp => new LanePropagationHandler(GetPropagator(sp), sp.GetRequiredService<LaneTelemetry>()));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, LanePropagationOrderFilter>());
        return builder;
    }

    internal static LanePropagator GetPropagator(IServiceProvider services)
        => services.GetService(typeof(LanePropagator)) as LanePropagator
           ?? throw new InvalidOperationException(
               "Lane propagation needs the Lanes services. Call 'services.AddLanes()' in the application startup code; 'AddLanePropagation()' alone is not enough.");
}
