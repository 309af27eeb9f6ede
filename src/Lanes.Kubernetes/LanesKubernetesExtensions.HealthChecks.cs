using Lanes.Kubernetes;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Readiness of the Kubernetes instance source as an ASP.NET Core health check.</summary>
public static partial class LanesKubernetesExtensions
{
    /// <summary>
    /// Adds a health check (name <c>lanes-kubernetes</c>, tag <c>ready</c>) that is unhealthy until the namespace's
    /// Services, Pods and EndpointSlices have been listed once: map it on the readiness endpoint
    /// (<c>app.MapHealthChecks("/ready", new() { Predicate = c =&gt; c.Tags.Contains("ready") })</c>) so the host gets
    /// traffic only once lane routing knows its instances. Requires <c>AddKubernetesServiceEndpoints()</c>.
    /// </summary>
    public static IHealthChecksBuilder AddKubernetesLaneReadiness(this IHealthChecksBuilder builder, string name = "lanes-kubernetes")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => new KubernetesReadinessHealthCheck(sp.GetService<KubernetesLaneWatches>()
                ?? throw new InvalidOperationException("The Kubernetes lane readiness check needs the provider: call services.AddKubernetesServiceEndpoints().")),
            HealthStatus.Unhealthy,
            ["ready"]));
    }
}
