using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Lanes.AspNetCore;

/// <summary>Reads lane sources from ASP.NET Core request headers, for <see cref="LaneResolver"/>.</summary>
internal readonly struct HttpHeadersLaneReader : ILaneValueReader
{
    private readonly IHeaderDictionary _headers;

    /// <summary>Reads <paramref name="headers"/>.</summary>
    public HttpHeadersLaneReader(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers;
    }

    /// <inheritdoc/>
    public StringValues GetValues(string name) => _headers[name];
}
