using Microsoft.Extensions.Primitives;

namespace Lanes.Resolution;

/// <summary>
/// Reads the values of one header (or message field) from a carrier: HTTP request headers, gRPC metadata, message
/// headers. Implement it as a struct over the carrier; <see cref="LaneResolver"/> and <see cref="LanePropagator"/>
/// then run without allocation or delegate calls.
/// </summary>
public interface ILaneValueReader
{
    /// <summary>Every value of the field <paramref name="name"/> (empty when absent). HTTP-like carriers match names case-insensitively.</summary>
    StringValues GetValues(string name);
}
