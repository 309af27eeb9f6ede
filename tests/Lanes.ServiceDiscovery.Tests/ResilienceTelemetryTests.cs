using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Telemetry;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Lane routing keeps the local 503 out of the resilience pipeline's log by wrapping <see cref="TelemetryOptions.SeverityProvider"/>:
/// the application's own provider still decides every other call, and still lowers a local 503 further if it wants.
/// </summary>
public sealed class ResilienceTelemetryTests
{
    [Fact]
    public void ApplicationsSeverityProvider_IsKept_AndALocal503IsReportedAtDebugAtMost()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(Fleet.NsfLanes).Build());
        services.AddLanes();
        // The application's provider, registered before Lanes': everything at Error, except None for pipeline "quiet".
        services.Configure<TelemetryOptions>(static o => o.SeverityProvider = static args => args.Source.PipelineName == "quiet" ? ResilienceEventSeverity.None : ResilienceEventSeverity.Error);
        services.AddHttpClient("details").AddLaneRouting();
        using var provider = services.BuildServiceProvider();
        var severity = provider.GetRequiredService<IOptions<TelemetryOptions>>().Value.SeverityProvider!;

        var plain = ResilienceContextPool.Shared.Get();
        var local503 = ResilienceContextPool.Shared.Get();
        local503.Properties.Set(new ResiliencePropertyKey<bool>("Lanes.LocalUnavailable"), true);
        var attempt = new ResilienceEvent(ResilienceEventSeverity.Information, "ExecutionAttempt");

        Assert.Equal(ResilienceEventSeverity.Error, severity(new SeverityProviderArguments(new ResilienceTelemetrySource("standard", null, null), attempt, plain)));
        Assert.Equal(ResilienceEventSeverity.Debug, severity(new SeverityProviderArguments(new ResilienceTelemetrySource("standard", null, null), attempt, local503)));
        Assert.Equal(ResilienceEventSeverity.None, severity(new SeverityProviderArguments(new ResilienceTelemetrySource("quiet", null, null), attempt, local503)));
    }
}
