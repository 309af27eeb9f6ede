using System.Diagnostics.Metrics;
using Lanes;
using Lanes.Routing;
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
    /// (when one is registered), plus anything <c>services.Configure&lt;LaneOptions&gt;()</c> sets. Options are
    /// validated when the host starts; an invalid configuration stops start-up with a message that names the setting
    /// and what to change. A reload of the section applies without a restart (every setting but
    /// <see cref="LaneOptions.TraceCacheSize"/>); an invalid edit is refused, logged with the same message, and the last
    /// good settings stay. Calling it again is harmless.
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
    /// <example><code>services.AddLanes(o => o.UsePreset("mspider"));</code></example>
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
        services.AddOptions<LaneFailoverOptions>().Bind(configuration.GetSection(FailoverSection));
        return new LanesBuilder(services);
    }

    private const string FailoverSection = "Failover";

    private static void AddCore(IServiceCollection services, bool bindDefaultSection = true)
    {
        if (services.Any(static d => d.ServiceType == typeof(LaneSettingsHolder)))
        {
            return;
        }

        var options = services.AddOptions<LaneOptions>();
        if (bindDefaultSection)
        {
            // The "Lanes" section of the application's configuration, when it has one; its reload token drives reloads.
            options.Configure<IServiceProvider>(static (o, sp) => sp.GetService<IConfiguration>()?.GetSection(LaneOptions.SectionName).Bind(o));
            services.AddSingleton<IOptionsChangeTokenSource<LaneOptions>>(static sp => new LaneSectionChangeTokenSource(sp.GetService<IConfiguration>()));

            // Lanes:Failover, read by the routing packages (gateway, HttpClient and gRPC routing) as LaneFailoverOptions.
            services.AddOptions<LaneFailoverOptions>().Configure<IServiceProvider>(static (o, sp) => sp.GetService<IConfiguration>()?.GetSection(LaneOptions.SectionName + ":" + FailoverSection).Bind(o));
            services.AddSingleton<IOptionsChangeTokenSource<LaneFailoverOptions>>(static sp => new ConfigurationChangeTokenSource<LaneFailoverOptions>(
                (IConfiguration?)sp.GetService<IConfiguration>()?.GetSection(LaneOptions.SectionName + ":" + FailoverSection) ?? new ConfigurationBuilder().Build()));
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LaneOptions>, LaneOptionsValidator>());
        services.TryAddSingleton(static sp => new ReloadingSnapshot<LaneOptions, LaneSettings>(
            sp.GetRequiredService<IOptionsFactory<LaneOptions>>(),
            sp.GetServices<IOptionsChangeTokenSource<LaneOptions>>(),
            LaneSettings.Create,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LaneSettings).FullName!),
            LaneOptions.SectionName));
        services.TryAddSingleton(static sp => new LaneSettingsHolder(sp.GetRequiredService<ReloadingSnapshot<LaneOptions, LaneSettings>>()));
        services.TryAddSingleton(static sp => new LaneTraceCache(sp.GetRequiredService<LaneSettingsHolder>().Current.TraceCacheSize));
        services.TryAddSingleton(static sp => new LanesMetrics(sp.GetRequiredService<LaneSettingsHolder>(), sp.GetService<IMeterFactory>(), sp.GetService<TimeProvider>()));
        services.TryAddSingleton(static sp => new LaneResolver(
            sp.GetRequiredService<LaneSettingsHolder>(),
            sp.GetRequiredService<LaneTraceCache>(),
            sp.GetRequiredService<LanesMetrics>(),
            sp.GetRequiredService<ILogger<LaneResolver>>()));
        services.TryAddSingleton(static sp => new LanePropagator(
            sp.GetRequiredService<LaneSettingsHolder>(),
            sp.GetRequiredService<LaneResolver>(),
            sp.GetRequiredService<ILogger<LanePropagator>>()));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new LaneTelemetry(
            sp.GetRequiredService<LanesMetrics>(),
            sp.GetRequiredService<ILogger<LaneTelemetry>>(),
            sp.GetRequiredService<TimeProvider>()));
    }
}

/// <summary>The reload token of the <c>Lanes</c> section of the application's configuration (none without one).</summary>
internal sealed class LaneSectionChangeTokenSource(IConfiguration? configuration) : IOptionsChangeTokenSource<LaneOptions>
{
    public string Name => Options.Options.DefaultName;

    public Microsoft.Extensions.Primitives.IChangeToken GetChangeToken()
        => configuration?.GetSection(LaneOptions.SectionName).GetReloadToken() ?? new Microsoft.Extensions.Primitives.CancellationChangeToken(CancellationToken.None);
}
