using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Lanes.ReverseProxy.Configuration;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Admin;

/// <summary>
/// The admin endpoints under one route group (so one <c>RequireAuthorization</c> covers them all): the JSON report, the
/// page and its two assets (embedded; no CDN, no build step), and the tracer.
/// </summary>
internal static class LanesAdminEndpoints
{
    /// <summary>The page's policy: its own script and style only, no inline code, no eval, no framing, fetches to itself only.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>The largest trace body read; a larger one is answered 413.</summary>
    public const int MaxTraceBodyBytes = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, (string ContentType, byte[] Content)> Assets = new(StringComparer.Ordinal)
    {
        ["dashboard.js"] = ("text/javascript; charset=utf-8", Read("dashboard.js")),
        ["dashboard.css"] = ("text/css; charset=utf-8", Read("dashboard.css")),
        ["favicon.svg"] = ("image/svg+xml", Read("favicon.svg")),
    };

    private static readonly string Page = Encoding.UTF8.GetString(Read("index.html"));

    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string pattern)
    {
        var services = endpoints.ServiceProvider;
        var sources = LaneAdminSources.For(services);
        services.GetRequiredService<LaneGatewayEvents>().ExcludeFromCounts(pattern);
        sources.Tracer.UseEndpoints(endpoints.DataSources);

        var group = endpoints.MapGroup(pattern);
        group.WithMetadata(new LanesAdminEndpointMetadata(pattern));
        group.MapGet(string.Empty, (HttpContext context, LanePropagator propagator, LaneGatewayConfigSource config, LaneClusterRouting routing) =>
        {
            NoStore(context.Response);
            return Results.Json(LanesAdminReport.Build(propagator.Settings, config.Current, routing, sources), Json);
        }).WithDisplayName("Lanes admin report");
        group.MapGet("/ui", static (HttpContext context) => WriteAsync(context, "text/html; charset=utf-8", RenderPage(context))).WithDisplayName("Lanes admin page");
        group.MapGet("/ui/{asset}", static (HttpContext context, string asset) =>
            Assets.TryGetValue(asset, out var file) ? WriteAsync(context, file.ContentType, file.Content) : Results.NotFound().ExecuteAsync(context))
            .WithDisplayName("Lanes admin page assets");
        group.MapPost("/trace", (Delegate)((HttpContext context) => TraceAsync(context, sources.Tracer))).WithDisplayName("Lanes admin tracer");
        return group;
    }

    private static async Task<IResult> TraceAsync(HttpContext context, LaneRequestTracer tracer)
    {
        NoStore(context.Response);
        if (context.Request.ContentLength > MaxTraceBodyBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"The trace body is limited to {MaxTraceBodyBytes} bytes.");
        }

        if (!context.Request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Send the trace as application/json.");
        }

        LaneTraceRequest? request;
        try
        {
            using var limited = new MemoryStream();
            await CopyLimitedAsync(context.Request.Body, limited, context.RequestAborted).ConfigureAwait(false);
            limited.Position = 0;
            request = await JsonSerializer.DeserializeAsync<LaneTraceRequest>(limited, Json, context.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"The trace body is limited to {MaxTraceBodyBytes} bytes.");
        }
        catch (JsonException)
        {
            return Problem(StatusCodes.Status400BadRequest,
                "The body must be JSON: { \"method\", \"path\", \"headers\": {}, \"cookies\": {}, \"query\": {} } with string values.");
        }

        if (request is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body must be a JSON object.");
        }

        if (LaneTraceValidation.Check(request) is { } problem)
        {
            return Problem(StatusCodes.Status400BadRequest, problem);
        }

        return Results.Json(await tracer.TraceAsync(request, context).ConfigureAwait(false), Json);
    }

    private static async Task CopyLimitedAsync(Stream source, MemoryStream target, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (target.Length + read > MaxTraceBodyBytes)
            {
                throw new InvalidDataException();
            }

            target.Write(buffer, 0, read);
        }
    }

    /// <summary>The page with its base path (where the report, assets and tracer are) HTML-encoded into it; the only value the server writes into HTML.</summary>
    private static byte[] RenderPage(HttpContext context)
    {
        var path = (context.Request.PathBase + context.Request.Path).Value ?? string.Empty;
        path = path.TrimEnd('/');
        var basePath = path.EndsWith("/ui", StringComparison.Ordinal) ? path[..^3] : path;
        return Encoding.UTF8.GetBytes(Page.Replace("{{base}}", HtmlEncoder.Default.Encode(basePath), StringComparison.Ordinal));
    }

    private static IResult Problem(int status, string detail)
        => Results.Problem(detail: detail, statusCode: status, title: "Invalid trace request");

    private static Task WriteAsync(HttpContext context, string contentType, byte[] content)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        NoStore(response);
        response.ContentType = contentType;
        response.ContentLength = content.Length;
        return response.Body.WriteAsync(content).AsTask();
    }

    private static void NoStore(HttpResponse response) => response.Headers.CacheControl = "no-store";

    private static byte[] Read(string name)
    {
        using var stream = typeof(LanesAdminEndpoints).Assembly.GetManifestResourceStream("Lanes.ReverseProxy.Admin.Assets." + name)
            ?? throw new InvalidOperationException($"The admin page asset '{name}' is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
