using System.Diagnostics.Metrics;
using Lanes;
using Lanes.Configuration;
using Lanes.Diagnostics;
using Lanes.Resolution;
using Lanes.Tracing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Lanes: options, validation, the resolver and the <see cref="LanePropagator"/>.</summary>
public static class LanesServiceCollectionExtensions
{
    /// <summary>
    /// Adds Lanes, bound from the <c>Lanes</c> section of the application's <see cref="IConfiguration"/>
    /// (when one is registered). Options are validated when the host starts; an invalid configuration stops
    /// start-up with a message that names the setting and what to change. Calling it again is harmless.
    /// </summary>
    public static ILanesBuilder AddLanes(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddCore(services);
        return new LanesBuilder(services);
    }

    /// <summary>
    /// Adds Lanes bound from the <c>Lanes</c> configuration section (when present), then applies
    /// <paramref name="configure"/>, whose values win.
    /// </summary>
    /// <example><code>services.AddLanes(o => o.UsePreset(LanePresets.MSpider));</code></example>
    public static ILanesBuilder AddLanes(this IServiceCollection services, Action<LaneOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services);
        services.Configure(configure);
        return new LanesBuilder(services);
    }

    /// <summary>Adds Lanes bound from <paramref name="configuration"/> (a section shaped like <c>Lanes</c>) instead of the default section.</summary>
    public static ILanesBuilder AddLanes(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services, bindDefaultSection: false);
        services.AddOptions<LaneOptions>().Bind(configuration);
        return new LanesBuilder(services);
    }

    private static void AddCore(IServiceCollection services, bool bindDefaultSection = true)
    {
        if (services.Any(static d => d.ServiceType == typeof(LaneSettings)))
        {
            return;
        }

        var options = services.AddOptions<LaneOptions>();
        if (bindDefaultSection)
        {
            options.Configure<IServiceProvider>(static (o, sp) =>
                sp.GetService<IConfiguration>()?.GetSection(LaneOptions.SectionName).Bind(o));
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LaneOptions>, LaneOptionsValidator>());
        services.TryAddSingleton(static sp => LaneSettings.Create(sp.GetRequiredService<IOptions<LaneOptions>>().Value));
        services.TryAddSingleton(static sp => new LaneTraceCache(sp.GetRequiredService<LaneSettings>().TraceCacheSize));
        services.TryAddSingleton(static sp => new LanesMetrics(sp.GetRequiredService<LaneSettings>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(static sp => new LaneResolver(
            sp.GetRequiredService<LaneSettings>(),
            sp.GetRequiredService<LaneTraceCache>(),
            sp.GetRequiredService<LanesMetrics>(),
            sp.GetRequiredService<ILogger<LaneResolver>>()));
        services.TryAddSingleton(static sp => new LanePropagator(
            sp.GetRequiredService<LaneSettings>(),
            sp.GetRequiredService<LaneResolver>(),
            sp.GetRequiredService<ILogger<LanePropagator>>()));
        services.TryAddSingleton(static sp => new LaneTextMapPropagator(sp.GetRequiredService<LanePropagator>()));
    }
}
