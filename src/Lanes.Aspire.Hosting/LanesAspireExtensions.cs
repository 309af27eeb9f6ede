using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Lanes.Parsing;
using Lanes.Routing;

namespace Aspire.Hosting;

/// <summary>
/// Traffic lanes in an Aspire app host (docs/aspire.md): a logical service, its instances in lanes, and lane-aware
/// references that write every instance's endpoint and lane into the caller's configuration, so nothing is typed twice.
/// </summary>
/// <example><code>
/// var reviews = builder.AddLaneService("reviews");
/// builder.AddProject&lt;Projects.Reviews&gt;("reviews-green").WithLane(reviews, "green");
/// builder.AddProject&lt;Projects.Reviews&gt;("reviews-yellow").WithLane(reviews, "yellow");
/// builder.AddProject&lt;Projects.ProductPage&gt;("productpage").WithLaneReference(reviews);
/// </code></example>
public static class LanesAspireExtensions
{
    /// <summary>The dashboard property that names an instance's lane (<c>(unlabelled)</c> for the baseline's unlabelled instances).</summary>
    public const string LaneProperty = "lanes.lane";

    /// <summary>The dashboard property that names the logical service an instance serves.</summary>
    public const string ServiceProperty = "lanes.service";

    private const string Unlabelled = "(unlabelled)";

    /// <summary>The relationship type from a lane service to each of its instances (the dashboard's graph draws it).</summary>
    private const string InstanceRelationship = "LaneInstance";

