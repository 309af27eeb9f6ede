// The servers the load scripts measure, one per process, all on 127.0.0.1:
//   upstream  --port P [--name NAME]                     answers 200 "ok" (or NAME) to anything
//   yarp-failover --port P --yellow URL,URL --green URL  plain YARP as the failover run compares it (benchmarks/failover):
//                                                        a route on x-mspider-lane: yellow to a yellow cluster, the rest
//                                                        to green, active health every 5 s as samples/Gateway
//   yarp      --port P --upstream URL --lanes N          plain YARP as a user would set it up without Lanes:
//                                                        one header-matched route and one cluster per lane
//   lanes     --port P --upstream URL --lanes N          the Lanes gateway: one route, one cluster, N lane subsets
//             [--shadow PERCENT --shadow-upstream URL [--shadow-max N]]
//                                                        and a shadow rule mirroring that share of the baseline's (lane-0)
//                                                        requests to lane "shadow" at URL; /lanes (the admin report) on
//                                                        loopback says how many were mirrored and dropped
//   chain     --port P --mode lanes|headerprop|none [--next URL]
//                                                        one hop of a chain: calls --next (if any) and answers
using System.Globalization;

var mode = args.Length > 0 ? args[0] : string.Empty;
string Option(string name, string? fallback = null)
{
    var index = Array.IndexOf(args, "--" + name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback ?? throw new ArgumentException($"--{name} is required");
}

var port = int.Parse(Option("port"), CultureInfo.InvariantCulture);
var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
builder.Logging.ClearProviders();
var config = new Dictionary<string, string?>();

switch (mode)
{
    case "upstream":
    {
        var name = Option("name", "ok");
        var app = builder.Build();
        app.Run(context => context.Response.WriteAsync(name));
        await app.RunAsync();
        return 0;
    }

    case "yarp":
    case "lanes":
    {
        var upstream = Option("upstream");
        var lanes = int.Parse(Option("lanes"), CultureInfo.InvariantCulture);
        if (mode == "yarp")
        {
            // Per lane: a route matching x-mspider-lane exactly, to a cluster of that lane's instances.
            for (var i = 0; i < lanes; i++)
            {
                config[$"ReverseProxy:Routes:lane-{i}:ClusterId"] = $"lane-{i}";
                config[$"ReverseProxy:Routes:lane-{i}:Match:Path"] = "{**catch-all}";
                config[$"ReverseProxy:Routes:lane-{i}:Match:Headers:0:Name"] = "x-mspider-lane";
                config[$"ReverseProxy:Routes:lane-{i}:Match:Headers:0:Values:0"] = $"lane-{i}";
                config[$"ReverseProxy:Routes:lane-{i}:Order"] = "0";
                config[$"ReverseProxy:Clusters:lane-{i}:Destinations:d:Address"] = upstream;
            }

            // No header: the baseline lane.
            config["ReverseProxy:Routes:default:ClusterId"] = "lane-0";
            config["ReverseProxy:Routes:default:Match:Path"] = "{**catch-all}";
            config["ReverseProxy:Routes:default:Order"] = "1";
        }
        else
        {
            config["Lanes:Header"] = "x-mspider-lane";
            config["Lanes:DefaultLane"] = "lane-0";
            config["ReverseProxy:Routes:all:ClusterId"] = "all";
            config["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}";
            for (var i = 0; i < lanes; i++)
            {
                config[$"ReverseProxy:Clusters:all:Destinations:lane-{i}:Address"] = upstream;
                config[$"ReverseProxy:Clusters:all:Destinations:lane-{i}:Metadata:lane"] = $"lane-{i}";
            }

            if (Array.IndexOf(args, "--shadow") >= 0)
            {
                config["ReverseProxy:Clusters:all:Destinations:shadow:Address"] = Option("shadow-upstream");
                config["ReverseProxy:Clusters:all:Destinations:shadow:Metadata:lane"] = "shadow";
                config["Lanes:Shadow:bench:Cluster"] = "all";
                config["Lanes:Shadow:bench:Lane"] = "shadow";
                config["Lanes:Shadow:bench:Percent"] = Option("shadow");
                config["Lanes:Shadow:bench:MaxConcurrent"] = Option("shadow-max", "32");
            }
        }

        builder.Configuration.AddInMemoryCollection(config);
        var proxy = builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        if (mode == "lanes")
        {
            proxy.AddLanes();
        }

        var app = builder.Build();
        if (mode == "lanes")
        {
            app.MapLanesAdmin().AllowAnonymousOnLoopback();
        }

        app.MapReverseProxy(pipeline =>
        {
            if (mode == "lanes")
            {
                pipeline.UseLaneSubsets();
            }

            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        await app.RunAsync();
        return 0;
    }

    case "yarp-failover":
    {
        var yellow = Option("yellow").Split(',');
        config["ReverseProxy:Routes:yellow:ClusterId"] = "yellow";
        config["ReverseProxy:Routes:yellow:Match:Path"] = "{**catch-all}";
        config["ReverseProxy:Routes:yellow:Match:Headers:0:Name"] = "x-mspider-lane";
        config["ReverseProxy:Routes:yellow:Match:Headers:0:Values:0"] = "yellow";
        config["ReverseProxy:Routes:yellow:Order"] = "0";
        config["ReverseProxy:Routes:green:ClusterId"] = "green";
        config["ReverseProxy:Routes:green:Match:Path"] = "{**catch-all}";
        config["ReverseProxy:Routes:green:Order"] = "1";
        config["ReverseProxy:Clusters:green:Destinations:g:Address"] = Option("green");
        for (var i = 0; i < yellow.Length; i++)
        {
            config[$"ReverseProxy:Clusters:yellow:Destinations:y{i}:Address"] = yellow[i];
        }

        foreach (var cluster in new[] { "yellow", "green" })
        {
            config[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Enabled"] = "true";
            config[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Interval"] = "00:00:05";
            config[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Timeout"] = "00:00:02";
            config[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Policy"] = "ConsecutiveFailures";
            config[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Path"] = "/health";
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
        return 0;
    }

    case "chain":
    {
        var hopMode = Option("mode");
        var next = Option("next", string.Empty);
        config["Lanes:Header"] = "x-mspider-lane";
        config["Lanes:DefaultLane"] = "lane-0";
        builder.Configuration.AddInMemoryCollection(config);
        var client = next.Length == 0 ? null : builder.Services.AddHttpClient("next", c => c.BaseAddress = new Uri(next));
        switch (hopMode)
        {
            case "lanes":
                builder.Services.AddLanes();
                client?.AddLanePropagation();
                break;
            case "headerprop":
                builder.Services.AddHeaderPropagation(static o => o.Headers.Add("x-mspider-lane"));
                client?.AddHeaderPropagation();
                break;
            case "none":
                break;
            default:
                throw new ArgumentException("--mode is lanes, headerprop or none");
        }

        var app = builder.Build();
        if (hopMode == "lanes")
        {
            app.UseLanes();
        }
        else if (hopMode == "headerprop")
        {
            app.UseHeaderPropagation();
        }

        app.Run(async context =>
        {
            if (next.Length > 0)
            {
                using var response = await context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient("next").GetAsync("/", context.RequestAborted);
                context.Response.StatusCode = (int)response.StatusCode;
            }

            await context.Response.WriteAsync("ok");
        });
        await app.RunAsync();
        return 0;
    }

    default:
        await Console.Error.WriteLineAsync("usage: upstream|yarp|lanes|chain --port P ...");
        return 2;
}
