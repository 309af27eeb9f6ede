using Microsoft.Extensions.Configuration;

namespace Lanes.Testing;

/// <summary>
/// A configuration source whose whole content a test replaces at once, firing the reload token the way a file or a
/// Kubernetes ConfigMap provider does, without waiting for a file watcher.
/// </summary>
internal sealed class SwappableConfiguration : IConfigurationSource
{
    private readonly Provider _provider = new();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => _provider;

    /// <summary>Replaces every key and signals a reload.</summary>
    public void Replace(IDictionary<string, string?> values) => _provider.Replace(values);

    private sealed class Provider : ConfigurationProvider
    {
        public void Replace(IDictionary<string, string?> values)
        {
            Data = new Dictionary<string, string?>(values, StringComparer.OrdinalIgnoreCase);
            OnReload();
        }
    }
}
