using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Lanes.AspNetCore;

/// <summary>Reads lane sources from ASP.NET Core request headers, for <see cref="LaneResolver"/>, and edits them as a carrier (the gateway's entry).</summary>
internal readonly struct HttpHeadersLaneReader : ILaneCarrier
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

    /// <inheritdoc/>
    public void SetValue(string name, string value) => _headers.Append(name, value);

    /// <inheritdoc/>
    public void Remove(string name) => _headers.Remove(name);
}
