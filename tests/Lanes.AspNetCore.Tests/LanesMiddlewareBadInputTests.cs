using Lanes.Resolution;
using Lanes.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore.Tests;

/// <summary>
/// Values Kestrel itself refuses on the wire (CR, LF, NUL, non-ASCII) can still reach the middleware from other
/// servers, HTTP/2 hosts or in-process callers, so the middleware is driven directly here.
/// </summary>
public class LanesMiddlewareBadInputTests
{
    private static (LanesMiddleware Middleware, InMemoryLoggerProvider Logs, Func<(string? Lane, LaneSource Source)> Seen) Create(Action<LaneOptions> configure)
    {
        var logs = new InMemoryLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        services.AddLanes(configure);
        var provider = services.BuildServiceProvider();
        (string?, LaneSource) seen = default;
        var middleware = new LanesMiddleware(
            _ =>
            {
                seen = (LaneContext.Current, LaneContext.CurrentSource);
                return Task.CompletedTask;
            },
            provider.GetRequiredService<LaneResolver>(),
            provider.GetRequiredService<Lanes.Routing.LaneTelemetry>(),
            provider.GetRequiredService<ILogger<LanesMiddleware>>());
        return (middleware, logs, () => seen);
    }

    public static TheoryData<string> HostileValues => new()
    {
        "yellow\r\nSet-Cookie: session=stolen",
        "yellow\nINFO fake log line",
        "yel\0low",
        "gr\u00fcn",
        "\u9ec4\u8272",
        new string('y', 8 * 1024),
        new string('y', 64 * 1024),
        "${jndi:ldap://x/a}",
        "../../../etc/passwd",
        "",
        "   ",
    };

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task Invoke_HostileValue_IgnoredDefaultAppliedAndLoggedEscaped(string value)
    {
        var (middleware, logs, seen) = Create(o => o.UsePreset("mspider"));
        var context = new DefaultHttpContext();
        context.Request.Headers["x-mspider-lane"] = value;

        await middleware.InvokeAsync(context);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(("green", LaneSource.Default), seen());
        var record = Assert.Single(logs.Records, r => r.EventId.Id == 1);
        Assert.Equal(LogLevel.Debug, record.Level);
        Assert.DoesNotContain('\r', record.Message);
        Assert.DoesNotContain('\n', record.Message);
        Assert.DoesNotContain('\0', record.Message);
        Assert.True(record.Message.Length < 250, "the logged value is cut");
        Assert.All(record.Message, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public async Task Invoke_HundredRepeatedHeaders_SameValueIsOneLane()
    {
        var (middleware, _, seen) = Create(o => o.UsePreset("nsf"));
        var context = new DefaultHttpContext();
        context.Request.Headers["x-nsf-mark"] = Enumerable.Repeat("dev1", 100).ToArray();

        await middleware.InvokeAsync(context);

        Assert.Equal(("dev1", LaneSource.Header), seen());
    }

    [Fact]
    public async Task Invoke_RepeatedHeadersDifferentValues_AreIgnoredAsAmbiguous()
    {
        var (middleware, _, seen) = Create(o => o.UsePreset("nsf"));
        var context = new DefaultHttpContext();
        context.Request.Headers["x-nsf-mark"] = new[] { "dev1", "dev2" };

        await middleware.InvokeAsync(context);

        Assert.Equal((null, LaneSource.None), seen());
    }

    [Fact]
    public async Task Invoke_AfterRequest_AmbientLaneIsRestored()
    {
        var (middleware, _, _) = Create(o => o.UsePreset("nsf"));
        var context = new DefaultHttpContext();
        context.Request.Headers["x-nsf-mark"] = "dev1";

        using (LaneContext.Begin("outer"))
        {
            await middleware.InvokeAsync(context);
            Assert.Equal("outer", LaneContext.Current);
        }
    }

    [Fact]
    public async Task Invoke_RequestWithoutLane_DoesNotSeeAmbientLaneFromOutside()
    {
        var (middleware, _, seen) = Create(o => o.UsePreset("nsf"));

        using (LaneContext.Begin("outer"))
        {
            await middleware.InvokeAsync(new DefaultHttpContext());
        }

        Assert.Equal((null, LaneSource.None), seen());
    }
}
