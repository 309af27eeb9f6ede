using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Lanes.Kubernetes;

/// <summary>
/// One resource list kept in step with the API server: list, then watch from the list's <c>resourceVersion</c> with
/// bookmarks; a watch the server ends is resumed from the last version seen; <c>410 Gone</c> (the version expired,
/// as an HTTP status or a watch ERROR event) relists and replaces the whole set, so what disappeared meanwhile is
/// removed; a failure reconnects after a doubling delay; a watch silent for <see cref="KubernetesLaneOptions.IdleTimeout"/>
/// is dropped and resumed. Only a projection of each object is kept (<typeparamref name="TItem"/>), so memory is
/// bounded by what the cluster holds for the selector, not by the objects' size.
/// </summary>
internal sealed class Reflector<T, TList, TItem> : IAsyncDisposable
    where T : IKubernetesObject<V1ObjectMeta>
    where TList : IKubernetesObject<V1ListMeta>, IItems<T>
{
    private readonly string _resource;
    private readonly Func<string?, CancellationToken, Task<HttpOperationResponse<TList>>> _list;
    private readonly Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> _watch;
    private readonly Func<T, TItem> _project;
    private readonly KubernetesLaneOptions _options;
    private readonly KubernetesWatchTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private Dictionary<string, TItem> _items = new(StringComparer.Ordinal);
    private Task? _loop;

    /// <param name="resource">What is watched, for logs and metrics (<c>endpointslices svc1</c>).</param>
    /// <param name="list">Lists one page of the resource: from the continue token given (null: the first page), <see cref="KubernetesLaneOptions.ListPageSize"/> items at most.</param>
    /// <param name="watch">
    /// Watches it from the version given, with bookmarks (KubernetesClient's generated <c>WatchList...Async</c>); the
    /// action receives an error of the stream (a line that does not decode, an ERROR event).
    /// </param>
    /// <param name="project">What to keep of an object.</param>
    /// <param name="options">Timeouts and reconnect delays.</param>
    /// <param name="telemetry">Counts restarts.</param>
    /// <param name="logger">Logs failures, expiries and idle watches.</param>
    /// <param name="time">The clock of the reconnect backoff and the idle-watch timeout.</param>
    public Reflector(
        string resource,
        Func<string?, CancellationToken, Task<HttpOperationResponse<TList>>> list,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> watch,
        Func<T, TItem> project,
        KubernetesLaneOptions options,
        KubernetesWatchTelemetry telemetry,
        ILogger logger,
        TimeProvider time)
    {
        _time = time;
        _resource = resource;
        _list = list;
        _watch = watch;
        _project = project;
        _options = options;
        _telemetry = telemetry;
        _logger = logger;
    }

    /// <summary>
    /// Raised on the watch's thread after one object was added, changed or deleted (its name; <see cref="TryGet"/>
    /// gives what is held now). Handlers only note what to rebuild: they run between two events of the stream.
    /// </summary>
    public event Action<string>? ItemChanged;

    /// <summary>Raised on the watch's thread after a list replaced the whole set (the first, or one after 410 Gone).</summary>
    public event Action? Listed;

    /// <summary>The last resource version seen (list, event or bookmark).</summary>
    public string? ResourceVersion { get; private set; }

    public void Start() => _loop ??= Task.Run(RunAsync);

    /// <summary>A copy of the current items with their names.</summary>
    public KeyValuePair<string, TItem>[] Items()
    {
        lock (_lock)
        {
            return [.. _items];
        }
    }

    /// <summary>One item by name (for large sets: a namespace's pods).</summary>
    public bool TryGet(string name, out TItem item)
    {
        lock (_lock)
        {
            return _items.TryGetValue(name, out item!);
        }
    }

    /// <summary>How many items are held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var failures = 0;
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                if (ResourceVersion is null)
                {
                    await ListAsync(token).ConfigureAwait(false);
                }

                await WatchAsync(ResourceVersion!, token).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (GoneException)
            {
                // The version expired while we were away: start over from a fresh list.
                KubernetesLog.Expired(_logger, _resource);
                _telemetry.Restarted(_resource, "expired");
                ResourceVersion = null;
            }
            catch (IdleException)
            {
                KubernetesLog.Idle(_logger, _resource, _options.IdleTimeout);
                _telemetry.Restarted(_resource, "idle");
            }
            catch (BrokenEventException ex)
            {
                // An event that could not be read is lost if the watch goes on past it: start over from a fresh list.
                KubernetesLog.Broken(_logger, ex.InnerException!, _resource);
                _telemetry.Restarted(_resource, "broken");
                ResourceVersion = null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failures++;
                var delay = Backoff(failures);
                KubernetesLog.WatchFailed(_logger, ex, _resource, ResourceVersion is null ? "list" : "watch", delay);
                _telemetry.Restarted(_resource, ResourceVersion is null ? "list_failed" : "dropped");
                try
                {
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="KubernetesLaneOptions.ReconnectDelay"/> doubled per failure in a row, at most
    /// <see cref="KubernetesLaneOptions.MaxReconnectDelay"/>, with equal jitter (half fixed, half random): watches of many
    /// replicas that broke together do not reconnect together. Never more than the doubled delay.
    /// </summary>
    internal static TimeSpan Backoff(KubernetesLaneOptions options, int failures, double random)
    {
        var ticks = Math.Min(options.ReconnectDelay.Ticks * Math.Pow(2, Math.Min(failures - 1, 20)), options.MaxReconnectDelay.Ticks);
        return TimeSpan.FromTicks((long)((ticks / 2) + (ticks / 2 * random)));
    }

    private TimeSpan Backoff(int failures) => Backoff(_options, failures, Random.Shared.NextDouble());

    /// <summary>
    /// Lists the resource page by page (<c>limit</c> and <c>continue</c>, as client-go's pager does), so 20,000 pods do not
    /// arrive in one response; the version is the list's, the same on every page. A continue token that expired (410)
    /// fails the list, which is tried again from the first page after the reconnect delay.
    /// </summary>
    private async Task ListAsync(CancellationToken cancellationToken)
    {
        var items = new Dictionary<string, TItem>(StringComparer.Ordinal);
        string? version = null;
        string? page = null;
        do
        {
            HttpOperationResponse<TList> response;
            try
            {
                response = await _list(page, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                response = new HttpOperationResponse<TList> { Body = default! };  // the namespace does not exist (yet): empty
            }

            using (response)
            {
                page = null;
                if (response.Body is { } list)
                {
                    foreach (var item in list.Items ?? [])
                    {
                        if (item?.Metadata?.Name is { } name)
                        {
                            items[name] = _project(item);
                        }
                    }

                    version = list.Metadata?.ResourceVersion ?? version;
                    page = string.IsNullOrEmpty(list.Metadata?.ContinueProperty) ? null : list.Metadata.ContinueProperty;
                }
            }
        }
        while (page is not null);

        ResourceVersion = version ?? "0";
        lock (_lock)
        {
            _items = items;
        }

        Listed?.Invoke();
    }

    private async Task WatchAsync(string version, CancellationToken stopping)
    {
        // Cancelled when the host stops or, on the injected clock, when the watch has been idle for IdleTimeout.
        using var idle = new CancellationTokenSource(_options.IdleTimeout, _time);
        using var stop = stopping.Register(static state => ((CancellationTokenSource)state!).Cancel(), idle);
        Exception? error = null;
        try
        {
            // An error in the stream (a line that does not decode, an ERROR event) ends this watch at once, before any
            // later event moves the version past what was missed.
            var events = _watch(
                version,
                e =>
                {
                    error ??= e;
                    idle.Cancel();
                },
                idle.Token);
            await foreach (var (type, item) in events.ConfigureAwait(false))
            {
                idle.CancelAfter(_options.IdleTimeout);
                if (item?.Metadata is not { } metadata)
                {
                    throw new BrokenEventException(new InvalidDataException($"A {type} event of {_resource} carries no object metadata."));
                }

                var changed = metadata.Name;
                switch (type)
                {
                    case WatchEventType.Added:
                    case WatchEventType.Modified:
                        Apply(changed, _project(item));
                        break;
                    case WatchEventType.Deleted:
                        Apply(changed, default, remove: true);
                        break;
                    case WatchEventType.Bookmark:
                        changed = null;
                        break;
                    default:
                        continue;
                }

                if (metadata.ResourceVersion is { Length: > 0 } next)
                {
                    ResourceVersion = next;
                }

                if (changed is not null)
                {
                    ItemChanged?.Invoke(changed);
                }
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            if (error is null)
            {
                throw new IdleException();
            }
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.Gone)
        {
            throw new GoneException();
        }
        catch (System.Text.Json.JsonException ex)
        {
            // A line that does not decode: resuming from the last version would read it again; list afresh instead.
            throw new BrokenEventException(ex);
        }

        if (error is KubernetesException { Status.Code: 410 })
        {
            throw new GoneException();
        }

        if (error is not null)
        {
            throw new BrokenEventException(error);
        }
    }

    private void Apply(string? name, TItem? item, bool remove = false)
    {
        if (name is null)
        {
            return;
        }

        lock (_lock)
        {
            if (remove)
            {
                _items.Remove(name);
            }
            else
            {
                _items[name] = item!;
            }
        }
    }

    private sealed class GoneException : Exception
    {
    }

    private sealed class IdleException : Exception
    {
    }

    private sealed class BrokenEventException(Exception inner) : Exception("A watch event could not be read.", inner)
    {
    }
}
