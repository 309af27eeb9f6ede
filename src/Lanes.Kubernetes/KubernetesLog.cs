using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Lanes.Kubernetes;

/// <summary>Log events of the Kubernetes provider (ids 401–408).</summary>
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
        Message = "Endpoint {Address} of service '{Service}' names pod '{Pod}', not seen within {Timeout}; its lane is unknown, so it stays out of routing until the pod arrives. Check that the provider may get, list and watch pods in the namespace (RBAC).")]
    public static partial void PodNotSeen(ILogger logger, string service, string address, string pod, TimeSpan timeout);

    [LoggerMessage(EventId = 405, EventName = "KubernetesInvalidAnnotation", Level = LogLevel.Warning,
        Message = "Service '{Service}': annotation '{Annotation}' has an invalid value '{Value}'; {Consequence}.")]
    public static partial void InvalidAnnotation(ILogger logger, string service, string annotation, string value, string consequence);

    [LoggerMessage(EventId = 406, EventName = "KubernetesNotSynced", Level = LogLevel.Warning,
        Message = "Service '{Service}' was not listed within {Timeout}; it is not ready (no instance, no fallback to its name) until the API server answers.")]
    public static partial void NotSynced(ILogger logger, string service, TimeSpan timeout);

    [LoggerMessage(EventId = 407, EventName = "KubernetesWatchBroken", Level = LogLevel.Warning,
        Message = "The watch of {Resource} delivered an event that could not be read; listing again so that no change is missed.")]
    public static partial void Broken(ILogger logger, Exception exception, string resource);

    [LoggerMessage(EventId = 408, EventName = "KubernetesRebuildFailed", Level = LogLevel.Error,
        Message = "Rebuilding service '{Service}' from the watched lists failed; its last instances keep serving until the next change rebuilds it.")]
    public static partial void RebuildFailed(ILogger logger, Exception exception, string service);
}

/// <summary>
/// <c>lanes.kubernetes.watch.restarts</c> on the <c>Lanes</c> meter (so <c>WithLanes()</c> and
/// <c>AddMeter(LanesDiagnostics.MeterName)</c> collect it): attributes <c>lane.kubernetes.resource</c> (<c>pods</c>,
/// <c>services</c>, <c>endpointslices</c>) and <c>lane.kubernetes.restart.reason</c> (<c>expired</c>, <c>dropped</c>,
/// <c>idle</c>, <c>list_failed</c>, <c>broken</c>).
/// </summary>
internal sealed class KubernetesWatchTelemetry : IDisposable
{
    public const string RestartsInstrument = "lanes.kubernetes.watch.restarts";

    public const string RebuildsInstrument = "lanes.kubernetes.rebuilds";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _rebuilds;

    public KubernetesWatchTelemetry(IMeterFactory? meters)
    {
        _ownsMeter = meters is null;
        _meter = meters?.Create(new MeterOptions(LanesDiagnostics.MeterName)) ?? new Meter(LanesDiagnostics.MeterName);
        _restarts = _meter.CreateCounter<long>(
            RestartsInstrument,
            unit: "{restart}",
            description: "Lists and watches of the Kubernetes API started again, by reason.");
        _rebuilds = _meter.CreateCounter<long>(
            RebuildsInstrument,
            unit: "{rebuild}",
            description: "Services' instance views rebuilt from the watched lists (a burst of changes to one service is one rebuild).");
    }

    public void Rebuilt() => _rebuilds.Add(1);

    public void Restarted(string resource, string reason)
    {
        var space = resource.IndexOf(' ', StringComparison.Ordinal);
        _restarts.Add(
            1,
            new KeyValuePair<string, object?>("lane.kubernetes.resource", space < 0 ? resource : resource[..space]),
            new KeyValuePair<string, object?>("lane.kubernetes.restart.reason", reason));
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();                                     // a factory's meter is the factory's to dispose
        }
    }
}
