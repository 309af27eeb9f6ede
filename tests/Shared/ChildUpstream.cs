using System.Globalization;
using Lanes.EndToEnd.Tests.Samples;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lanes.Testing;

/// <summary>
/// The entry point of the test assemblies that compile this file (with <c>GenerateProgramFile</c> false), for tests that
/// must kill, stop or gracefully stop an upstream's process (SIGKILL, SIGSTOP, SIGTERM):
/// <c>dotnet &lt;tests&gt;.dll upstream NAME [DELAY_MS]</c> runs a Kestrel server on 127.0.0.1 with an OS-chosen port and
/// prints <c>listening URL</c>. It answers every path with JSON <c>{ "instance": NAME, "headers": { ... } }</c> (the
/// headers it received) after DELAY_MS (default 0), and stops on SIGTERM through the host (Kestrel's graceful shutdown).
/// <see cref="StartAsync"/> starts one. Under the test runner Main is never called.
/// </summary>
internal static class ChildUpstream
{
    /// <summary>Other child modes a test assembly adds (from a module initializer), by their first argument.</summary>
    public static Dictionary<string, Func<string[], Task<int>>> Modes { get; } = new(StringComparer.Ordinal);

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && Modes.TryGetValue(args[0], out var mode))
        {
            return await mode(args);
        }

        if (args is not ["upstream", var name, ..])
        {
            await Console.Error.WriteLineAsync("usage: upstream NAME [DELAY_MS]");
            return 2;
        }

        var delay = args.Length > 2 ? TimeSpan.FromMilliseconds(int.Parse(args[2], CultureInfo.InvariantCulture)) : TimeSpan.Zero;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/health", () => Results.Ok());
        app.Map("/{**rest}", async (HttpContext context) =>
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            var headers = context.Request.Headers.ToDictionary(static h => h.Key, static h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            return Results.Json(new { instance = name, headers });
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.Out.WriteLine($"listening {address}");
        await app.WaitForShutdownAsync();
        await app.StopAsync();
        Console.Out.WriteLine("stopped");
        return 0;
    }

    /// <summary>Starts <c>upstream NAME</c> (or another <paramref name="mode"/>) from this test assembly in a child process and waits until it listens.</summary>
    public static async Task<Child> StartAsync(string name, string mode = "upstream")
    {
        var process = SampleProcess.StartDll(typeof(ChildUpstream).Assembly.Location, null, mode, name);
        var match = await process.WaitForOutputAsync(@"^listening (http://127\.0\.0\.1:\d+)");
        return new Child(process, new Uri(match.Groups[1].Value + "/"));
    }

    /// <summary>A running child upstream: its process (to signal) and its address.</summary>
    public sealed record Child(SampleProcess Process, Uri Address) : IDisposable
    {
        public void Dispose() => Process.Dispose();
    }
}
