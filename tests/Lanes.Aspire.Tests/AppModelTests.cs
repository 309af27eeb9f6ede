using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Lanes.Routing;

namespace Lanes.Aspire.Tests;

/// <summary>
/// What <c>Lanes.Aspire.Hosting</c> writes into the app model, read back through Aspire's public API without starting
/// anything: the environment of a caller and of a gateway (in publish mode, where endpoints are expressions), and the
/// answers to bad input.
/// </summary>
public sealed class AppModelTests
{
    private static (IDistributedApplicationBuilder Builder, IResourceBuilder<LaneServiceResource> Details) Model()
    {
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { DisableDashboard = true });
        var details = builder.AddLaneService("details").WithPolicy(LanePolicy.Declared).WithDeclaredLanes("green", "yellow", "red").WithBaseline("green");
        builder.AddExecutable("details-green", "details", ".").WithHttpEndpoint(name: "http").WithLane(details, "green");
        builder.AddExecutable("details-yellow", "details", ".").WithHttpEndpoint(name: "http").WithLane(details, "yellow");
        builder.AddExecutable("details-plain", "details", ".").WithHttpEndpoint(name: "http").WithLane(details, null);
        return (builder, details);
    }

    /// <summary>Runs the resource's environment callbacks as the app host does before it starts it (publish mode: nothing allocated).</summary>
    private static async Task<Dictionary<string, string>> EnvironmentOf(ExecutableResource resource)
    {
        var environment = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), resource, environment);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return environment.ToDictionary(static e => e.Key, static e => e.Value switch
        {
            EndpointReference endpoint => $"endpoint {endpoint.Resource.Name}/{endpoint.EndpointName}",
            var value => value.ToString()!,
        });
    }

    [Fact]
    public async Task LaneReference_WritesTheServicesLanesServicesEntry_EveryInstanceWithItsEndpointAndLane()
    {
        var (builder, details) = Model();
        var caller = builder.AddExecutable("productpage", "productpage", ".").WithLaneReference(details);

        var environment = await EnvironmentOf(caller.Resource);

        var lanes = environment.Where(static e => e.Key.StartsWith("Lanes__", StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(new Dictionary<string, string>
        {
            ["Lanes__Services__details__Metadata__lanePolicy"] = "Declared",
            ["Lanes__Services__details__Metadata__lanes"] = "green,yellow,red",
            ["Lanes__Services__details__Metadata__laneBaseline"] = "green",
            ["Lanes__Services__details__Instances__details-green__Address"] = "endpoint details-green/http",
            ["Lanes__Services__details__Instances__details-green__Metadata__lane"] = "green",
            ["Lanes__Services__details__Instances__details-yellow__Address"] = "endpoint details-yellow/http",
            ["Lanes__Services__details__Instances__details-yellow__Metadata__lane"] = "yellow",
            ["Lanes__Services__details__Instances__details-plain__Address"] = "endpoint details-plain/http",
        }, lanes);
    }

    [Fact]
    public async Task Baseline_NotSet_IsLeftToTheCaller_Null_IsTheUnlabelledInstances()
    {
        // laneBaseline absent: the caller's default lane; empty: the unlabelled instances (LaneRoutingMetadata).
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { DisableDashboard = true });
        var unset = builder.AddLaneService("details");
        var unlabelled = builder.AddLaneService("ratings").WithBaseline(null);
        builder.AddExecutable("details-green", "details", ".").WithHttpEndpoint(name: "http").WithLane(unset, "green");
        builder.AddExecutable("ratings-plain", "ratings", ".").WithHttpEndpoint(name: "http").WithLane(unlabelled, null);
        var caller = builder.AddExecutable("productpage", "productpage", ".").WithLaneReference(unset).WithLaneReference(unlabelled);

        var environment = await EnvironmentOf(caller.Resource);

        Assert.False(environment.ContainsKey("Lanes__Services__details__Metadata__laneBaseline"));
        Assert.Equal(string.Empty, environment["Lanes__Services__ratings__Metadata__laneBaseline"]);
        Assert.Equal("Permissive", environment["Lanes__Services__details__Metadata__lanePolicy"]);
    }

    [Fact]
    public async Task LaneCluster_WritesTheGatewaysClusterDestinations_WithTheirLanes()
    {
        var (builder, details) = Model();
        var gateway = builder.AddExecutable("gateway", "gateway", ".").WithLaneCluster(details);

        var environment = await EnvironmentOf(gateway.Resource);

        Assert.Equal("Declared", environment["ReverseProxy__Clusters__details__Metadata__lanePolicy"]);
        Assert.Equal("endpoint details-yellow/http", environment["ReverseProxy__Clusters__details__Destinations__details-yellow__Address"]);
        Assert.Equal("yellow", environment["ReverseProxy__Clusters__details__Destinations__details-yellow__Metadata__lane"]);
        Assert.False(environment.ContainsKey("ReverseProxy__Clusters__details__Destinations__details-plain__Metadata__lane"));
        Assert.DoesNotContain(environment.Keys, static k => k.StartsWith("Lanes__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadInput_IsRefusedWithTheRule_OrNamesWhatIsMissing()
    {
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { DisableDashboard = true });
        var details = builder.AddLaneService("details");
        var instance = builder.AddExecutable("details-green", "details", ".").WithHttpEndpoint(name: "http");

        var invalid = Assert.Throws<ArgumentException>(() => instance.WithLane(details, "yel low\r\n"));
        Assert.Contains("'yel low\\x0D\\x0A' is not a lane", invalid.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => details.WithDeclaredLanes("green", new string('a', 64)));
        Assert.Throws<ArgumentOutOfRangeException>(() => details.WithPolicy((LanePolicy)42));

        // A caller of a service nothing serves: the app host says so when it resolves the caller's environment.
        var caller = builder.AddExecutable("productpage", "productpage", ".").WithLaneReference(details);
        var empty = await Assert.ThrowsAsync<InvalidOperationException>(() => EnvironmentOf(caller.Resource));
        Assert.Contains("has no instances: add one with WithLane", empty.Message, StringComparison.Ordinal);

        instance.WithLane(details, "green");
        Assert.Throws<InvalidOperationException>(() => instance.WithLane(details, "yellow"));   // one lane per instance
    }

    [Fact]
    public void LaneService_IsAResourceWithoutLifetime_LinkedToItsInstances_AndReferencedByCallersAndTheGateway()
    {
        // Aspire's conventions (issue 41): a holder of data has no lifetime instead of a made-up state, and the app
        // model's relationships are what the dashboard's graph draws: service -> each instance, caller -> service.
        var (builder, details) = Model();
        var caller = builder.AddExecutable("productpage", "productpage", ".").WithLaneReference(details);
        var gateway = builder.AddExecutable("gateway", "gateway", ".").WithLaneCluster(details);

        Assert.IsAssignableFrom<IResourceWithoutLifetime>(details.Resource);
        Assert.Equal(
            ["details-green LaneInstance", "details-yellow LaneInstance", "details-plain LaneInstance"],
            details.Resource.Annotations.OfType<ResourceRelationshipAnnotation>().Select(static r => $"{r.Resource.Name} {r.Type}"));
        Assert.Contains(caller.Resource.Annotations.OfType<ResourceRelationshipAnnotation>(), r => ReferenceEquals(r.Resource, details.Resource) && r.Type == "Reference");
        Assert.Contains(gateway.Resource.Annotations.OfType<ResourceRelationshipAnnotation>(), r => ReferenceEquals(r.Resource, details.Resource) && r.Type == "Reference");

        // The instances themselves reference nothing: the relationship goes from the service to them.
        var green = builder.Resources.Single(static r => r.Name == "details-green");
        Assert.Empty(green.Annotations.OfType<ResourceRelationshipAnnotation>());
    }
}
