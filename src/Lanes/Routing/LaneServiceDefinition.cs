using System.Collections.Frozen;
using System.Globalization;
using Lanes.Parsing;

namespace Lanes.Routing;

/// <summary>A validated <see cref="LaneServiceOptions"/>: the routing settings and the instances with their lanes.</summary>
public sealed class LaneServiceDefinition
{
    /// <summary>A service with its routing settings and instances (sorted by id).</summary>
    public LaneServiceDefinition(string name, LaneSubsetSettings settings, IReadOnlyList<LaneServiceInstance> instances)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(instances);
        Name = name;
        Settings = settings;
        Instances = instances;
    }

    /// <summary>The service name (the host of <c>http://details</c>, the path of <c>lanes:///reviews</c>).</summary>
    public string Name { get; }

    /// <summary>The service's routing settings.</summary>
    public LaneSubsetSettings Settings { get; }

    /// <summary>The instances.</summary>
    public IReadOnlyList<LaneServiceInstance> Instances { get; }

    /// <summary>Adds a message per problem to <paramref name="failures"/>, each naming the key under <c>Lanes:Services</c>.</summary>
    internal static void Validate(IDictionary<string, LaneServiceOptions> services, int maxLength, List<string> failures)
    {
        foreach (var (name, service) in services)
        {
            Build(name, service, defaultLane: null, maxLength, failures);
        }
    }

    internal static FrozenDictionary<string, LaneServiceDefinition> BuildAll(IDictionary<string, LaneServiceOptions> services, string? defaultLane, int maxLength)
    {
        var failures = new List<string>();
        var result = new Dictionary<string, LaneServiceDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, service) in services)
        {
            if (Build(name, service, defaultLane, maxLength, failures) is { } definition)
            {
                result[name] = definition;
            }
        }

        return result.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    private static LaneServiceDefinition? Build(string name, LaneServiceOptions? service, string? defaultLane, int maxLength, List<string> failures)
    {
        var at = $"{LaneOptions.SectionName}:Services:{name}";
        if (service is null)
        {
            failures.Add($"{at} is empty: give it Instances.");
            return null;
        }

        var count = failures.Count;
        if (!LaneRoutingMetadata.TryReadService(ToReadOnly(service.Metadata), defaultLane, maxLength, out var settings, out var error))
        {
            failures.Add($"{at}:Metadata {error}");
        }

        if (service.Instances.Count == 0)
        {
            failures.Add($"{at}:Instances is empty: list at least one instance with an Address.");
        }

        var instances = new List<LaneServiceInstance>(service.Instances.Count);
        foreach (var (id, instance) in service.Instances)
        {
            var instanceAt = $"{at}:Instances:{id}";
            if (instance is null || !Uri.TryCreate(instance.Address, UriKind.Absolute, out var address)
                || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{instanceAt}:Address must be an absolute http or https address (got '{LaneParser.Escape(instance?.Address ?? string.Empty)}').");
                continue;
            }

            if (!LaneRoutingMetadata.TryReadInstanceLane(ToReadOnly(instance.Metadata), maxLength, out var lane, out error))
            {
                failures.Add($"{instanceAt}:Metadata {error}");
                continue;
            }

            instances.Add(new LaneServiceInstance(id, address, lane));
        }

        if (failures.Count > count)
        {
            return null;
        }

        instances.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new LaneServiceDefinition(name, settings!, [.. instances]);
    }

    private static Dictionary<string, string> ToReadOnly(IDictionary<string, string> metadata)
        => new(metadata, StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Instances.Count} instances)");
}

/// <summary>One instance of a <see cref="LaneServiceDefinition"/>.</summary>
public sealed class LaneServiceInstance(string id, Uri address, string? lane)
{
    /// <summary>The instance id (its key under <c>Instances</c>).</summary>
    public string Id { get; } = id;

    /// <summary>The instance's base address.</summary>
    public Uri Address { get; } = address;

    /// <summary>The lane label, or <see langword="null"/> when unlabelled.</summary>
    public string? Lane { get; } = lane;

    /// <summary>
    /// Where the instance and its lane came from, for people reading an admin page or a log: <c>configuration</c>,
    /// <c>kubernetes</c>, <c>service discovery</c> (a provider that gives no lane feature); <see langword="null"/> when not known.
    /// </summary>
    public string? Origin { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"{Id} {Address} {Lane ?? "(unlabelled)"}";
}
