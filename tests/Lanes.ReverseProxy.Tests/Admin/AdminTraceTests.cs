using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Lanes.ReverseProxy.Admin;
using Lanes.ReverseProxy.Routing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Lanes.Testing;

namespace Lanes.ReverseProxy.Tests.Admin;

public sealed class AdminTraceTests
{
    [Theory]
    [InlineData("dev1", HttpStatusCode.OK)]
    [InlineData("dev2", HttpStatusCode.ServiceUnavailable)]
    [InlineData("dev3", HttpStatusCode.OK)]
    [InlineData(null, HttpStatusCode.OK)]
    public async Task Trace_HangoCases_AnswersAsTheGatewayDoesForReal(string? mark, HttpStatusCode realStatus)
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(
            SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("DebugHeaders", "true"), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        (string, string)[] headers = mark is null ? [] : [("x-nsf-mark", mark)];

        var trace = await TraceAsync(gateway, new { method = "GET", path = "/svc1", headers = mark is null ? new Dictionary<string, string>() : new() { ["x-nsf-mark"] = mark } });
        var (real, echo) = await gateway.SendAsync("/svc1", headers);

        Assert.Equal(realStatus, real.StatusCode);
        Assert.Equal(Header(real, "x-lane-served"), Str(trace, "served"));
        Assert.Equal(Header(real, "x-lane-fallback"), Str(trace, "reason"));
        int? expectedStatus = realStatus == HttpStatusCode.OK ? null : (int)realStatus;
        int? tracedStatus = trace.GetProperty("status").ValueKind == JsonValueKind.Null ? null : trace.GetProperty("status").GetInt32();
        Assert.Equal(expectedStatus, tracedStatus);
        Assert.Equal("svc1", Str(trace, "route"));
        Assert.Equal("svc1", Str(trace, "cluster"));
        Assert.Equal("Declared", Str(trace, "policy"));
        Assert.Equal(mark, Str(trace, "lane"));
        Assert.Equal(mark is null ? "none" : "header", Str(trace, "source"));
        if (echo is not null)
        {
            Assert.Equal([echo.Instance], trace.GetProperty("destinations").EnumerateArray().Select(static d => d.GetString()!));
        }
    }

    [Fact]
    public async Task Trace_MspiderAlias_IsNormalisedAndServedAsTheRealRequest()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(GatewayConfig.Mspider(green, yellow).Lanes("DebugHeaders", "true"), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());

        var trace = await TraceAsync(gateway, new { path = "/productpage", headers = new Dictionary<string, string> { ["x-mspider-laneid"] = "yellow" } });
        var (real, echo) = await gateway.SendAsync("/productpage", ("x-mspider-laneid", "yellow"));

