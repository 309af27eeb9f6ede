using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// A client application wired the way .NET Aspire's ServiceDefaults wire every service (service discovery, and the
/// standard resilience handler plus service discovery on every HttpClient), without referencing Aspire, then Lanes on
/// top: <c>AddLanes()</c> and lane routing on the clients that call lane-routed services.
/// </summary>
internal sealed class ServiceDefaultsHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ServiceDefaultsHost(IHost host, InMemoryLoggerProvider logs)
    {
        _host = host;
        Logs = logs;
    }

    public IServiceProvider Services => _host.Services;

    public InMemoryLoggerProvider Logs { get; }

    /// <summary>The HTTP attempts each client's pipeline made below the resilience handler (one per try).</summary>
    public Attempts Attempts => Services.GetRequiredService<Attempts>();

    /// <summary>
    /// Builds and starts the host. <paramref name="configure"/> registers the application's clients after the service
    /// defaults; <paramref name="resilience"/> adjusts the standard handler where a test needs it (null: as Aspire has it);
    /// <paramref name="beforeDefaults"/> registers services before the defaults (an application that calls Lanes first).
    /// </summary>
    public static async Task<ServiceDefaultsHost> StartAsync(
        IConfiguration configuration,
        Action<IServiceCollection> configure,
        Action<IHttpStandardResiliencePipelineBuilder>? resilience = null,
        Action<IServiceCollection>? beforeDefaults = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddConfiguration(configuration);
        var logs = new InMemoryLoggerProvider();
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(logs);

        beforeDefaults?.Invoke(builder.Services);

        // ServiceDefaults (the Aspire template's AddServiceDefaults, the lines that shape outgoing calls).
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            var standard = http.AddStandardResilienceHandler();
            resilience?.Invoke(standard);
            http.AddServiceDiscovery();
        });

        // The application: Lanes, then its clients.
        builder.Services.AddSingleton<Attempts>();
        builder.Services.AddLanes();
        configure(builder.Services);

        var host = builder.Build();
        await host.StartAsync();
        return new ServiceDefaultsHost(host, logs);
    }

    public HttpClient Http(string name) => Services.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        if (_host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }

        Logs.Dispose();
    }
}

/// <summary>Counts the HTTP attempts of each client (added with <see cref="AttemptsExtensions.CountAttempts"/>).</summary>
internal sealed class Attempts
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int this[string client] => _counts.TryGetValue(client, out var count) ? count : 0;

    public void Add(string client) => _counts.AddOrUpdate(client, 1, static (_, count) => count + 1);

    public void Reset() => _counts.Clear();
}

internal static class AttemptsExtensions
{
    /// <summary>
    /// Counts each attempt this client sends: the handler is added after the service defaults, so it sits inside the
    /// resilience handler (one count per try) and outside lane routing (which the routing extensions keep innermost).
    /// </summary>
    public static IHttpClientBuilder CountAttempts(this IHttpClientBuilder builder)
    {
        var name = builder.Name;
        return builder.AddHttpMessageHandler(sp => new Counter(sp.GetRequiredService<Attempts>(), name));
    }

    private sealed class Counter(Attempts attempts, string client) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            attempts.Add(client);
            return base.SendAsync(request, cancellationToken);
        }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            attempts.Add(client);
            return base.Send(request, cancellationToken);
        }
    }
}
