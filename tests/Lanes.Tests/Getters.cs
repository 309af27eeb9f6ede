namespace Lanes.Tests;

internal static class Getters
{
    /// <summary>An OpenTelemetry-style getter over a case-insensitive view of a dictionary carrier.</summary>
    public static readonly Func<Dictionary<string, string>, string, IEnumerable<string>?> Dictionary =
        static (carrier, key) =>
        {
            foreach (var pair in carrier)
            {
                if (string.Equals(pair.Key, key, StringComparison.OrdinalIgnoreCase))
                {
                    return [pair.Value];
                }
            }

            return null;
        };

    public static readonly Action<Dictionary<string, string>, string, string> DictionarySetter =
        static (carrier, key, value) => carrier[key] = value;

    public static readonly Action<Dictionary<string, string>, string> DictionaryRemover =
        static (carrier, key) => carrier.Remove(key);
}
