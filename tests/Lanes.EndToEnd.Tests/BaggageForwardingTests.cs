using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using OpenTelemetry;

namespace Lanes.EndToEnd.Tests;

/// <summary>
/// DESIGN 4, spec-true forwarding: the members a request arrives with are forwarded on its calls as the W3C baggage
/// specification reads them, whatever parser read them first (the runtime, OpenTelemetry): invalid members skipped
/// one by one, properties kept as properties, values exactly as encoded, 180 members and 8192 bytes at most, never a
/// partial member; the lane member first and single. The vectors are the specification's examples, OpenTelemetry
/// .NET's propagator test cases and the cases the runtime's reader gets wrong. Each goes through a Lanes service
/// (HttpClient factory client, the runtime's default propagator) and through the Lanes gateway (YARP), to a Kestrel
/// upstream that echoes the raw <c>baggage</c> header lines it received.
/// </summary>
[Collection(ProcessWideHookGroup.Name)]
public sealed class BaggageForwardingTests
{
    private const string Lane = "x-mspider-lane=yellow";

    private static readonly string Value8168 = new('v', 8168);

    public static TheoryData<string, string, string> Vectors => new()
    {
        // name, inbound baggage (the request also carries x-mspider-lane: yellow), the one baggage line forwarded
        { "one bad member does not lose the good ones", "noequals,=orphanvalue,validkey=validvalue", Lane + ",validkey=validvalue" },
        { "a property stays a property", "k=v;p", Lane + ",k=v;p" },
        { "encoded tab and space stay in the value", "k=%09%20v", Lane + ",k=%09%20v" },
        { "W3C example: properties and optional whitespace", "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue", Lane + ",key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue" },
        { "W3C example: an encoded space", "userId=alice,serverNode=DF%2028,isProduction=false", Lane + ",userId=alice,serverNode=DF%2028,isProduction=false" },
        { "OpenTelemetry: duplicate keys, the first wins", "key1=value1,key1=value2", Lane + ",key1=value1" },
        { "OpenTelemetry: an empty value is a value", "key1=,key2=value2", Lane + ",key1=,key2=value2" },
        { "OpenTelemetry: a value with an equals sign", "key1=a=b", Lane + ",key1=a=b" },
        { "invalid value characters skip that member only", "a=b c,d=e", Lane + ",d=e" },
        { "a client's other lane member is replaced", "x-mspider-lane=blue,k=v", Lane + ",k=v" },
        { "exactly 8192 bytes are kept", Lane + ",a=" + Value8168, Lane + ",a=" + Value8168 },
        { "one byte more drops the member whole", Lane + ",a=" + Value8168 + "v", Lane },
        { "180 members are kept", Lane + "," + Members(179), Lane + "," + Members(179) },
        { "the 181st member is dropped", Lane + "," + Members(180), Lane + "," + Members(179) },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public async Task Service_ForwardsInboundMembersAsTheSpecificationReadsThem(string name, string inbound, string expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var service = await TestServers.StartAsync(
            b =>
            {
                b.Services.AddLanes();
                b.Services.AddHttpClient("up", c => c.BaseAddress = upstream.Address).AddLanePropagation();
            },
            app =>
            {
                app.UseLanes();
                app.MapGet("/call", static async (IHttpClientFactory f) => await f.CreateClient("up").GetStringAsync(new Uri("/up", UriKind.Relative)));
            },
            new Dictionary<string, string?> { ["Lanes:Preset"] = "mspider" });

        var received = await SendAsync(service.CreateClient(), "/call", inbound);

        Assert.True(expected == received, $"{name}: forwarded\n{received}\nexpected\n{expected}");
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public async Task Gateway_ForwardsClientMembersAsTheSpecificationReadsThem(string name, string inbound, string expected)
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await Reliability.LaneServers.StartGatewayAsync(upstream.Address, upstream.Address, "/up");

        var received = await SendAsync(gateway.CreateClient(), "/up", inbound);

        Assert.True(expected == received, $"{name}: forwarded\n{received}\nexpected\n{expected}");
    }

    /// <summary>Sends the vector with the lane header and returns the raw baggage lines the upstream received, joined by newlines.</summary>
    private static async Task<string> SendAsync(HttpClient client, string path, string inbound)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("x-mspider-lane", "yellow");
        request.Headers.TryAddWithoutValidation("baggage", inbound);
        using (SuppressInstrumentationScope.Begin())
        {
            using var response = await client.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"status {(int)response.StatusCode}");
            return await response.Content.ReadAsStringAsync();
        }
    }

    private static string Members(int count) => string.Join(",", Enumerable.Range(0, count).Select(static i => $"m{i}=v{i}"));

    /// <summary>A Kestrel upstream that answers <c>/up</c> with every <c>baggage</c> line it received, unparsed, one per line.</summary>
    internal static class EchoUpstream
    {
        public static Task<RunningServer> StartAsync()
            => TestServers.StartAsync(
                null,
                static app => app.MapGet("/up", static (HttpContext context) =>
                {
                    StringValues lines = context.Request.Headers["baggage"];
                    return string.Join("\n", lines.ToArray());
                }));
    }
}
