using Microsoft.Extensions.Primitives;

namespace Lanes.Resolution;

/// <summary>
/// Reads the values of one header (or message field) from a carrier. A struct implementation lets the
/// resolver run without allocation or delegate calls on the request path.
/// </summary>
internal interface ILaneValueReader
{
    StringValues GetValues(string name);
}
