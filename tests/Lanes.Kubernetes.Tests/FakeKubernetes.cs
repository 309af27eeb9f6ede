using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Lanes.Kubernetes.Tests;

/// <summary>
/// A Kubernetes API server for tests: Kestrel on loopback serving list and watch for Services, Pods and
/// EndpointSlices in one namespace, as the real one does (JSON lists with a resourceVersion; watches as chunked
/// newline-delimited JSON events from a version, with bookmarks when asked). Scripted by the test: apply, delete,
/// bookmark, expire (410 Gone, as a watch ERROR event and for every resume from an older version), drop every watch
/// connection, go silent (hold watches open and deliver nothing), refuse watches for a while. It records every request.
/// </summary>
internal sealed class FakeKubernetes : IAsyncDisposable
{
    public const string Namespace = "default";

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Kind, string Name), JsonObject> _objects = [];
    private readonly List<Event> _log = [];
    private readonly List<Watch> _watches = [];
    private readonly List<Request> _requests = [];
    private long _version = 100;
    private long _compactedBelow;
    private RunningServer _server = null!;

    public Uri Address => _server.Address;

    /// <summary>When set, open watches receive nothing (a connection that went quiet) until it is cleared.</summary>
    public bool Silent { get; set; }

    /// <summary>When set, open watches receive a line that does not decode instead of each event (a list still tells the truth).</summary>
    public bool Garbling { get; set; }

    /// <summary>When set, new list and watch requests get 503.</summary>
    public bool Refusing { get; set; }

    public IReadOnlyList<Request> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    public long Version
    {
        get
        {
            lock (_lock)
            {
                return _version;
            }
        }
    }

    public static async Task<FakeKubernetes> StartAsync()
    {
        var fake = new FakeKubernetes();
        fake._server = await TestServers.StartAsync(null, app =>
        {
            app.MapGet("/api/v1/namespaces/{ns}/pods", (HttpContext c) => fake.ServeAsync(c, "Pod"));
            app.MapGet("/api/v1/namespaces/{ns}/services", (HttpContext c) => fake.ServeAsync(c, "Service"));
            app.MapGet("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", (HttpContext c) => fake.ServeAsync(c, "EndpointSlice"));
        });
        return fake;
    }

    /// <summary>A kubeconfig file naming this server, namespace <see cref="Namespace"/>, for <c>KUBECONFIG</c>.</summary>
    public string WriteKubeconfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {Address.ToString().TrimEnd('/')}
            users:
            - name: tester
              user:
                token: test
            contexts:
            - name: fake
              context:
                cluster: fake
                user: tester
                namespace: {Namespace}
            current-context: fake
            """);
        return path;
    }

    /// <summary>Creates or replaces an object (any of the three kinds); returns its new resourceVersion.</summary>
    public long Apply(IKubernetesObject<V1ObjectMeta> item)
    {
        var json = JsonNode.Parse(KubernetesJson.Serialize(item))!.AsObject();
        var kind = (string)json["kind"]!;
        var name = item.Metadata.Name;
        lock (_lock)
        {
            var version = ++_version;
            json["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            var previous = _objects.GetValueOrDefault((kind, name));
            var type = previous is not null ? "MODIFIED" : "ADDED";
            _objects[(kind, name)] = json;
            Publish(new Event(version, type, kind, json), previous);
            return version;
        }
    }

    public long Delete(string kind, string name)
    {
        lock (_lock)
        {
            var version = ++_version;
            if (_objects.Remove((kind, name), out var json))
            {
                json = (JsonObject)json.DeepClone();
                json["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
                Publish(new Event(version, "DELETED", kind, json));
            }

            return version;
        }
    }

    /// <summary>Whether a watch of <paramref name="kind"/> is open (events and bookmarks reach only open watches).</summary>
    public bool HasWatch(string kind)
    {
        lock (_lock)
        {
            return _watches.Any(w => w.Kind == kind);
        }
    }

    /// <summary>Moves the version on without a change any watcher sees (another object in the cluster changed).</summary>
    public long Advance(int by = 1)
    {
        lock (_lock)
        {
            return _version += by;
        }
    }

    /// <summary>Sends a BOOKMARK at the current version to every watch that asked for bookmarks.</summary>
    public long Bookmark()
    {
        lock (_lock)
        {
            foreach (var watch in _watches.Where(static w => w.Bookmarks))
            {
                var json = new JsonObject
                {
                    ["kind"] = watch.Kind,
                    ["apiVersion"] = ApiVersion(watch.Kind),
                    ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture) },
                };
                watch.Lines.Writer.TryWrite(Line("BOOKMARK", json));
            }

            return _version;
        }
    }

    /// <summary>
    /// Forgets history up to now: open watches get an ERROR event with 410 Gone and are closed, and any watch from an
    /// older version is answered the same way, so the client must list again.
    /// </summary>
    public void Expire()
    {
        lock (_lock)
        {
            _compactedBelow = _version + 1;
            foreach (var watch in _watches)
            {
                watch.Lines.Writer.TryWrite(GoneLine());
                watch.Lines.Writer.TryComplete();
            }
        }
    }

    /// <summary>Aborts every open watch connection (a network failure, not a clean end).</summary>
    /// <summary>
    /// Ends every open watch after the lines already written to it, as the API server does when a watch's timeout runs
    /// out: the client reads all of them (a bookmark too) before it sees the end, so no wait is needed for "delivered".
    /// </summary>
    public void EndWatches()
    {
        lock (_lock)
        {
            foreach (var watch in _watches)
            {
                watch.Lines.Writer.TryComplete();
            }
        }
    }

    public void DropConnections()
    {
        lock (_lock)
        {
            foreach (var watch in _watches)
            {
                watch.Context.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            foreach (var watch in _watches)
            {
                watch.Lines.Writer.TryComplete();
            }
        }

        await _server.DisposeAsync();
    }

    private static string ApiVersion(string kind) => kind == "EndpointSlice" ? "discovery.k8s.io/v1" : "v1";

    private static string Line(string type, JsonObject json) => new JsonObject { ["type"] = type, ["object"] = json.DeepClone() }.ToJsonString() + "\n";

    private static string GoneLine() => Line("ERROR", new JsonObject
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = "too old resource version",
        ["reason"] = "Expired",
        ["code"] = 410,
    });

    private static Func<JsonObject, bool> Filter(HttpRequest request)
    {
        var label = request.Query["labelSelector"].ToString();
        var field = request.Query["fieldSelector"].ToString();
        return json =>
        {
            if (label.Length > 0)
            {
                // "key=value", or "key" alone: the label exists (the two forms the provider uses).
                var labels = json["metadata"]?["labels"] as JsonObject;
                if (!label.Contains('=', StringComparison.Ordinal))
                {
                    if (labels is null || !labels.ContainsKey(label))
                    {
                        return false;
                    }
                }
                else
                {
                    var (key, value) = Split(label);
                    if ((string?)labels?[key] != value)
                    {
                        return false;
                    }
                }
            }

            if (field.Length > 0)
            {
                var (key, value) = Split(field);
                if (key != "metadata.name" || (string?)json["metadata"]?["name"] != value)
                {
                    return false;
                }
            }

            return true;
        };

        static (string, string) Split(string selector)
        {
            var at = selector.IndexOf('=', StringComparison.Ordinal);
            return (selector[..at], selector[(at + 1)..]);
        }
    }

    private void Publish(Event e, JsonObject? previous = null)
    {
        _log.Add(e);
        foreach (var watch in _watches.Where(w => w.Kind == e.Kind))
        {
            // As the API server's watch cache does for a selector: an object that starts matching is ADDED, one that
            // stops matching is DELETED, one that matches neither before nor after is not sent.
            var now = watch.Filter(e.Object);
            var before = previous is not null && watch.Filter(previous);
            var type = now ? (before || e.Type != "MODIFIED" ? e.Type : "ADDED") : before ? "DELETED" : null;
            if (type is not null && !Silent)
            {
                watch.Lines.Writer.TryWrite(Garbling ? "{\"type\":\"MODIFIED\",\"object\":{\"metadata\": [not json\n" : Line(type, e.Object));
            }
        }
    }

    private async Task ServeAsync(HttpContext context, string kind)
    {
        var request = context.Request;
        var watching = string.Equals(request.Query["watch"], "true", StringComparison.OrdinalIgnoreCase);
        var from = request.Query["resourceVersion"].ToString();
        lock (_lock)
        {
            _requests.Add(new Request(kind, watching, from, request.QueryString.Value ?? string.Empty));
        }

        if (Refusing)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        var filter = Filter(request);
        if (!watching)
        {
            JsonObject list;
            lock (_lock)
            {
                // Paged as the real server pages (limit, continue: here the offset into the name-ordered list).
                var all = _objects.Where(o => o.Key.Kind == kind && filter(o.Value)).OrderBy(static o => o.Key.Name, StringComparer.Ordinal).ToList();
                var offset = int.TryParse(request.Query["continue"], NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
                var limit = int.TryParse(request.Query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l > 0 ? l : int.MaxValue;
                var page = all.Skip(offset).Take(limit).ToList();
                var metadata = new JsonObject { ["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture) };
                if (offset + page.Count < all.Count)
                {
                    metadata["continue"] = (offset + page.Count).ToString(CultureInfo.InvariantCulture);
                }

                list = new JsonObject
                {
                    ["kind"] = kind + "List",
                    ["apiVersion"] = ApiVersion(kind),
                    ["metadata"] = metadata,
                    ["items"] = new JsonArray([.. page.Select(static o => o.Value.DeepClone())]),
                };
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(list.ToJsonString());
            return;
        }

        var version = long.Parse(from, CultureInfo.InvariantCulture);
        var watch = new Watch(kind, filter, string.Equals(request.Query["allowWatchBookmarks"], "true", StringComparison.OrdinalIgnoreCase), context);
        lock (_lock)
        {
            if (version < _compactedBelow - 1)
            {
                watch.Lines.Writer.TryWrite(GoneLine());
                watch.Lines.Writer.TryComplete();
            }
            else
            {
                // Replay what happened after the client's version, then go live: under the lock, so nothing is missed
                // and nothing is sent twice.
                foreach (var e in _log.Where(e => e.Version > version && e.Kind == kind && filter(e.Object)))
                {
                    watch.Lines.Writer.TryWrite(Line(e.Type, e.Object));
                }

                _watches.Add(watch);
            }
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        try
        {
            await foreach (var line in watch.Lines.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_lock)
            {
                _watches.Remove(watch);
            }
        }
    }

    internal sealed record Request(string Kind, bool Watch, string ResourceVersion, string Query);

    private sealed record Event(long Version, string Type, string Kind, JsonObject Object);

    private sealed class Watch(string kind, Func<JsonObject, bool> filter, bool bookmarks, HttpContext context)
    {
        public string Kind { get; } = kind;

        public Func<JsonObject, bool> Filter { get; } = filter;

        public bool Bookmarks { get; } = bookmarks;

        public HttpContext Context { get; } = context;

        public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>();
    }
}
