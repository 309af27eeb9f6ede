using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Lanes.Kubernetes;

/// <summary>Log events of the Kubernetes provider (ids 401–406).</summary>
internal static partial class KubernetesLog
{
    [LoggerMessage(EventId = 401, EventName = "KubernetesWatchFailed", Level = LogLevel.Warning,
        Message = "The {Step} of {Resource} failed; retrying in {Delay}. The last known instances keep serving.")]
    public static partial void WatchFailed(ILogger logger, Exception exception, string resource, string step, TimeSpan delay);

    [LoggerMessage(EventId = 402, EventName = "KubernetesWatchExpired", Level = LogLevel.Information,
        Message = "The watch of {Resource} expired (410 Gone); listing again.")]
    public static partial void Expired(ILogger logger, string resource);

    [LoggerMessage(EventId = 403, EventName = "KubernetesWatchIdle", Level = LogLevel.Warning,
        Message = "The watch of {Resource} was silent for {Timeout}; resuming it.")]
    public static partial void Idle(ILogger logger, string resource, TimeSpan timeout);

    [LoggerMessage(EventId = 404, EventName = "KubernetesPodNotSeen", Level = LogLevel.Warning,
        Message = "Endpoint {Address} of service '{Service}' names pod '{Pod}', not seen within {Timeout}; it serves as unlabelled.")]
    public static partial void PodNotSeen(ILogger logger, string service, string address, string pod, TimeSpan timeout);

    [LoggerMessage(EventId = 405, EventName = "KubernetesInvalidAnnotation", Level = LogLevel.Warning,
        Message = "Service '{Service}': annotation '{Annotation}' has an invalid value '{Value}'; {Consequence}.")]
    public static partial void InvalidAnnotation(ILogger logger, string service, string annotation, string value, string consequence);

    [LoggerMessage(EventId = 406, EventName = "KubernetesNotSynced", Level = LogLevel.Warning,
        Message = "Service '{Service}' was not listed within {Timeout}; it resolves to no instance until the API server answers.")]
    public static partial void NotSynced(ILogger logger, string service, TimeSpan timeout);
}

/// <summary>The meter <c>Lanes.Kubernetes</c>: <c>lanes.kubernetes.watch.restarts</c> by resource kind and reason.</summary>
internal sealed class KubernetesWatchTelemetry : IDisposable
{
    public const string MeterName = "Lanes.Kubernetes";

    private readonly Meter _meter;
    private readonly Counter<long> _restarts;

    public KubernetesWatchTelemetry(IMeterFactory? meters)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _restarts = _meter.CreateCounter<long>(
            "lanes.kubernetes.watch.restarts",
            unit: "{restart}",
            description: "Lists and watches started again: reason expired (410), dropped, idle, list_failed.");
    }

    public void Restarted(string resource, string reason)
    {
        var space = resource.IndexOf(' ', StringComparison.Ordinal);
        _restarts.Add(1, new KeyValuePair<string, object?>("k8s.resource", space < 0 ? resource : resource[..space]), new KeyValuePair<string, object?>("reason", reason));
    }

    public void Dispose() => _meter.Dispose();
}
