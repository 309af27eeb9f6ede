using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lanes.ReverseProxy.Tests.Reliability;

/// <summary>
/// Security defaults of the gateway: the admin endpoint exists only when mapped and takes an authorization policy
/// like any endpoint; lanes appear in response headers only when debug headers are turned on.
/// </summary>
public sealed class SecurityDefaultsTests
{
    private const string Lane = "zq7-secret-lane";

    [Fact]
    public async Task MapLanesAdmin_RequireAuthorization_AnonymousIs401_WrongRoleIs403_OperatorIs200_ProxyStaysOpen()
    {
        // Arrange
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(
            GatewayConfig.Mspider(green, yellow),
            configure: static builder =>
            {
                builder.Services.AddAuthentication(HeaderAuthentication.SchemeName)
                    .AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
                builder.Services.AddAuthorizationBuilder().AddPolicy("lanes-admin", static p => p.RequireRole("ops"));
            },
            configureApp: static app =>
            {
                app.UseAuthentication();
                app.UseAuthorization();
                app.MapLanesAdmin().RequireAuthorization("lanes-admin");
            });
        using var client = gateway.CreateClient();

        // Act
        using var anonymous = await client.GetAsync("/lanes");
        using var developer = await SendAsUserAsync(client, "/lanes", "dev");
        using var operatorResponse = await SendAsUserAsync(client, "/lanes", "ops");
        var (proxied, echo) = await gateway.SendAsync("/orders", ("x-mspider-lane", "yellow"));

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, developer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorResponse.StatusCode);
        Assert.Contains("\"clusters\"", await operatorResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.Equal("yellow", echo!.Instance);
    }

    [Fact]
    public async Task MapLanesAdmin_WithNoAuthorizationDecision_RefusesToStart_NamingBothWays()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Gateway.StartAsync(
            GatewayConfig.Mspider(green, yellow),
            configureApp: static app => app.MapLanesAdmin("/ops/lanes").RequireHost("localhost")));   // RequireHost is no decision

        Assert.Contains("'/ops/lanes'", error.Message, StringComparison.Ordinal);
        Assert.Contains(".RequireAuthorization(", error.Message, StringComparison.Ordinal);
        Assert.Contains(".AllowAnonymousOnLoopback()", error.Message, StringComparison.Ordinal);
        Assert.Contains("RequireHost(...) is no protection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapLanesAdmin_AllowAnonymousOnLoopback_LoopbackCallerGetsTheReport_AnyOtherCallerGets404()
    {
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(
            GatewayConfig.Mspider(green, yellow),
            configureApp: static app =>
            {
                // Stands in for a caller from elsewhere (the test client is on loopback): the address the connection reports.
                app.Use(static (context, next) =>
                {
                    if (context.Request.Headers.TryGetValue("x-test-remote", out var remote))
                    {
                        context.Connection.RemoteIpAddress = IPAddress.Parse(remote.ToString());
                    }

                    return next(context);
                });
                app.MapLanesAdmin().AllowAnonymousOnLoopback();
            });
        using var client = gateway.CreateClient();

        using var local = await client.GetAsync("/lanes");
        using var remoteReport = await SendFromAsync(client, HttpMethod.Get, "/lanes/ui", "203.0.113.7");
        using var remoteTrace = await SendFromAsync(client, HttpMethod.Post, "/lanes/trace", "2001:db8::7");

        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, remoteReport.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, remoteTrace.StatusCode);
        Assert.DoesNotContain("clusters", await remoteReport.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendFromAsync(HttpClient client, HttpMethod method, string path, string remote)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-test-remote", remote);
        if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{\"path\":\"/\"}", System.Text.Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task AdminEndpoint_NotMapped_IsProxiedLikeAnyPath_NeverAnswersItself()
    {
        // Without MapLanesAdmin, /lanes is an ordinary path: the catch-all route proxies it to the baseline.
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        await using var gateway = await Gateway.StartAsync(GatewayConfig.Mspider(green, yellow));

        var (response, echo) = await gateway.SendAsync("/lanes");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("green", echo!.Instance);
        Assert.Contains("/lanes", green.Paths);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResponseHeaders_CarryTheLaneOnlyWithDebugHeaders_MatchedFallbackAnd503(bool debugHeaders)
    {
        // Arrange: a Permissive cluster that falls back for the lane and a Strict one that answers 503.
        await using var green = await Upstream.StartAsync("green");
        await using var lane = await Upstream.StartAsync(Lane);
        var config = new GatewayConfig().Lanes("Preset", "mspider").Lanes("DebugHeaders", debugHeaders ? "true" : "false")
            .Route("matched", "matched", "/matched/{**rest}").Destination("matched", "g", green, "green").Destination("matched", "l", lane, Lane)
            .Route("fallback", "fallback", "/fallback/{**rest}").Destination("fallback", "g", green, "green")
            .Route("strict", "strict", "/strict/{**rest}").Cluster("strict", ("lanePolicy", "Strict")).Destination("strict", "g", green, "green");
        await using var gateway = await Gateway.StartAsync(config);

        foreach (var path in new[] { "/matched/x", "/fallback/x", "/strict/x" })
        {
            // Act
            var (response, _) = await gateway.SendAsync(path, ("x-mspider-lane", Lane));
            var headerValues = response.Headers.Concat(response.Content.Headers).SelectMany(static h => h.Value).ToList();

            // Assert
            Assert.Equal(path == "/strict/x" ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK, response.StatusCode);
            if (debugHeaders)
            {
                Assert.True(response.Headers.Contains("x-lane-served") || path == "/strict/x", path);
            }
            else
            {
                Assert.DoesNotContain(headerValues, static v => v.Contains(Lane, StringComparison.Ordinal));
                Assert.False(response.Headers.Contains("x-lane-served"), path);
                Assert.False(response.Headers.Contains("x-lane-fallback"), path);
            }
        }
    }

    private static async Task<HttpResponseMessage> SendAsUserAsync(HttpClient client, string path, string role)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(HeaderAuthentication.RoleHeader, role);
        return await client.SendAsync(request);
    }

    /// <summary>Test-only authentication: a request with <c>x-test-role</c> is a user in that role.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestHeader";
        public const string RoleHeader = "x-test-role";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(RoleHeader, out var role))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "tester"), new Claim(ClaimTypes.Role, role.ToString())], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
