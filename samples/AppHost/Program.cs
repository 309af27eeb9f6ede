// The mspider bookinfo scenario under Aspire: every instance a process of its own, the lane-aware gateway in front,
// the Aspire dashboard beside it.
//   dotnet run --project samples/AppHost            gateway on http://127.0.0.1:8080, dashboard URL printed
//   dotnet run --project samples/AppHost -- --GatewayPort 0    the gateway on a free port
// curl -H 'x-mspider-laneid: yellow' http://127.0.0.1:8080/productpage answers what every hop saw, as samples/Demo does.
using Lanes.Routing;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// The logical services (the host names callers use) and how each routes a lane it cannot serve.
var productpage = builder.AddLaneService("productpage").WithPolicy(LanePolicy.Permissive);
var details = builder.AddLaneService("details").WithPolicy(LanePolicy.Permissive);
var reviews = builder.AddLaneService("reviews").WithPolicy(LanePolicy.Permissive);
var ratings = builder.AddLaneService("ratings").WithPolicy(LanePolicy.Permissive);

// The instances of the mspider scenario: green everywhere, yellow for productpage, details and ratings only.
var instances = new Dictionary<string, List<IResourceBuilder<ProjectResource>>>();
IResourceBuilder<ProjectResource> Instance(IResourceBuilder<LaneServiceResource> service, string lane)
{
    var name = $"{service.Resource.Name}-{lane}";
    var instance = builder.AddProject<Projects.BookinfoService>(name, static o => o.ExcludeLaunchProfile = true)
        // Not proxied: a stopped instance refuses connections, which lane routing reads as "out" and re-picks at once.
        .WithHttpEndpoint(name: "http", isProxied: false)
        .WithEnvironment("Bookinfo__Service", service.Resource.Name)
        .WithEnvironment("Bookinfo__Lane", lane)
        .WithEnvironment("Bookinfo__Id", name)
        .WithEnvironment("Lanes__Preset", "mspider")
        .WithLane(service, lane);
    if (service.Resource.Name != "reviews")
    {
        instance.WithHttpHealthCheck("/health");    // reviews speaks HTTP/2 only (gRPC without TLS): Running is its readiness
    }

    (instances.TryGetValue(service.Resource.Name, out var list) ? list : instances[service.Resource.Name] = []).Add(instance);
    return instance;
}

// Callees first, so that every caller starts once what it calls answers (no connection refused while starting up).
foreach (var lane in new[] { "green", "yellow" })
{
    Instance(details, lane);
    Instance(ratings, lane);
}

Instance(reviews, "green").WithLaneReference(ratings).WaitForAll(instances["ratings"]);
foreach (var lane in new[] { "green", "yellow" })
{
    Instance(productpage, lane).WithLaneReference(details).WithLaneReference(reviews)
        .WaitForAll(instances["details"]).WaitForAll(instances["reviews"]);
}

// The gateway (samples/Gateway): x-mspider-laneid or x-mspider-lane in, the lane's productpage out, admin page on /lanes/ui.
var port = builder.Configuration.GetValue<int?>("GatewayPort") ?? 8080;
var gateway = builder.AddProject<Projects.Gateway>("gateway", static o => o.ExcludeLaunchProfile = true)
    .WithHttpEndpoint(name: "http", port: port == 0 ? null : port, isProxied: false)
    .WithLaneCluster(productpage)
    .WaitForAll(instances["productpage"])
    .WithUrlForEndpoint("http", static endpoint => new() { Url = "/lanes/ui", DisplayText = "Lanes admin page" });
var endpoint = gateway.GetEndpoint("http");
gateway.WithEnvironment("Urls", ReferenceExpression.Create($"http://127.0.0.1:{endpoint.Property(EndpointProperty.TargetPort)}"));

builder.Build().Run();

/// <summary>WaitFor over several resources.</summary>
internal static class WaitForExtensions
{
    public static IResourceBuilder<T> WaitForAll<T>(this IResourceBuilder<T> resource, IEnumerable<IResourceBuilder<ProjectResource>> dependencies)
        where T : IResourceWithWaitSupport
    {
        foreach (var dependency in dependencies)
        {
            resource.WaitFor(dependency);
        }

        return resource;
    }
}
