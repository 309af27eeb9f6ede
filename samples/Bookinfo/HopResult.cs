using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bookinfo;

/// <summary>
/// What every bookinfo service answers, a contract outside checks rely on:
/// <c>{"service":"details","lane":"yellow","requestLane":"yellow","calls":[...]}</c>. <c>lane</c> is the instance's
/// lane (empty when unlabelled), <c>requestLane</c> the lane it received (empty without one), <c>calls</c> the same
/// shape for each downstream call. <c>error</c> appears only on a call that failed.
/// </summary>
public sealed record HopResult(
    [property: JsonPropertyName("service")] string Service,
    [property: JsonPropertyName("lane")] string Lane,
    [property: JsonPropertyName("requestLane")] string RequestLane,
    [property: JsonPropertyName("calls")] IReadOnlyList<HopResult> Calls)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [JsonPropertyName("error")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    /// <summary>The first hop named <paramref name="service"/> in this tree, depth first.</summary>
    public HopResult? Find(string service)
    {
        if (string.Equals(Service, service, StringComparison.Ordinal))
        {
            return this;
        }

        foreach (var call in Calls)
        {
            if (call.Find(service) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    internal static HopResult Failed(string service, string error) => new(service, string.Empty, string.Empty, []) { Error = error };
}
