using Lanes.Testing;

namespace Lanes.Kubernetes.Tests;

/// <summary>Waits on the fake API server, kept apart from it so the scale benchmark can compile the server alone.</summary>
internal static class FakeKubernetesWaits
{
    /// <summary>Waits until a watch of <paramref name="kind"/> is open (events and bookmarks reach only open watches).</summary>
    public static Task WaitForWatchAsync(this FakeKubernetes api, string kind)
        => Wait.UntilAsync(
            () => api.HasWatch(kind),
            $"a {kind} watch to open",
            () => string.Join(", ", api.Requests.Select(static r => $"{r.Kind} {(r.Watch ? "watch" : "list")}")));
}
