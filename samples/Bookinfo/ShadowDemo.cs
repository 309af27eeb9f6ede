using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bookinfo;

/// <summary>
/// The demo's <c>shadow</c> scenario (docs/behaviour.md, "Shadow lanes"): a gateway mirrors every baseline request to
/// <c>reviews</c> into lane yellow, whose candidate answers one field differently. Two green instances answer
/// <c>{"item":"book","price":10,"at":&lt;now&gt;}</c>, the yellow candidate <c>"price":12</c>; with a secondary copy to
/// the other green instance, <c>at</c> (different on every answer) is learned as noise and <c>price</c> is reported.
/// </summary>
public sealed class ShadowDemo : IAsyncDisposable
{
    /// <summary>Requests the demo sends through the gateway.</summary>
    public const int Requests = 20;

    /// <summary>How long the demo waits for the copies to be compared before it says they were not (they take milliseconds on loopback).</summary>
    private static readonly TimeSpan CompareWithin = TimeSpan.FromSeconds(30);

    /// <summary>How often the demo reads the admin report while it waits.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private readonly List<WebApplication> _apps;

    private ShadowDemo(List<WebApplication> apps, WebApplication gateway, IReadOnlyList<(string Id, string Lane, Uri Address)> instances)
    {
        _apps = apps;
        Gateway = gateway;
        Instances = instances;
        GatewayAddress = AddressOf(gateway);
    }

    public Uri GatewayAddress { get; }

    public IReadOnlyList<(string Id, string Lane, Uri Address)> Instances { get; }

    private WebApplication Gateway { get; }

    /// <summary>Starts the three <c>reviews</c> instances and the gateway (on <paramref name="gatewayPort"/>, 0 for any free port).</summary>
    public static async Task<ShadowDemo> StartAsync(int gatewayPort = 0)
    {
        var apps = new List<WebApplication>();
        var instances = new List<(string Id, string Lane, Uri Address)>();
        try
        {
            foreach (var (id, lane, price) in new[] { ("reviews-v1-a", "green", 10), ("reviews-v1-b", "green", 10), ("reviews-v2", "yellow", 12) })
            {
                var app = Reviews(price);
                apps.Add(app);
                await app.StartAsync();
                instances.Add((id, lane, AddressOf(app)));
            }

            var config = new Dictionary<string, string?>
            {
                ["Lanes:Preset"] = "mspider",
                ["ReverseProxy:Routes:reviews:ClusterId"] = "reviews",
                ["ReverseProxy:Routes:reviews:Match:Path"] = "/reviews/{**rest}",
                ["Lanes:Shadow:reviews-v2:Cluster"] = "reviews",
                ["Lanes:Shadow:reviews-v2:Lane"] = "yellow",
                ["Lanes:Shadow:reviews-v2:Percent"] = "100",
                ["Lanes:Shadow:reviews-v2:Secondary"] = "true",
            };
            foreach (var (id, lane, address) in instances)
            {
                config[$"ReverseProxy:Clusters:reviews:Destinations:{id}:Address"] = address.ToString();
                config[$"ReverseProxy:Clusters:reviews:Destinations:{id}:Metadata:lane"] = lane;
            }

            var gateway = BookinfoCluster.BuildGateway(config, gatewayPort);
            apps.Add(gateway);
            await gateway.StartAsync();
            return new ShadowDemo(apps, gateway, instances);
        }
        catch
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Sends <see cref="Requests"/> requests without a lane through the gateway (the baseline, green, serves them), then
    /// reads what the shadow rule found from the gateway's admin report.
    /// </summary>
    public async Task<Result> RunAsync(CancellationToken cancellationToken = default)
    {
        using var client = new HttpClient { BaseAddress = GatewayAddress };
        var prices = new List<int>();
        for (var i = 0; i < Requests; i++)
        {
            using var answer = await client.GetFromJsonAsync<JsonDocument>(new Uri("/reviews/1", UriKind.Relative), cancellationToken);
            prices.Add(answer!.RootElement.GetProperty("price").GetInt32());
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CompareWithin);
        JsonElement shadow;
        while (true)
        {
            using var report = await client.GetFromJsonAsync<JsonDocument>(new Uri("/lanes", UriKind.Relative), cancellationToken);
            shadow = report!.RootElement.GetProperty("shadow")[0].Clone();
            if (shadow.GetProperty("mirrored").GetInt64() + shadow.GetProperty("dropped").GetInt64() >= Requests || deadline.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await Task.Delay(Poll, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        return new Result(
            prices,
            shadow.GetProperty("mirrored").GetInt64(),
            shadow.GetProperty("dropped").GetInt64(),
            [.. shadow.GetProperty("fields").EnumerateArray().Select(static f => new Field(f.GetProperty("path").GetString()!, f.GetProperty("count").GetInt64(), f.GetProperty("example").GetString()!))],
            [.. shadow.GetProperty("noise").EnumerateArray().Select(static n => n.GetString()!)]);
    }

    /// <summary>The lines the demo prints for <paramref name="result"/>.</summary>
    public static string Format(Result result)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Clients got price {string.Join(", ", result.Prices.Distinct())} on all {result.Prices.Count} answers (the primary's; green).\n");
        text.Append(CultureInfo.InvariantCulture, $"Mirrored to yellow and compared: {result.Mirrored}; dropped: {result.Dropped}.\n");
        foreach (var field in result.Fields)
        {
            text.Append(CultureInfo.InvariantCulture, $"  differs: {field.Path,-12} {field.Count,3}x   e.g. {field.Example}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"  noise (green vs green, excluded): {(result.Noise.Count == 0 ? "none" : string.Join(", ", result.Noise))}\n");
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in Enumerable.Reverse(_apps))
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static WebApplication Reviews(int price)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.Services.Configure<HostOptions>(static o => o.ShutdownTimeout = BookinfoCluster.ShutdownTimeout);
        var app = builder.Build();
        app.MapGet("/reviews/{id}", (string id) => Results.Json(new { item = "book", id, price, at = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture) }));
        return app;
    }

    private static Uri AddressOf(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>What the demo saw: the prices clients got, and what the shadow rule reported.</summary>
    public sealed record Result(IReadOnlyList<int> Prices, long Mirrored, long Dropped, IReadOnlyList<Field> Fields, IReadOnlyList<string> Noise)
    {
        /// <summary>The expected finding: clients saw only the primary's price, <c>price</c> differs, <c>at</c> is noise and not reported.</summary>
        public bool Found => Prices.All(static p => p == 10) && Fields.Any(static f => f.Path == "price") && Noise.Contains("at") && Fields.All(static f => f.Path != "at");
    }

    public sealed record Field(string Path, long Count, string Example);
}
