using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Lanes.ReverseProxy.Admin;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Lanes.ReverseProxy.Tests.Shadow;

/// <summary>
/// Shadow lanes at the gateway (docs/behaviour.md, "Shadow lanes"), against real Kestrel upstreams: the primary's answer
/// is the client's, a copy goes to the shadow lane's instance after the primary, the answers are compared per JSON field,
/// and a secondary baseline answer turns fields that change on every answer into noise (Diffy's method).
/// </summary>
public sealed class ShadowMirrorTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Every answer's <c>at</c> differs from every other's, across instances (a timestamp that never repeats).</summary>
    private static long s_clock;

    [Fact]
    public async Task GreenBaselineAndYellowCandidate_ClientsSeeThePrimary_PriceDiffers_AndAtIsNoiseWithSecondary()
    {
        await using var green1 = await Book.StartAsync(price: 10);
        await using var green2 = await Book.StartAsync(price: 10);
        await using var yellow = await Book.StartAsync(price: 12);
        await using var gateway = await StartAsync(Fleet(green1, green2, yellow).Lanes("Shadow:book:Secondary", "true"));
        using var client = gateway.CreateClient();

        for (var i = 0; i < 20; i++)
        {
            var answer = JsonDocument.Parse(await client.GetStringAsync(new Uri("/book", UriKind.Relative))).RootElement;
            Assert.Equal(10, answer.GetProperty("price").GetInt32());
        }

        var shadow = await WaitForAsync(client, static s => s.Mirrored == 20, "20 mirrored requests");
        var field = Assert.Single(shadow.Fields);
        Assert.Equal(("price", 20L, "10 -> 12"), (field.Path, field.Count, field.Example));
        Assert.Equal(["at"], shadow.Noise);
        Assert.Equal(20, shadow.Differing);
        Assert.Equal(0, shadow.Dropped);
        Assert.Equal(20, yellow.Received.Count);
        Assert.All(yellow.Received, static r => Assert.Equal(("yellow", "1"), (r.Lane, r.Shadow)));

        // Each green instance served its share of primaries and the other's secondaries: 20 + 20 requests in all.
        Assert.Equal(40, green1.Received.Count + green2.Received.Count);
        Assert.Equal(20, green1.Received.Count(static r => r.Shadow == "1") + green2.Received.Count(static r => r.Shadow == "1"));
        Assert.NotNull(shadow.Primary.P50);
        Assert.NotNull(shadow.ShadowLatency.P99);
    }

    [Fact]
    public async Task WithoutSecondary_AFieldThatChangesOnEveryAnswerIsReportedAsDiffering()
    {
        await using var green = await Book.StartAsync(price: 10);
        await using var yellow = await Book.StartAsync(price: 10);
        await using var gateway = await StartAsync(Fleet(green, null, yellow));
        using var client = gateway.CreateClient();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/book", UriKind.Relative))).StatusCode);
        }

        var shadow = await WaitForAsync(client, static s => s.Mirrored == 5, "5 mirrored requests");
        Assert.Equal(["at"], shadow.Fields.Select(static f => f.Path));
        Assert.Empty(shadow.Noise);
        Assert.Equal(5, shadow.Differing);
        Assert.Equal(5, green.Received.Count);
    }

    [Fact]
    public async Task Post_IsNotMirroredByDefault_AndTheCopyCarriesTheShadowLaneAndMarkerButNotTheClientsLane()
    {
        await using var green = await Book.StartAsync(price: 10);
        await using var yellow = await Book.StartAsync(price: 10);
        await using var gateway = await StartAsync(Fleet(green, null, yellow));
        using var client = gateway.CreateClient();

        using (var post = new HttpRequestMessage(HttpMethod.Post, "/order") { Content = new StringContent("{}") })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(post)).StatusCode);
        }

        using (var get = new HttpRequestMessage(HttpMethod.Get, "/sentinel"))
        {
            get.Headers.Add("x-mspider-lane", "green");
            get.Headers.Add("baggage", "x-mspider-lane=green,tenant=acme");
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(get)).StatusCode);
        }

        await WaitForAsync(client, static s => s.Mirrored == 1, "the sentinel GET to be mirrored");
        var copy = Assert.Single(yellow.Received);
        Assert.Equal(("GET", "/sentinel", "yellow", "1"), (copy.Method, copy.Path, copy.Lane, copy.Shadow));
        Assert.Equal("x-mspider-lane=yellow,tenant=acme,lanes-shadow=1", copy.Baggage);
        Assert.Equal(["POST", "GET"], green.Received.Select(static r => r.Method));
    }

    [Fact]
    public async Task NoInstanceOfTheShadowLane_NothingIsSent_NoBaselineInstanceGetsASecondRequest_AndItIsCounted()
    {
        await using var green1 = await Book.StartAsync(price: 10);
        await using var green2 = await Book.StartAsync(price: 10);
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("book", "book")
            .Destination("book", "g1", green1.Address, "green")
            .Destination("book", "g2", green2.Address, "green")
            .Lanes("Shadow:book:Cluster", "book")
            .Lanes("Shadow:book:Lane", "yellow")
            .Lanes("Shadow:book:Percent", "100")
            .Lanes("Shadow:book:Secondary", "true");
        await using var gateway = await StartAsync(config);
        using var client = gateway.CreateClient();

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/book", UriKind.Relative))).StatusCode);
        }

        var shadow = await WaitForAsync(client, static s => s.Dropped == 6, "6 copies dropped");
        Assert.Equal(6, shadow.DroppedBy["no-instance"]);
        Assert.Equal(0, shadow.Mirrored);
        Assert.Equal(6, green1.Received.Count + green2.Received.Count);
        Assert.DoesNotContain(green1.Received.Concat(green2.Received), static r => r.Shadow is not null);
    }

    [Fact]
    public async Task OverMaxConcurrent_TheCopyIsDroppedAndCounted_AndNoPrimaryWaitsForAHungCopy()
    {
        await using var green = await Book.StartAsync(price: 10);
        await using var yellow = await Book.StartAsync(price: 10);
        yellow.Hold();
        await using var gateway = await StartAsync(Fleet(green, null, yellow).Lanes("Shadow:book:MaxConcurrent", "1"));
        using var client = gateway.CreateClient();

        // The first copy hangs at yellow; the second request's copy finds no place. Both primaries answer meanwhile.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/one", UriKind.Relative))).StatusCode);
        await Wait.UntilAsync(() => yellow.Received.Count == 1, "the first copy to reach yellow");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/two", UriKind.Relative))).StatusCode);

        var shadow = await WaitForAsync(client, static s => s.Dropped == 1, "the second copy to be dropped");
        Assert.Equal(1, shadow.DroppedBy["concurrency"]);
        yellow.Release();
        await WaitForAsync(client, static s => s.Mirrored == 1, "the held copy to be compared");
        Assert.Equal(["/one"], yellow.Received.Select(static r => r.Path));
    }

    [Fact]
    public async Task ABodyUpToTheCapIsCopied_ABiggerOneIsNotMirrored()
    {
        await using var green = await Book.StartAsync(price: 10);
        await using var yellow = await Book.StartAsync(price: 10);
        await using var gateway = await StartAsync(Fleet(green, null, yellow)
            .Lanes("Shadow:book:Methods:0", "POST")
            .Lanes("Shadow:book:MaxBodyBytes", "16"));
        using var client = gateway.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(new Uri("/big", UriKind.Relative), new StringContent(new string('x', 100)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(new Uri("/small", UriKind.Relative), new StringContent("{\"n\":1}"))).StatusCode);

        var shadow = await WaitForAsync(client, static s => s.Mirrored == 1, "the small POST to be mirrored");
        Assert.Equal(1, shadow.DroppedBy["body"]);
        var copy = Assert.Single(yellow.Received);
        Assert.Equal(("/small", "{\"n\":1}"), (copy.Path, copy.Body));
        Assert.Equal(["{\"n\":1}"], green.Received.Where(static r => r.Path == "/small").Select(static r => r.Body));
    }

    [Fact]
    public async Task AReloadChangesTheShare()
    {
        await using var green = await Book.StartAsync(price: 10);
        await using var yellow = await Book.StartAsync(price: 10);
        var config = Fleet(green, null, yellow).Lanes("Shadow:book:Percent", "0");
        var source = new SwappableConfiguration();
        source.Replace(config.Values);
        await using var gateway = await Gateway.StartAsync(
            null,
            configure: b => ((IConfigurationBuilder)b.Configuration).Add(source),
            configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        using var client = gateway.CreateClient();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/off", UriKind.Relative))).StatusCode);
        }

        config.Lanes("Shadow:book:Percent", "100");
        source.Replace(config.Values);
        await Wait.UntilAsync(
            async () => (await client.GetAsync(new Uri("/on", UriKind.Relative))).IsSuccessStatusCode && !yellow.Received.IsEmpty,
            "a request after the reload to be mirrored");
        Assert.All(yellow.Received, static r => Assert.Equal("/on", r.Path));
    }

    /// <summary>
    /// A gateway that does not trust client lanes does not trust a client's shadow marker either: it is removed (header
    /// and baggage member) from what the gateway proxies, so a client cannot make its request a shadow copy.
    /// </summary>
    [Theory]
    [InlineData("Ignore", "green")]
    [InlineData("AcceptDeclared", "yellow")]
    public async Task UntrustedClient_ItsShadowMarkerIsRemovedAtTheEntry(string trust, string served)
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(GatewayConfig.Mspider(green, yellow).Lanes("Trust", trust));

        var (response, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"), ("x-lanes-shadow", "1"), ("baggage", "lanes-shadow=1,tenant=acme"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(served, echo!.Instance);
        Assert.Null(echo.Header("x-lanes-shadow"));
        Assert.Equal($"x-mspider-lane={served},tenant=acme", echo.Header("baggage"));
    }

    /// <summary>
    /// Under <c>Accept</c> (another gateway's copy passing through), the marker is kept and the gateway acts on it: the
    /// copy is forwarded with it, and a copy whose lane has no instance here is answered 503, not sent to the baseline.
    /// </summary>
    [Fact]
    public async Task TrustedMarker_IsForwarded_AndACopyWithoutAnInstanceOfItsLaneIs503NotTheBaseline()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(GatewayConfig.Mspider(green, yellow));

        var (copy, echo) = await gateway.SendAsync("/x", ("x-mspider-lane", "yellow"), ("x-lanes-shadow", "1"));
        var (refused, _) = await gateway.SendAsync("/x", ("x-mspider-lane", "red"), ("x-lanes-shadow", "1"));
        var (fallback, served) = await gateway.SendAsync("/x", ("x-mspider-lane", "red"));

        Assert.Equal(HttpStatusCode.OK, copy.StatusCode);
        Assert.Equal(("yellow", "1", "x-mspider-lane=yellow,lanes-shadow=1"), (echo!.Instance, echo.Header("x-lanes-shadow"), echo.Header("baggage")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("shadow copy", (await refused.ProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, fallback.StatusCode);
        Assert.Equal("green", served!.Instance);
        Assert.Single(green.Paths);
    }

    /// <summary>Cluster <c>book</c>: green instances (one or two) and a yellow one; a rule mirroring all of the baseline's GETs to yellow.</summary>
    private static GatewayConfig Fleet(Book green1, Book? green2, Book yellow)
    {
        var config = new GatewayConfig()
            .Lanes("Preset", "mspider")
            .Route("book", "book")
            .Destination("book", "g1", green1.Address, "green")
            .Destination("book", "y", yellow.Address, "yellow")
            .Lanes("Shadow:book:Cluster", "book")
            .Lanes("Shadow:book:Lane", "yellow")
            .Lanes("Shadow:book:Percent", "100");
        return green2 is null ? config : config.Destination("book", "g2", green2.Address, "green");
    }

    private static Task<RunningServer> StartAsync(GatewayConfig config)
        => Gateway.StartAsync(config, configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());

    private static Task<AdminShadow> WaitForAsync(HttpClient client, Func<AdminShadow, bool> done, string what)
        => Wait.ForAsync(
            async () => Assert.Single(JsonSerializer.Deserialize<AdminReport>(await client.GetStringAsync(new Uri("/lanes", UriKind.Relative)), Web)!.Shadow),
            done,
            what,
            describe: static s => $"mirrored {s.Mirrored}, dropped {s.Dropped} ({string.Join(", ", s.DroppedBy)}), differing {s.Differing}");

    /// <summary>An upstream answering <c>{"item":"book","price":N,"at":T}</c> (T never repeats) and recording what it received.</summary>
    private sealed class Book : IAsyncDisposable
    {
        private TaskCompletionSource _held = CompletedSource();

        private Book(RunningServer server) => Server = server;

        public RunningServer Server { get; }

        public Uri Address => Server.Address;

        public ConcurrentQueue<Received> Received { get; } = new();

        public static async Task<Book> StartAsync(int price)
        {
            Book? book = null;
            var server = await TestServers.StartAsync(null, app => app.Map("/{**rest}", async (HttpContext context) =>
            {
                var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
                var headers = context.Request.Headers;
                book!.Received.Enqueue(new(context.Request.Method, context.Request.Path, headers["x-mspider-lane"].ToString(), headers["x-lanes-shadow"].FirstOrDefault(), headers["baggage"].ToString(), body));
                await book._held.Task;
                return Results.Json(new { item = "book", price, at = Interlocked.Increment(ref s_clock) });
            }));
            book = new Book(server);
            return book;
        }

        /// <summary>From now on, requests wait for <see cref="Release"/> before answering.</summary>
        public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _held.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            await Server.DisposeAsync();
        }

        private static TaskCompletionSource CompletedSource()
        {
            var source = new TaskCompletionSource();
            source.SetResult();
            return source;
        }
    }

    private sealed record Received(string Method, string Path, string Lane, string? Shadow, string Baggage, string Body);
}
