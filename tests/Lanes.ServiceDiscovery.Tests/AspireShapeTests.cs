using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Server;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// The shapes an Aspire AppHost gives a service: one resource per version (<c>Services:details-green</c>,
/// <c>Services:details-yellow</c>), listed as the instances of <c>Lanes:Services:details</c> by their discovery names;
/// and one resource with every version's address (<c>Services:details:http</c>) and no lanes, which gets a warning.
/// </summary>
public sealed class AspireShapeTests : IAsyncLifetime
{
    private readonly List<WireMockServer> _servers = [];
    private ServiceDefaultsHost? _host;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            server.Stop();
        }
    }

    [Fact]
    public async Task InstanceAddressesThatAreDiscoveryNames_AreResolvedThroughServiceDiscovery_AndRouteByLane()
    {
        var green = Start("green");
        var yellow = Start("yellow");
        var config = new Dictionary<string, string?>(Fleet.NsfLanes)
        {
            ["Services:details-green:http:0"] = green.Url,
            ["Services:details-yellow:http:0"] = yellow.Url,
        };
        Fleet.Service(config, "details", "Strict", null, ("g", "http://details-green", "green"), ("y", "http://details-yellow", "yellow"));
        var host = await StartAsync(config);

        var answers = new List<string>();
        foreach (var lane in new[] { "yellow", "yellow", "yellow", "green", "green", "yellow" })
        {
            answers.Add(lane + ":" + await GetAsync(host, lane));
        }

        Assert.Equal(["yellow:yellow", "yellow:yellow", "yellow:yellow", "green:green", "green:green", "yellow:yellow"], answers);
        var snapshot = await host.Services.GetRequiredService<LaneServiceEndpoints>().GetAsync("http", "details", CancellationToken.None);
        Assert.Equal([("g", green.Url + "/"), ("y", yellow.Url + "/")], snapshot!.Definition.Instances.Select(static i => (i.Id, i.Address.ToString())));
    }

    [Fact]
    public async Task ServiceWithOnlyUnlabelledEndpoints_CalledWithALane_WarnsOnceNamingLanesServices()
    {
        var green = Start("green");
        var yellow = Start("yellow");
        var config = new Dictionary<string, string?>(Fleet.NsfLanes)
        {
            ["Services:details:http:0"] = green.Url,
            ["Services:details:http:1"] = yellow.Url,
        };
        var host = await StartAsync(config);

        for (var i = 0; i < 4; i++)
        {
            await GetAsync(host, "yellow");
        }

        var warning = Assert.Single(host.Logs.Records, static r => r.EventId.Name == "ServiceWithoutLanes");
        Assert.Contains("'details'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Lanes:Services:details", warning.Message, StringComparison.Ordinal);
    }

    private WireMockServer Start(string name)
    {
        var server = Fleet.Http(name);
        _servers.Add(server);
        return server;
    }

    private async Task<ServiceDefaultsHost> StartAsync(Dictionary<string, string?> config)
    {
        _host = await ServiceDefaultsHost.StartAsync(
            new ConfigurationBuilder().AddInMemoryCollection(config).Build(),
            static s => s.AddHttpClient("details").AddLaneRouting());
        return _host;
    }

    private static async Task<string> GetAsync(ServiceDefaultsHost host, string lane)
    {
        using (LaneContext.Begin(lane))
        {
            using var response = await host.Http("details").GetAsync(new Uri("http://details/details/1"));
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