    /// <summary>
    /// Adds the logical service <paramref name="name"/> (the host name its callers use). It runs nothing (a resource
    /// without lifetime): the dashboard shows it with its policy and instances.
    /// </summary>
    public static IResourceBuilder<LaneServiceResource> AddLaneService(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var service = builder.AddResource(new LaneServiceResource(name))
            .ExcludeFromManifest()
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "LaneService",
                Properties = [],
            });

        // The dashboard lists the service's settings and instances once the model is complete.
        builder.Eventing.Subscribe<BeforeStartEvent>((e, cancellationToken) =>
        {
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            var resource = service.Resource;
            return notifications.PublishUpdateAsync(resource, s => s with
            {
                Properties = s.Properties
                    .With("lanes.policy", resource.Policy.ToString())
                    .With("lanes.declared", string.Join(",", resource.DeclaredLanes))
                    .With("lanes.baseline", resource.Baseline switch { null => "(not set: the default lane)", "" => Unlabelled, var lane => lane })
                    .With("lanes.instances", string.Join(", ", resource.Instances.Select(static i => $"{i.Resource.Name} ({i.Lane ?? Unlabelled})"))),
            });
        });
        return service;
    }

    /// <summary>Sets what a request whose lane has no instance gets (docs/behaviour.md, "Subset selection").</summary>
    public static IResourceBuilder<LaneServiceResource> WithPolicy(this IResourceBuilder<LaneServiceResource> service, LanePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!Enum.IsDefined(policy))
        {
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "Use Strict, Permissive, Declared or Any.");
        }

        service.Resource.Policy = policy;
        return service;
    }

    /// <summary>Declares the service's lanes (for <see cref="LanePolicy.Declared"/>: a declared lane without instances is refused, others fall back).</summary>
    public static IResourceBuilder<LaneServiceResource> WithDeclaredLanes(this IResourceBuilder<LaneServiceResource> service, params string[] lanes)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(lanes);
        service.Resource.DeclaredLanes = [.. lanes.Select(static l => Valid(l, nameof(lanes)))];
        return service;
    }

    /// <summary>
    /// Serves requests without a lane, and those that fall back, from <paramref name="lane"/>'s instances, or from the
    /// unlabelled instances for null. Without it, each caller's default lane is the baseline (its unlabelled instances
    /// when it has no default lane).
    /// </summary>
    public static IResourceBuilder<LaneServiceResource> WithBaseline(this IResourceBuilder<LaneServiceResource> service, string? lane)
    {
        ArgumentNullException.ThrowIfNull(service);
        service.Resource.Baseline = lane is null ? string.Empty : Valid(lane, nameof(lane));
        return service;
    }

    /// <summary>
    /// Makes this resource an instance of <paramref name="service"/> in <paramref name="lane"/> (null: unlabelled, the
    /// baseline), reached at its endpoint <paramref name="endpointName"/>. The service and lane are an annotation on this
    /// resource; the dashboard shows them as the properties <see cref="ServiceProperty"/> and <see cref="LaneProperty"/>,
    /// and the service's graph links to this resource.
    /// </summary>
    public static IResourceBuilder<T> WithLane<T>(this IResourceBuilder<T> instance, IResourceBuilder<LaneServiceResource> service, string? lane, string endpointName = "http")
        where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrEmpty(endpointName);
        var label = lane is null ? null : Valid(lane, nameof(lane));
        if (LaneInstanceAnnotation.Of(instance.Resource, service.Resource) is not null)
        {
            throw new InvalidOperationException($"'{instance.Resource.Name}' is already an instance of the lane service '{service.Resource.Name}'.");
        }

        instance.WithAnnotation(new LaneInstanceAnnotation(service.Resource, instance.Resource, endpointName, label));
        service.Resource.Add(instance.Resource);
        service.WithRelationship(instance.Resource, InstanceRelationship);
        instance.ApplicationBuilder.Eventing.Subscribe<BeforeResourceStartedEvent>(instance.Resource, (e, cancellationToken) =>
            e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(e.Resource, s => s with
            {
                Properties = s.Properties
                    .With(ServiceProperty, service.Resource.Name)
                    .With(LaneProperty, label ?? Unlabelled),
            }));
        return instance;
    }

    /// <summary>
    /// Gives this resource lane-routed calls to <paramref name="service"/>: its <c>Lanes:Services:&lt;service&gt;</c>
    /// entry (policy, declared lanes, baseline, and every instance's address and lane) comes from the app model as
    /// environment variables, read by <c>AddLaneRouting()</c> / <c>AddGrpcLaneRouting()</c> in the service.
    /// </summary>
    public static IResourceBuilder<T> WithLaneReference<T>(this IResourceBuilder<T> caller, IResourceBuilder<LaneServiceResource> service)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(service);
        caller.WithReferenceRelationship(service.Resource);
        return caller.WithEnvironment(context => Write(context.EnvironmentVariables, $"Lanes__Services__{service.Resource.Name}__", "Instances", service.Resource));
    }

    /// <summary>
    /// Gives a YARP gateway built on <c>Lanes.ReverseProxy</c> the cluster <paramref name="service"/>: its lane metadata and one
    /// destination per instance (<c>ReverseProxy:Clusters:&lt;service&gt;</c>, destination ids the instances' resource names)
    /// with the instance's lane, so <c>UseLaneSubsets()</c> routes by lane. Routes to the cluster stay the gateway's own.
    /// </summary>
    public static IResourceBuilder<T> WithLaneCluster<T>(this IResourceBuilder<T> gateway, IResourceBuilder<LaneServiceResource> service)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(service);
        gateway.WithReferenceRelationship(service.Resource);
        return gateway.WithEnvironment(context => Write(context.EnvironmentVariables, $"ReverseProxy__Clusters__{service.Resource.Name}__", "Destinations", service.Resource));
    }

    private static void Write(Dictionary<string, object> environment, string prefix, string instances, LaneServiceResource service)
    {
        if (service.InstanceCount == 0)
        {
            throw new InvalidOperationException(
                $"The lane service '{service.Name}' has no instances: add one with WithLane(service, lane) on a resource (null lane for an unlabelled instance).");
        }

        environment[prefix + "Metadata__" + LaneRoutingMetadata.Policy] = service.Policy.ToString();
        if (service.DeclaredLanes.Count > 0)
        {
            environment[prefix + "Metadata__" + LaneRoutingMetadata.Lanes] = string.Join(",", service.DeclaredLanes);
        }

        if (service.Baseline is { } baseline)
        {
            environment[prefix + "Metadata__" + LaneRoutingMetadata.Baseline] = baseline;
        }

        foreach (var instance in service.Instances)
        {
            var key = $"{prefix}{instances}__{instance.Resource.Name}__";
            environment[key + "Address"] = instance.Endpoint;
            if (instance.Lane is { } lane)
            {
                environment[key + "Metadata__" + LaneRoutingMetadata.Lane] = lane;
            }
        }
    }

    /// <summary>The properties with <paramref name="name"/> set to <paramref name="value"/>, replacing an earlier value.</summary>
    private static System.Collections.Immutable.ImmutableArray<ResourcePropertySnapshot> With(
        this System.Collections.Immutable.ImmutableArray<ResourcePropertySnapshot> properties, string name, string value)
    {
        var property = new ResourcePropertySnapshot(name, value);
        for (var i = 0; i < properties.Length; i++)
        {
            if (properties[i].Name == name)
            {
                return properties.SetItem(i, property);
            }
        }

        return properties.Add(property);
    }

    private static string Valid(string lane, string parameter)
    {
        ArgumentNullException.ThrowIfNull(lane, parameter);
        var status = LaneParser.Validate(lane, LaneParser.DefaultMaxLength);
        return status == LaneParseStatus.Valid
            ? lane
            : throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"'{LaneParser.Escape(lane)}' is not a lane: {LaneParser.Describe(status, LaneParser.DefaultMaxLength)} ({LaneParser.Rule(LaneParser.DefaultMaxLength)})."),
                parameter);
    }
}
