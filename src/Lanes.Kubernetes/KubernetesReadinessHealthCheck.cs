using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lanes.Kubernetes;

/// <summary>
/// Readiness of the Kubernetes instance source (docs/behaviour.md, "Kubernetes"): unhealthy until the namespace's
/// Services, Pods and EndpointSlices have each been listed once, so a host is not sent traffic it would answer with
/// "no instance" for want of a list. Starts the lists itself, so the check does not wait for the first call.
/// </summary>
internal sealed class KubernetesReadinessHealthCheck(KubernetesLaneWatches watches) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        watches.Start();
        var missing = watches.NotSynced();
        return Task.FromResult(missing.Count == 0
            ? HealthCheckResult.Healthy("Kubernetes lists read: lane routing knows every instance.")
            : new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Kubernetes lists not read yet: {string.Join(", ", missing)}. Until they are, routed services have no instance (calls answer as for a lane with no instance). Check the API server and the RBAC permissions to list and watch them (log events 404 to 407)."));
    }
}
