using Lanes.Testing;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Lanes.Http.Tests;

/// <summary>IHttpClientFactory clients in a process with no ASP.NET Core and no HttpContext (a worker, a console app).</summary>
public sealed class LanePropagationHandlerTests : IDisposable
{
    private readonly WireMockServer _upstream = Upstreams.Start();

    public void Dispose() => _upstream.Stop();

    private ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        configure(services);
        return services.BuildServiceProvider();
    }

    private ServiceProvider BuildWithNsfClient() => Build(s =>
    {
        s.AddLanes(o => o.UsePreset("nsf"));
        s.AddHttpClient("down").AddLanePropagation();
    });

    private async Task<string?> SendAsync(HttpClient client, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(_upstream.Url!), path));
        configure?.Invoke(request);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return Assert.Single(_upstream.ReceivedHeader(path, "x-nsf-mark"));
    }

    [Fact]
    public async Task AddLanePropagation_LaneInScope_SendsCanonicalHeader()
    {
        using var provider = BuildWithNsfClient();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("down");

        string? received;
        using (LaneContext.Begin("dev1"))
        {
            received = await SendAsync(client, "/scoped");
        }

        Assert.Equal("dev1", received);
    }

    [Fact]
    public async Task AddLanePropagation_NoLane_SendsNoHeader()
    {
        using var provider = BuildWithNsfClient();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("down");

        Assert.Null(await SendAsync(client, "/none"));
    }

    [Fact]
    public async Task AddLanePropagation_HeaderSetByApplication_IsKeptNotOverwritten()
    {
        using var provider = BuildWithNsfClient();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("down");

        string? received;
        using (LaneContext.Begin("dev1"))
        {
            received = await SendAsync(client, "/explicit", r => r.Headers.Add("x-nsf-mark", "dev2"));
        }

        Assert.Equal("dev2", received);
    }

    [Fact]
    public async Task AddLanePropagation_ScopeLaneLongerThanMaxLength_SendsNothing()
    {
        // LaneContext.Begin accepts up to 256 characters; this service accepts 8, so it must not send 12.
        using var provider = Build(s =>
        {
            s.AddLanes(o => o.UsePreset("nsf").MaxLength = 8);
            s.AddHttpClient("down").AddLanePropagation();
        });
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("down");

        string? received;
        using (LaneContext.Begin("abcdefghijkl"))
        {
            received = await SendAsync(client, "/too-long");
        }

        Assert.Null(received);
    }

    [Fact]
    public void AddLanePropagation_SynchronousSend_SendsCanonicalHeader()
    {
        using var provider = BuildWithNsfClient();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("down");

        using (LaneContext.Begin("dev1"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(_upstream.Url!), "/sync"));
            using var response = client.Send(request);
            response.EnsureSuccessStatusCode();
        }

        Assert.Equal("dev1", Assert.Single(_upstream.ReceivedHeader("/sync", "x-nsf-mark")));
    }

    [Fact]
    public void AddLanePropagation_WithoutAddLanes_FailsWithActionableMessage()
    {
        using var provider = Build(s => s.AddHttpClient("down").AddLanePropagation());

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("down"));

        Assert.Contains("services.AddLanes()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddHttpClientFactoryPropagation_CoversClientsRegisteredWithoutIt()
    {
        using var provider = Build(s =>
        {
            s.AddLanes(o => o.UsePreset("nsf")).AddHttpClientFactoryPropagation();
            s.AddHttpClient("plain");
        });
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using (LaneContext.Begin("dev1"))
        {
            Assert.Equal("dev1", await SendAsync(factory.CreateClient("plain"), "/named"));
            Assert.Equal("dev1", await SendAsync(factory.CreateClient(), "/default"));
        }
    }

    [Fact]
    public async Task AddHttpClientFactoryPropagation_AndPerClientCall_SendHeaderOnce()
    {
        using var provider = Build(s =>
        {
            s.AddLanes(o => o.UsePreset("nsf")).AddHttpClientFactoryPropagation();
            s.AddHttpClient("both").AddLanePropagation();
        });

        using (LaneContext.Begin("dev1"))
        {
            Assert.Equal("dev1", await SendAsync(provider.GetRequiredService<IHttpClientFactory>().CreateClient("both"), "/both"));
        }
    }
}
