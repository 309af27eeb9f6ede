using System.Threading.Channels;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Lanes.EndToEnd.Tests;

/// <summary>A typed client, registered with <c>AddHttpClient&lt;DownstreamClient&gt;().AddLanePropagation()</c>.</summary>
public sealed class DownstreamClient(HttpClient http)
{
    public Task<HttpResponseMessage> GetAsync(string path) => http.GetAsync(new Uri(path, UriKind.Relative));
}

/// <summary>A background service that calls downstream inside <c>LaneContext.Begin</c> for each lane it is handed.</summary>
public sealed class LaneWorker(IHttpClientFactory factory) : BackgroundService
{
    private readonly Channel<string> _work = Channel.CreateUnbounded<string>();

    public ValueTask EnqueueAsync(string lane) => _work.Writer.WriteAsync(lane);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var lane in _work.Reader.ReadAllAsync(stoppingToken))
        {
            using (LaneContext.Begin(lane))
            {
                using var response = await factory.CreateClient("down").GetAsync(new Uri("/background", UriKind.Relative), stoppingToken);
            }
        }
    }
}

/// <summary>A small service with Lanes: resolves the lane, calls its downstream in every way the SDK covers.</summary>
internal static class LaneService
{
    public static Task<RunningServer> StartAsync(Uri downstream, IDictionary<string, string?> configuration, bool diagnosticsHook = false)
        => TestServers.StartAsync(
            b =>
            {
                var lanes = b.Services.AddLanes();
                if (diagnosticsHook)
                {
                    lanes.AddDiagnosticsPropagation();
                }

                b.Services.AddHttpClient("down", c => c.BaseAddress = downstream).AddLanePropagation();
                b.Services.AddHttpClient<DownstreamClient>(c => c.BaseAddress = downstream).AddLanePropagation();
                b.Services.AddSingleton<LaneWorker>();
                b.Services.AddHostedService(sp => sp.GetRequiredService<LaneWorker>());
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/named", (IHttpClientFactory f) => Forward(f.CreateClient("down"), "/named"));
                app.MapGet("/hop", (IHttpClientFactory f) => Forward(f.CreateClient("down"), "/hop"));
                app.MapGet("/typed", async (DownstreamClient c) => Results.Text(await (await c.GetAsync("/typed")).Content.ReadAsStringAsync()));
                app.MapGet("/new", async () =>
                {
                    using var client = new HttpClient { BaseAddress = downstream };
                    return await Forward(client, "/new");
                });
                app.MapGet("/explicit", async (IHttpClientFactory f) =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/explicit");
                    request.Headers.Add(HeaderOf(app), "blue");
                    using var response = await f.CreateClient("down").SendAsync(request);
                    return Results.Ok();
                });
                app.MapGet("/taskrun", (IHttpClientFactory f) =>
                {
                    _ = Task.Run(async () =>
                    {
                        await Task.Delay(100);
                        using var response = await f.CreateClient("down").GetAsync(new Uri("/taskrun", UriKind.Relative));
                    });
                    return Results.Accepted();
                });
                app.MapPost("/background/{lane}", async (string lane, LaneWorker worker) =>
                {
                    await worker.EnqueueAsync(lane);
                    return Results.Accepted();
                });
            },
            configuration);

    private static string HeaderOf(WebApplication app) => app.Services.GetRequiredService<LanePropagator>().HeaderName;

    private static async Task<IResult> Forward(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return Results.Text(await response.Content.ReadAsStringAsync(), statusCode: (int)response.StatusCode);
    }
}