        Assert.Equal("yellow", Str(trace, "lane"));
        Assert.Equal("alias", Str(trace, "source"));
        Assert.Equal("matched", Str(trace, "outcome"));
        Assert.Equal(Header(real, "x-lane-served"), Str(trace, "served"));
        Assert.Equal("yellow", echo!.Instance);
    }

    [Fact]
    public async Task Trace_ReadsTheTraceCacheAsARequestWould_ButNeverFillsIt()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(GatewayConfig.Mspider(green, yellow), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        const string Traced = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        const string Served = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

        // A trace with a lane and a trace id does not teach the gateway that trace id's lane.
        var trace = await TraceAsync(gateway, new { path = "/productpage", headers = new Dictionary<string, string> { ["x-mspider-lane"] = "yellow", ["traceparent"] = Traced } });
        var (_, untaught) = await gateway.SendAsync("/productpage", ("traceparent", Traced));

        // A real request does, and a trace of the same trace id reads it, as the next real hop would.
        await gateway.SendAsync("/productpage", ("x-mspider-lane", "yellow"), ("traceparent", Served));
        var cached = await TraceAsync(gateway, new { path = "/productpage", headers = new Dictionary<string, string> { ["traceparent"] = Served } });
        var (_, taught) = await gateway.SendAsync("/productpage", ("traceparent", Served));

        Assert.Equal("yellow", Str(trace, "lane"));
        Assert.Equal("green", untaught!.Instance);
        Assert.Equal("yellow", taught!.Instance);
        Assert.Equal("yellow", Str(cached, "lane"));
        Assert.Equal("trace_cache", Str(cached, "source"));
    }

    [Fact]
    public async Task Trace_ColouringRule_NamesTheRuleAndDoesNotCountAHit()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var config = SeedScenarioTests.HangoConfig(pod1, pod2)
            .Lanes("Colouring:0:Lane", "dev1").Lanes("Colouring:0:Cookie", "user").Lanes("Colouring:0:Match", "Prefix").Lanes("Colouring:0:Value", "qa-");
        await using var gateway = await Gateway.StartAsync(config, configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());

        var trace = await TraceAsync(gateway, new { path = "/svc1", cookies = new Dictionary<string, string> { ["user"] = "qa-7" } });
        var before = await ReportAsync(gateway);
        await gateway.SendAsync("/svc1", ("Cookie", "user=qa-1"));
        var after = await ReportAsync(gateway);

        Assert.Equal("dev1", Str(trace, "lane"));
        Assert.Equal("colouring", Str(trace, "source"));
        Assert.Equal(0, trace.GetProperty("rule").GetProperty("index").GetInt32());
        Assert.Equal("cookie user prefix \"qa-\"", trace.GetProperty("rule").GetProperty("when").GetString());
        Assert.Equal(0, Hits(before));
        Assert.Equal(1, Hits(after));

        static long Hits(JsonElement report) => report.GetProperty("entry").GetProperty("rules")[0].GetProperty("hits").GetInt64();
    }

    [Fact]
    public async Task Trace_PathsThatAreNotProxied_Answer404_405_OrLocal_AndNeverRunTheEndpoint()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var ran = 0;
        await using var gateway = await Gateway.StartAsync(
            SeedScenarioTests.HangoConfig(pod1, pod2).Set("ReverseProxy:Routes:svc1:Match:Methods:0", "GET"),
            configureApp: app =>
            {
                app.MapLanesAdmin().AllowAnonymousOnLoopback();
                app.MapGet("/local", () => Interlocked.Increment(ref ran));
            });
        var endpointsBefore = gateway.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.Count;

        var missing = await TraceAsync(gateway, new { path = "/nowhere" });
        var wrongMethod = await TraceAsync(gateway, new { method = "DELETE", path = "/svc1" });
        var local = await TraceAsync(gateway, new { path = "/local" });
        var self = await TraceAsync(gateway, new { method = "POST", path = "/lanes/trace" });

        Assert.Equal(404, missing.GetProperty("status").GetInt32());
        Assert.Equal(405, wrongMethod.GetProperty("status").GetInt32());
        Assert.Equal("local", Str(local, "outcome"));
        Assert.Equal("local", Str(self, "outcome"));
        Assert.Equal(0, ran);
        Assert.Equal(0, pod1.Paths.Count + pod2.Paths.Count);
        Assert.Equal(endpointsBefore, gateway.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.Count);
    }

    [Fact]
    public async Task Trace_RouteGuardedByAnAuthorizationPolicy_IsTracedToItsSubset_WithoutRunningAnything()
    {
        // The tracer runs ASP.NET Core routing's public pipeline (UseRouting, UseEndpoints) in services of its own; its
        // endpoint middleware would refuse a route with authorization metadata when no authorization middleware ran,
        // unless told that nothing it runs needs guarding (the copies are inert). The real request still meets the policy.
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(
            SeedScenarioTests.HangoConfig(pod1, pod2).Set("ReverseProxy:Routes:svc1:AuthorizationPolicy", "callers"),
            configure: static builder =>
            {
                builder.Services.AddAuthentication(HeaderAuthentication.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                builder.Services.AddAuthorization(static o => o.AddPolicy("callers", static p => p.RequireRole("caller")));
            },
            configureApp: static app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapLanesAdmin().AllowAnonymousOnLoopback();
            });

        var trace = await TraceAsync(gateway, new { path = "/svc1", headers = new Dictionary<string, string> { ["x-nsf-mark"] = "dev1" } });
        var (real, _) = await gateway.SendAsync("/svc1", [("x-nsf-mark", "dev1")]);

        Assert.Equal("svc1", Str(trace, "route"));
        Assert.Equal("dev1", Str(trace, "served"));
        Assert.Equal(JsonValueKind.Null, trace.GetProperty("status").ValueKind);
        Assert.Equal(0, pod1.Paths.Count + pod2.Paths.Count);
        Assert.Equal(HttpStatusCode.Unauthorized, real.StatusCode);
    }

    [Fact]
    public async Task TracersOwnRoutingServices_AreNotTheApplications_AndAreDisposedWithIt()
    {
        // The tracer runs routing in a container of its own: its routing meters come from that container's meter
        // factory, not the application's, and they end when the application's container disposes the tracer.
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        var gateway = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        var applicationMeters = gateway.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();

        // Other tests' gateways run alongside with tracers of their own: only this tracer's routing meters count, told
        // apart by the meter factory of its own container (known once it has traced).
        object? tracersMeters = null;
        bool IsRouting(System.Diagnostics.Metrics.Instrument instrument) => instrument.Meter.Name == "Microsoft.AspNetCore.Routing";
        var published = new System.Collections.Concurrent.ConcurrentBag<object?>();
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (IsRouting(instrument))
                {
                    published.Add(instrument.Meter.Scope);
                    l.EnableMeasurementEvents(instrument);
                }
            },
            MeasurementsCompleted = (instrument, _) =>
            {
                if (IsRouting(instrument) && tracersMeters is not null && ReferenceEquals(instrument.Meter.Scope, Volatile.Read(ref tracersMeters)))
                {
                    ended.TrySetResult();
                }
            },
        };
        listener.Start();

        var trace = await TraceAsync(gateway, new { path = "/svc1", headers = new Dictionary<string, string> { ["x-nsf-mark"] = "dev1" } });
        Assert.Equal("svc1", Str(trace, "route"));
        var tracer = LaneAdminSources.For(gateway.App.Services).Tracer;
        Volatile.Write(ref tracersMeters, tracer.RoutingServicesForTests?.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        Assert.NotNull(tracersMeters);
        Assert.NotSame(applicationMeters, tracersMeters);
        Assert.Contains(published, scope => ReferenceEquals(scope, tracersMeters));
        Assert.False(ended.Task.IsCompleted);

        await gateway.DisposeAsync();
        await ended.Task.WaitAsync(Wait.Budget);
    }

    [Theory]
    [InlineData("{\"path\":\"/svc1\",\"headers\":{\"x-nsf-mark\":\"dev1\\r\\nx-evil: 1\"}}", "headers: a value")]
    [InlineData("{\"path\":\"svc1\"}", "path must start")]
    [InlineData("{\"method\":\"G E T\"}", "method must be")]
    [InlineData("{\"headers\":{\"bad name\":\"x\"}}", "headers: a name")]
    [InlineData("{\"path\":", "The body must be JSON")]
    [InlineData("[1,2]", "The body must be JSON")]
    [InlineData("{\"headers\":{\"x\":5}}", "The body must be JSON")]
    public async Task Trace_BadInput_Answers400ProblemWithoutEchoingTheValue(string body, string expected)
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/lanes/trace", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("x-evil", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trace_OversizedOrNonJsonOrTooManyEntries_AreRefusedWithTheirStatus()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        using var client = gateway.CreateClient();
        var huge = JsonSerializer.Serialize(new { path = "/svc1", headers = new Dictionary<string, string> { ["x"] = new string('a', LanesAdminEndpoints.MaxTraceBodyBytes) } });
        var many = JsonSerializer.Serialize(new { headers = Enumerable.Range(0, LaneTraceValidation.MaxEntries + 1).ToDictionary(static i => "h" + i, static _ => "v") });
        var longValue = JsonSerializer.Serialize(new { headers = new Dictionary<string, string> { ["x"] = new string('a', LaneTraceValidation.MaxValueLength + 1) } });

        using var tooLarge = await client.PostAsync("/lanes/trace", new StringContent(huge, Encoding.UTF8, "application/json"));
        using var chunked = await client.PostAsync("/lanes/trace", new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge))) { Headers = { ContentType = new("application/json") } });
        using var form = await client.PostAsync("/lanes/trace", new StringContent("path=/svc1", Encoding.UTF8, "application/x-www-form-urlencoded"));
        using var tooMany = await client.PostAsync("/lanes/trace", new StringContent(many, Encoding.UTF8, "application/json"));
        using var tooLong = await client.PostAsync("/lanes/trace", new StringContent(longValue, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [Fact]
    public async Task TraceAndReport_NameTheCarrierALaneCameFrom()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(
            SeedScenarioTests.HangoConfig(pod1, pod2).Lanes("Propagators", "header, baggage, jaeger, ottrace"),
            configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());

        var trace = await TraceAsync(gateway, new { path = "/svc1", headers = new Dictionary<string, string> { ["uberctx-x-nsf-mark"] = "dev1" } });
        await gateway.SendAsync("/svc1", ("uberctx-x-nsf-mark", "dev1"));
        await gateway.SendAsync("/svc1", ("ot-baggage-x-nsf-mark", "dev1"));
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        var report = await ReportAsync(gateway);

        Assert.Equal("dev1", Str(trace, "lane"));
        Assert.Equal("jaeger", Str(trace, "source"));
        var dev1 = report.GetProperty("lanes").EnumerateArray().Single(static l => l.GetProperty("lane").GetString() == "dev1");
        Assert.Equal(
            new Dictionary<string, long> { ["header"] = 1, ["jaeger"] = 1, ["ottrace"] = 1 },
            dev1.GetProperty("from").EnumerateObject().ToDictionary(static p => p.Name, static p => p.Value.GetInt64()));
        Assert.Equal(["header", "baggage", "jaeger", "ottrace"], report.GetProperty("entry").GetProperty("propagators").EnumerateArray().Select(static p => p.GetString()!));
    }

    [Fact]
    public async Task Report_ObservedLaneNoClusterDeclares_IsFlagged_AndMatrixIsTheEnginesChoice()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        var before = await ReportAsync(gateway);
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev3"));
        await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));

        var report = await ReportAsync(gateway);

        Assert.DoesNotContain(before.GetProperty("lanes").EnumerateArray(), static l => l.GetProperty("lane").GetString() == "dev3");
        var dev3 = report.GetProperty("lanes").EnumerateArray().Single(static l => l.GetProperty("lane").GetString() == "dev3");
        Assert.True(dev3.GetProperty("undeclared").GetBoolean());
        Assert.Equal(1, dev3.GetProperty("observed").GetInt64());
        var dev1 = report.GetProperty("lanes").EnumerateArray().Single(static l => l.GetProperty("lane").GetString() == "dev1");
        Assert.False(dev1.GetProperty("undeclared").GetBoolean());
        Assert.Equal("cluster metadata", dev1.GetProperty("declaredBy")[0].GetProperty("from").GetString());

        var routing = gateway.App.Services.GetRequiredService<LaneClusterRouting>();
        var subsets = routing.GetSubsets(routing.Clusters.Single())!;
        var cells = report.GetProperty("clusters")[0].GetProperty("matrix").EnumerateArray().ToList();
        Assert.Equal([null, "dev1", "dev2", "dev3"], cells.Select(static c => c.GetProperty("lane").GetString()));
        foreach (var cell in cells)
        {
            var choice = subsets.Select(cell.GetProperty("lane").GetString());
            // One spelling everywhere: outcomes (matched, fallback, no-upstream) and reasons kebab-case as the
            // x-lane-fallback header and the metrics, none for a match.
            Assert.Equal(JsonNamingPolicy.KebabCaseLower.ConvertName(choice.Outcome.ToString()), Str(cell, "outcome"));
            Assert.Equal(choice.Reason == Lanes.Routing.LaneFallbackReason.None ? null : JsonNamingPolicy.KebabCaseLower.ConvertName(choice.Reason.ToString()), Str(cell, "reason"));
            Assert.Equal(choice.Served, Str(cell, "served"));
        }

        var traffic = report.GetProperty("traffic").GetProperty("series").EnumerateArray().ToList();
        Assert.Contains(traffic, static t => Str(t, "lane") == "dev1" && Str(t, "outcome") == "matched" && t.GetProperty("lastMinute").GetInt64() == 1);
        Assert.Contains(traffic, static t => Str(t, "lane") == "other" && Str(t, "outcome") == "fallback");
    }

    [Fact]
    public async Task Report_TwoGatewaysInOneProcess_CountOnlyTheirOwnTraffic()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var first = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        await using var second = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        await ReportAsync(first);
        await ReportAsync(second);

        for (var i = 0; i < 3; i++)
        {
            await first.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        }

        await second.SendAsync("/svc1", ("x-nsf-mark", "dev1"));

        static long Dev1Matched(JsonElement report) => report.GetProperty("traffic").GetProperty("series").EnumerateArray()
            .Where(static t => Str(t, "lane") == "dev1" && Str(t, "outcome") == "matched")
            .Sum(static t => t.GetProperty("lastMinute").GetInt64());
        Assert.Equal(3, Dev1Matched(await ReportAsync(first)));
        Assert.Equal(1, Dev1Matched(await ReportAsync(second)));
    }

    [Fact]
    public async Task Report_StoppedUpstream_CountsRecentFailuresOnThatDestination()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        await pod1.DisposeAsync();

        var (response, _) = await gateway.SendAsync("/svc1", ("x-nsf-mark", "dev1"));
        var report = await ReportAsync(gateway);

        // dev1's only instance refused; under Declared a declared lane with no instance left answers 503 (failover).
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var destinations = report.GetProperty("clusters")[0].GetProperty("destinations").EnumerateArray().ToList();
        Assert.Equal(1, destinations.Single(static d => Str(d, "id") == "pod1").GetProperty("recentFailures").GetInt64());
        Assert.Equal(0, destinations.Single(static d => Str(d, "id") == "pod2").GetProperty("recentFailures").GetInt64());
        Assert.Equal("configuration", Str(destinations[0], "origin"));
    }

    [Theory]
    [InlineData("GET", "/lanes")]
    [InlineData("GET", "/lanes/ui")]
    [InlineData("GET", "/lanes/ui/dashboard.js")]
    [InlineData("POST", "/lanes/trace")]
    public async Task AdminEndpoints_RequireTheGroupsPolicy_401Anonymous_403WithoutTheRole(string method, string path)
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(
            SeedScenarioTests.HangoConfig(pod1, pod2),
            configure: static builder =>
            {
                builder.Services.AddAuthentication(HeaderAuthentication.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                builder.Services.AddAuthorization(static o => o.AddPolicy("lanes-admin", static p => p.RequireRole("lanes-admin")));
            },
            configureApp: static app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapLanesAdmin().RequireAuthorization("lanes-admin");
            });
        using var client = gateway.CreateClient();

        async Task<HttpStatusCode> SendAsync(string? user)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = new StringContent("{\"path\":\"/svc1\"}", Encoding.UTF8, "application/json");
            }

            if (user is not null)
            {
                request.Headers.Add(HeaderAuthentication.Header, user);
            }

            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(null));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync("viewer"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync("lanes-admin"));
    }

    [Fact]
    public async Task Page_IsServedUnderAStrictContentSecurityPolicy_WithTheBasePathEncoded()
    {
        await using var pod1 = await Upstream.StartAsync("pod1");
        await using var pod2 = await Upstream.StartAsync("pod2");
        await using var gateway = await Gateway.StartAsync(SeedScenarioTests.HangoConfig(pod1, pod2), configureApp: static app => app.MapLanesAdmin("/ops/lanes").AllowAnonymousOnLoopback());
        using var client = gateway.CreateClient();

        using var page = await client.GetAsync("/ops/lanes/ui");
        var html = await page.Content.ReadAsStringAsync();
        using var missing = await client.GetAsync("/ops/lanes/ui/secrets.json");

        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("<meta name=\"lanes-base\" content=\"/ops/lanes\">", html, StringComparison.Ordinal);
        Assert.Contains("src=\"/ops/lanes/ui/dashboard.js\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" style=", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private static async Task<JsonElement> TraceAsync(RunningServer gateway, object body)
    {
        using var client = gateway.CreateClient();
        using var response = await client.PostAsJsonAsync("/lanes/trace", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> ReportAsync(RunningServer gateway)
    {
        using var client = gateway.CreateClient();
        return await client.GetFromJsonAsync<JsonElement>("/lanes");
    }

    private static string? Str(JsonElement element, string name)
        => element.GetProperty(name).ValueKind == JsonValueKind.Null ? null : element.GetProperty(name).GetString();

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    /// <summary>A test scheme: the <c>x-test-user</c> header names the user, who has the role of that name.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "test";
        public const string Header = "x-test-user";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var user) || string.IsNullOrEmpty(user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user!), new Claim(ClaimTypes.Role, user!)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
