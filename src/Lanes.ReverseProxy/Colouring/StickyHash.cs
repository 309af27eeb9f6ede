namespace Lanes.ReverseProxy.Colouring;

/// <summary>
/// A stable hash of a sticky key into 10,000 buckets: FNV-1a over the UTF-16 code units of the rule's lane and the
/// key, then a MurmurHash3 finaliser for an even spread. The same key and lane always land in the same bucket, in
/// every process and on every machine (unlike <see cref="string.GetHashCode()"/>).
/// </summary>
internal static class StickyHash
{
    public const int Buckets = 10_000;

    public static int Bucket(string salt, ReadOnlySpan<char> key)
    {
        var hash = 2166136261u;
        foreach (var c in salt)
        {
            hash = (hash ^ c) * 16777619u;
        }

        hash = (hash ^ '\n') * 16777619u;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 16777619u;
        }

        hash ^= hash >> 16;
        hash *= 0x85ebca6bu;
        hash ^= hash >> 13;
        hash *= 0xc2b2ae35u;
        hash ^= hash >> 16;
        return (int)(hash % Buckets);
    }
}
