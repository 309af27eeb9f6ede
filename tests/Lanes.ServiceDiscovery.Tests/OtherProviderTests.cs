using System.Net;
using Lanes.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;
using WireMock.Server;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// Any service discovery provider (here one standing in for a platform's registry) can label its endpoints with
/// <c>WithLane</c> and give the service's policy with <c>WithLaneSettings</c>; lane routing
/// reads them like <c>Lanes:Services</c>. A label that is not a valid lane keeps that instance out of routing.
/// </summary>
public sealed class OtherProviderTests : IAsyncLifetime
{
    private readonly WireMockServer _yellow = Fleet.Http("yellow");
    private readonly WireMockServer _plain = Fleet.Http("unlabelled");
    private readonly WireMockServer _mislabelled = Fleet.Http("mislabelled");
    private ServiceDefaultsHost _host = null!;

    public async Task InitializeAsync()
    {
        var registry = new Registry(
            "ratings",
            new LaneSubsetSettings(LanePolicy.Strict, declaredLanes: null, baselineLane: null, panicToAny: false),
            (new Uri(_yellow.Url!), "yellow"), (new Uri(_plain.Url!), null), (new Uri(_mislabelled.Url!), "Not A Lane!"));
        var unsettled = new Registry("stars", settings: null, (new Uri(_yellow.Url!), "yellow"), (new Uri(_plain.Url!), null));
        var config = new Dictionary<string, string?>(Fleet.NsfLanes)
        {
            // Listed both under Lanes:Services and in service discovery's configuration: Lanes:Services is read.
            ["Services:both:http:0"] = _mislabelled.Url,
        };
        Fleet.Service(config, "both", "Strict", null, ("y", _yellow.Url!, "yellow"));
        _host = await ServiceDefaultsHost.StartAsync(
            new ConfigurationBuilder().AddInMemoryCollection(config).Build(),
            services =>
            {
                services.AddSingleton<IServiceEndpointProviderFactory>(registry);
                services.AddSingleton<IServiceEndpointProviderFactory>(unsettled);
                services.AddHttpClient("ratings").AddLaneRouting();
            });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _yellow.Stop();
        _plain.Stop();
        _mislabelled.Stop();
    }

    [Theory]
    [InlineData("yellow", "yellow")]
    [InlineData(null, "unlabelled")]
    [InlineData("green", "503")]                                       // Strict, as the provider said
    public async Task EndpointsLabelledByAnotherProvider_AreRoutedByLane(string? lane, string expected)
    {
        for (var i = 0; i < 4; i++)
        {
            using (LaneContext.Begin(lane))
            {
                using var response = await _host.Http("ratings").GetAsync("http://ratings/r");
                Assert.Equal(expected, response.StatusCode == HttpStatusCode.ServiceUnavailable ? "503" : await response.Content.ReadAsStringAsync());
            }
        }

        Assert.Empty(_mislabelled.LogEntries);
        var warning = Assert.Single(_host.Logs.Records, static r => r.EventId.Name == "InvalidEndpointLane");
        Assert.Contains("'ratings'", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("yellow", "yellow")]
    [InlineData(null, "unlabelled")]
    [InlineData("green", "unlabelled")]                                // Permissive: the baseline (no default lane: unlabelled)
    public async Task LabelledEndpoints_WithoutServiceSettings_AreRoutedPermissive(string? lane, string expected)
    {
        using (LaneContext.Begin(lane))
        {
            Assert.Equal(expected, await _host.Http("ratings").GetStringAsync(new Uri("http://stars/s")));
        }
    }

    [Theory]
    [InlineData("yellow", "yellow")]
    [InlineData(null, "503")]                                          // Strict under Lanes:Services; never the configuration's endpoint
    public async Task AServiceInLanesServicesAndInDiscoveryConfiguration_IsReadFromLanesServices(string? lane, string expected)
    {
        using (LaneContext.Begin(lane))
        {
            using var response = await _host.Http("ratings").GetAsync("http://both/b");
            Assert.Equal(expected, response.StatusCode == HttpStatusCode.ServiceUnavailable ? "503" : await response.Content.ReadAsStringAsync());
        }

        Assert.Empty(_mislabelled.LogEntries);
    }

    /// <summary>A provider for one service with labelled endpoints, and the service's settings when given.</summary>
    private sealed class Registry(string service, LaneSubsetSettings? settings, params (Uri Address, string? Lane)[] endpoints)
        : IServiceEndpointProviderFactory, IServiceEndpointProvider
    {
        public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
        {
            provider = query.ServiceName == service ? this : null;
            return provider is not null;
        }

        public ValueTask PopulateAsync(IServiceEndpointBuilder builder, CancellationToken cancellationToken)
        {
            if (settings is not null)
            {
                builder.WithLaneSettings(settings);
            }

            foreach (var (address, lane) in endpoints)
            {
                var endpoint = ServiceEndpoint.Create(new UriEndPoint(address));
                endpoint.WithLane(lane);
                builder.Endpoints.Add(endpoint);
            }

            return default;
        }

        public ValueTask DisposeAsync() => default;
    }
}
