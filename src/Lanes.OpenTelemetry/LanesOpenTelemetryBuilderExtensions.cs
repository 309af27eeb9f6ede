using Lanes;
using Lanes.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace OpenTelemetry;

/// <summary>Adds Lanes to an OpenTelemetry set-up in one line.</summary>
public static class LanesOpenTelemetryBuilderExtensions
{
    /// <summary>
    /// Composes <see cref="LaneTextMapPropagator"/> after OpenTelemetry's default propagator when the host starts
    /// (so every OpenTelemetry-instrumented carrier sends the lane header and exactly one <c>baggage</c> lane member),
    /// and adds the <c>Lanes</c> meter to the meter provider when there is one. Requires <c>services.AddLanes()</c>.
    /// </summary>
    /// <example><code>builder.Services.AddLanes(o => o.UsePreset("mspider"));
    /// builder.Services.AddOpenTelemetry().WithLanes().WithTracing(t => t.AddAspNetCoreInstrumentation());</code></example>
    public static T WithLanes<T>(this T builder)
        where T : IOpenTelemetryBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.TryAddSingleton(static sp => new LaneTextMapPropagator(sp.GetService<LanePropagator>()
            ?? throw new InvalidOperationException("WithLanes() needs the Lanes services: call services.AddLanes() as well.")));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LaneTextMapPropagatorInstaller>(static sp =>
            new LaneTextMapPropagatorInstaller(sp.GetRequiredService<LaneTextMapPropagator>())));
        services.ConfigureOpenTelemetryMeterProvider(static metrics => metrics.AddMeter(LanesDiagnostics.MeterName));
        return builder;
    }
}
