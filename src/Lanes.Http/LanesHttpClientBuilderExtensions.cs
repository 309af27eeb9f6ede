using Lanes;
using Lanes.Routing;
using Microsoft.Extensions.Logging;
using Lanes.Http;
using Lanes.Http.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lane propagation for one <see cref="IHttpClientBuilder"/> (a named or typed client).</summary>
public static class LanesHttpClientBuilderExtensions
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
        return builder;
    }

    /// <summary>
    /// Routes this client's requests by lane without a mesh (DESIGN 8): a request to <c>http://&lt;service&gt;/...</c>,
    /// where the service is listed under <c>Lanes:Services</c> with its instances and their lanes, goes to an instance
    /// of the request's lane under the service's policy; other hosts pass through. A connection failure takes the
    /// instance out for <c>Lanes:PassiveHealthPeriod</c>. Also adds <see cref="AddLanePropagation"/>.
    /// </summary>
    /// <example><code>services.AddHttpClient("details", c => c.BaseAddress = new("http://details")).AddLaneRouting();</code></example>
    public static IHttpClientBuilder AddLaneRouting(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(static sp => new LaneHttpRouter(
            GetPropagator(sp), sp.GetRequiredService<LaneTelemetry>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LaneHttpRouter>>()));
        builder.AddLanePropagation();
        builder.AddHttpMessageHandler(static sp => new LaneRoutingHandler(sp.GetRequiredService<LaneHttpRouter>(), GetPropagator(sp)));
        return builder;
    }

    internal static LanePropagator GetPropagator(IServiceProvider services)
        => services.GetService(typeof(LanePropagator)) as LanePropagator
           ?? throw new InvalidOperationException(
               "Lane propagation needs the Lanes services. Call 'services.AddLanes()' in the application startup code; 'AddLanePropagation()' alone is not enough.");
}
