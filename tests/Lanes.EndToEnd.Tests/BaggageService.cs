using System.Diagnostics;
using Lanes.Testing;
using Lanes.W3C;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Lanes.EndToEnd.Tests;

/// <summary>How <see cref="BaggageService"/> is set up.</summary>
internal sealed record BaggageSetup
{
    /// <summary>Lanes registered (AddLanes, UseLanes, AddLanePropagation); false gives the same app without Lanes.</summary>
    public bool Lanes { get; init; } = true;

    /// <summary>The OpenTelemetry SDK with ASP.NET Core and HttpClient instrumentation.</summary>
    public bool OpenTelemetry { get; init; }

    /// <summary><c>AddOpenTelemetry().WithLanes()</c> (only with <see cref="OpenTelemetry"/>).</summary>
    public bool WithLanes { get; init; } = true;

    /// <summary><c>AddDiagnosticsPropagation()</c>: the runtime hook for <c>new HttpClient()</c>.</summary>
    public bool Hook { get; init; }
}

/// <summary>
/// A service that calls an upstream from <c>/call</c>. Query parameters add baggage the way applications do:
/// <c>activity=k:v</c> (Activity baggage on a child Activity), <c>otel=k:v</c> (<c>Baggage.SetBaggage</c>),
/// <c>app=v</c> (a <c>baggage</c> header set on the request by application code), <c>header=v</c> (the lane header
/// set by application code), <c>client=new</c> (<c>new HttpClient()</c> instead of a factory client).
/// </summary>
internal static class BaggageService
{
    public static Task<RunningServer> StartAsync(Uri upstream, BaggageSetup setup)
        => TestServers.StartAsync(
            b =>
            {
                if (setup.Lanes)
                {
                    var lanes = b.Services.AddLanes();
                    if (setup.Hook)
                    {
                        lanes.AddDiagnosticsPropagation();
                    }

                    b.Services.AddHttpClient("up", c => c.BaseAddress = upstream).AddLanePropagation();
                }
                else
                {
                    b.Services.AddHttpClient("up", c => c.BaseAddress = upstream);
                }

                if (setup.OpenTelemetry)
                {
                    var otel = b.Services.AddOpenTelemetry();
                    if (setup.WithLanes)
                    {
                        otel.WithLanes();
                    }

                    otel.WithTracing(t => t.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddInMemoryExporter(new List<Activity>()));
                }
            },
            app =>
            {
                if (setup.Lanes)
                {
                    app.UseLanes();
                }

                app.MapGet("/call", async (HttpContext context, IHttpClientFactory factory) =>
                {
                    var query = context.Request.Query;
                    using var activity = query.TryGetValue("activity", out var a) ? StartActivityWithBaggage(a.ToString()) : null;
                    if (query.TryGetValue("otel", out var o))
                    {
                        var (key, value) = Split(o.ToString());
                        Baggage.SetBaggage(key, value);
                    }

                    using var request = new HttpRequestMessage(HttpMethod.Get, "/up");
                    if (query.TryGetValue("app", out var appBaggage))
                    {
                        request.Headers.TryAddWithoutValidation("baggage", appBaggage.ToString());
                    }

                    if (query.TryGetValue("header", out var header))
                    {
                        request.Headers.TryAddWithoutValidation("x-mspider-lane", header.ToString());
                    }

                    var ownClient = query["client"] == "new";
                    var client = ownClient ? new HttpClient { BaseAddress = upstream } : factory.CreateClient("up");
                    try
                    {
                        using var response = await client.SendAsync(request);
                        return Results.StatusCode((int)response.StatusCode);
                    }
                    finally
                    {
                        if (ownClient)
                        {
                            client.Dispose();
                        }
                    }
                });
            },
            new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });

    /// <summary>The members of a received <c>baggage</c> header (all values of all headers), as <c>key=decoded value</c>.</summary>
    public static List<string> Members(string? header)
    {
        var result = new List<string>();
        if (header is null)
        {
            return result;
        }

        var members = BaggageParser.Enumerate(header);
        while (members.MoveNext())
        {
            result.Add(string.Concat(members.Current.Key, "=", members.Current.DecodeValue()));
        }

        return result;
    }

    private static Activity StartActivityWithBaggage(string pair)
    {
        var (key, value) = Split(pair);
        var activity = new Activity("app-work");
        activity.AddBaggage(key, value);
        return activity.Start();
    }

    private static (string Key, string Value) Split(string pair)
    {
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        return (pair[..colon], pair[(colon + 1)..]);
    }
}
