// Lanes quick start: two services on loopback, A calls B over HttpClient. A few requests go to A with
// different lane headers; each hop reports the lane it saw. Exits 1 if any hop saw something unexpected.
// With --serve it then keeps both services up until Ctrl+C or SIGTERM (exit 0).
using Lanes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

await using var serviceB = await StartServiceAsync("B", downstream: null);
await using var serviceA = await StartServiceAsync("A", downstream: AddressOf(serviceB));

(string Request, string? Header, string? Value, string Expected)[] cases =
[
    ("alias header", "x-mspider-laneid", "yellow", "yellow"),
    ("canonical header", "x-mspider-lane", "yellow", "yellow"),
    ("no header", null, null, "green"),
    ("invalid value", "x-mspider-lane", "yel low!", "green"),
    ("baggage only", "baggage", "x-mspider-lane=yellow", "yellow"),
];

// SIGINT (Ctrl+C) and SIGTERM stop the services (their host lifetime): stop sending, dispose both, exit 0.
var stopping = serviceA.Lifetime.ApplicationStopping;
using var client = new HttpClient { BaseAddress = AddressOf(serviceA) };
Console.WriteLine("Lanes quick start (preset mspider: header x-mspider-lane, alias x-mspider-laneid, default green)");
Console.WriteLine();
Console.WriteLine($"{"request",-18} {"sent",-30} {"A saw (source)",-22} {"B saw (source)",-22} ok");
Console.WriteLine(new string('-', 98));
var failures = 0;
foreach (var (name, header, value, expected) in cases)
{
    if (stopping.IsCancellationRequested)
    {
        Console.WriteLine("Stopped by a signal.");
        return 0;
    }

    using var request = new HttpRequestMessage(HttpMethod.Get, "/");
    if (header is not null)
    {
        request.Headers.TryAddWithoutValidation(header, value);
    }

    HttpResponseMessage response;
    try
    {
        response = await client.SendAsync(request, stopping);
    }
    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
    {
        Console.WriteLine("Stopped by a signal.");
        return 0;
    }

    using var _ = response;
    var a = await response.Content.ReadFromJsonAsync<Hop>();
    var b = a?.Downstream;
    var ok = a?.Lane == expected && b?.Lane == expected;
    failures += ok ? 0 : 1;
    var sent = header is null ? "(nothing)" : $"{header}: {value}";
    Console.WriteLine($"{name,-18} {sent,-30} {Describe(a),-22} {Describe(b),-22} {(ok ? "yes" : "NO")}");
}

Console.WriteLine();
Console.WriteLine(failures == 0 ? "Every hop saw the expected lane." : $"{failures} row(s) differ from the expectation.");
if (args.Contains("--serve"))
{
    Console.WriteLine($"Serving; try: curl -H 'x-mspider-laneid: yellow' {AddressOf(serviceA)}   (Ctrl+C or SIGTERM to stop)");
    try
    {
        await Task.Delay(Timeout.Infinite, stopping);
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("Stopped.");
        return 0;
    }
}

return failures == 0 ? 0 : 1;

static string Describe(Hop? hop) => hop is null ? "(no answer)" : $"{hop.Lane ?? "(none)"} ({hop.Source})";

static Uri AddressOf(WebApplication app)
    => new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

static async Task<WebApplication> StartServiceAsync(string name, Uri? downstream)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Logging.SetMinimumLevel(LogLevel.Warning);

    // The ten lines a service adds:
    builder.Services.AddLanes(options => options.UsePreset("mspider"));
    if (downstream is not null)
    {
        builder.Services.AddHttpClient("downstream", c => c.BaseAddress = downstream).AddLanePropagation();
    }

    var app = builder.Build();
    app.UseLanes();
    app.MapGet("/", async (IServiceProvider services) =>
    {
        Hop? next = null;
        if (downstream is not null)
        {
            var http = services.GetRequiredService<IHttpClientFactory>().CreateClient("downstream");
            next = await http.GetFromJsonAsync<Hop>("/");
        }

        return new Hop(name, LaneContext.Current, LaneContext.CurrentSource.ToString().ToLowerInvariant(), next);
    });

    await app.StartAsync();
    return app;
}

internal sealed record Hop(string Service, string? Lane, string Source, Hop? Downstream);
