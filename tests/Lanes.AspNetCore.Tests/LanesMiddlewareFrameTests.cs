using Lanes.Resolution;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lanes.AspNetCore.Tests;

/// <summary>The request's lane frame never outlives the request, whether the rest of the pipeline completes synchronously or not.</summary>
public class LanesMiddlewareFrameTests
{
    private static LanesMiddleware Create(RequestDelegate next)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLanes(static o => o.UsePreset("mspider"));
        var provider = services.BuildServiceProvider();
        return new LanesMiddleware(next, provider.GetRequiredService<LaneResolver>(), provider.GetRequiredService<Lanes.Routing.LaneTelemetry>(), provider.GetRequiredService<ILogger<LanesMiddleware>>());
    }

    private static DefaultHttpContext Request(string lane)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-mspider-lane"] = lane;
        return context;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Invoke_AfterTheRequest_TheCallersLaneIsBack(bool asynchronous)
    {
        string? inside = null;
        var middleware = Create(async _ =>
        {
            inside = LaneContext.Current;
            if (asynchronous)
            {
                await Task.Yield();
            }
        });

        string? after;
        using (LaneContext.Begin("caller"))
        {
            await middleware.InvokeAsync(Request("yellow"));
            after = LaneContext.Current;
        }

        Assert.Equal("yellow", inside);
        Assert.Equal("caller", after);
        Assert.Null(LaneContext.Current);
    }

    [Fact]
    public async Task Invoke_ManyDistinctLanes_EachRequestSeesItsOwnLane()
    {
        // More lanes than the frame cache holds: cached and uncached frames must both be right.
        var middleware = Create(static context =>
        {
            Assert.Equal(context.Request.Headers["x-mspider-lane"].ToString(), LaneContext.Current);
            return Task.CompletedTask;
        });

        for (var i = 0; i < 600; i++)
        {
            await middleware.InvokeAsync(Request("lane-" + (i % 300)));
        }
    }
}
