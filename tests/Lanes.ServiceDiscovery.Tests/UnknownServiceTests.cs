using Lanes.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;
using Microsoft.Extensions.Time.Testing;

namespace Lanes.ServiceDiscovery.Tests;

/// <summary>
/// A name no provider knows (service discovery without pass-through) is not routed, but not for good: it is asked about
/// again once per refresh period, so a reload that adds it to <c>Lanes:Services</c> routes it.
/// </summary>
public sealed class UnknownServiceTests
{
    [Fact]
    public async Task NameNoProviderKnows_IsAskedAgainAfterTheRefreshPeriod_AndRoutedOnceLanesServicesListsIt()
    {
        // Arrange: only Lanes:Services, which does not list "later" yet.
        var source = new SwappableConfiguration();
        source.Replace(new Dictionary<string, string?>(Fleet.NsfLanes));
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Add(source).Build());
        services.AddLaneServiceEndpoints();
        await using var provider = services.BuildServiceProvider();
        var endpoints = provider.GetRequiredService<LaneServiceEndpoints>();
        var period = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServiceDiscoveryOptions>>().Value.RefreshPeriod;

        // Act and assert
        Assert.Null(await endpoints.GetAsync("http", "later", CancellationToken.None));

        var config = new Dictionary<string, string?>(Fleet.NsfLanes);
        Fleet.Service(config, "later", "Strict", null, ("y", "http://127.0.0.1:1", "yellow"));
        source.Replace(config);
        Assert.Null(await endpoints.GetAsync("http", "later", CancellationToken.None));      // within the period: still unknown

        time.Advance(period);
        var snapshot = await endpoints.GetAsync("http", "later", CancellationToken.None);
        Assert.Equal("yellow", Assert.Single(snapshot!.Definition.Instances).Lane);
    }
}
