using Bookinfo.Protos;
using Grpc.Core;
using Lanes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using System.Net.Http.Json;

namespace Bookinfo;

/// <summary>
/// The four bookinfo services (and Hango's svc1) as small ASP.NET Core apps: productpage calls details over HTTP and
/// reviews over gRPC; reviews calls ratings over HTTP. Every call is routed by lane from the <c>Lanes:Services</c>
/// registry (no mesh), and every service answers <see cref="HopResult"/>.
/// </summary>
public static class BookinfoServices
{
    /// <summary>Builds one instance on 127.0.0.1 (port 0); <paramref name="configuration"/> holds its <c>Lanes</c> section and registry.</summary>
    public static WebApplication Build(InstanceSpec instance, IReadOnlyDictionary<string, string?> configuration)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        // A failure to start (a busy port) reaches the owner as the exception StartAsync throws; not logged twice.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.Configure<HostOptions>(static o => o.ShutdownTimeout = BookinfoCluster.ShutdownTimeout);
        return Build(instance, builder);
    }

    /// <summary>
    /// Builds one instance as a process of its own (<c>samples/BookinfoService</c> under <c>samples/AppHost</c>): it
    /// listens where its host says (<c>ASPNETCORE_URLS</c>), takes its <c>Lanes</c> section and registry from its
    /// configuration (the app host's environment variables) and owns its lifetime (SIGINT, SIGTERM).
    /// </summary>
    public static WebApplication BuildStandalone(InstanceSpec instance, string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);
        return Build(instance, builder);
    }

    private static WebApplication Build(InstanceSpec instance, WebApplicationBuilder builder)
    {
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (instance.Service == "reviews")
        {
            // gRPC without TLS needs an HTTP/2-only endpoint (prior knowledge).
            builder.WebHost.ConfigureKestrel(static k => k.ConfigureEndpointDefaults(static l => l.Protocols = HttpProtocols.Http2));
        }

        builder.Services.AddSingleton(instance);
        builder.Services.AddLanes();
        builder.Services.AddGrpc();
        builder.Services.AddHttpClient("details", static c => c.BaseAddress = new Uri("http://details")).AddLaneRouting();
        builder.Services.AddHttpClient("ratings", static c => c.BaseAddress = new Uri("http://ratings")).AddLaneRouting();
        if (builder.Configuration["Lanes:Services:reviews:Metadata:lanePolicy"] is not null)
        {
            builder.Services.AddGrpcClient<Reviews.ReviewsClient>(static o => o.Address = new Uri("lanes:///reviews")).AddGrpcLaneRouting();
        }

        var app = builder.Build();
        app.UseLanes();
        app.MapGet("/health", static () => "ok");
        switch (instance.Service)
        {
            case "productpage":
                app.MapGet("/productpage", ProductPageAsync);
                break;
            case "reviews":
                app.MapGrpcService<ReviewsService>();
                break;
            default:
                app.MapGet("/" + instance.Service, static (InstanceSpec self) => Self(self, []));
                break;
        }

        return app;
    }

    internal static HopResult Self(InstanceSpec self, IReadOnlyList<HopResult> calls)
        => new(self.Service, self.Lane ?? string.Empty, LaneContext.Current ?? string.Empty, calls);

    private static async Task<HopResult> ProductPageAsync(InstanceSpec self, IHttpClientFactory clients, Reviews.ReviewsClient reviews, CancellationToken cancellationToken)
    {
        var details = await CallHttpAsync(clients.CreateClient("details"), "details", cancellationToken);
        HopResult reviewsHop;
        try
        {
            reviewsHop = FromProto(await reviews.GetAsync(new ReviewsRequest { Product = "0" }, cancellationToken: cancellationToken));
        }
        catch (RpcException e)
        {
            reviewsHop = HopResult.Failed("reviews", $"{e.StatusCode}: {e.Status.Detail}");
        }

        return Self(self, [details, reviewsHop]);
    }

    internal static async Task<HopResult> CallHttpAsync(HttpClient client, string service, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync("/" + service, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return HopResult.Failed(service, $"{(int)response.StatusCode} {response.ReasonPhrase}");
            }

            return await response.Content.ReadFromJsonAsync<HopResult>(HopResult.Json, cancellationToken)
                ?? HopResult.Failed(service, "empty answer");
        }
        catch (HttpRequestException e)
        {
            return HopResult.Failed(service, e.Message);
        }
    }

    internal static Hop ToProto(HopResult hop)
    {
        var proto = new Hop { Service = hop.Service, Lane = hop.Lane, RequestLane = hop.RequestLane, Error = hop.Error ?? string.Empty };
        foreach (var call in hop.Calls)
        {
            proto.Calls.Add(ToProto(call));
        }

        return proto;
    }

    internal static HopResult FromProto(Hop hop)
        => new(hop.Service, hop.Lane, hop.RequestLane, [.. hop.Calls.Select(FromProto)]) { Error = hop.Error.Length == 0 ? null : hop.Error };

    private sealed class ReviewsService(InstanceSpec self, IHttpClientFactory clients) : Reviews.ReviewsBase
    {
        public override async Task<Hop> Get(ReviewsRequest request, ServerCallContext context)
        {
            var ratings = await CallHttpAsync(clients.CreateClient("ratings"), "ratings", context.CancellationToken);
            return ToProto(Self(self, [ratings]));
        }
    }
}
