using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lanes.ReverseProxy.Admin;
using Lanes.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Lanes.ReverseProxy.Tests.Admin;

/// <summary>
/// <c>GET /lanes</c> has a documented contract: the typed records of <c>LanesAdminReportModel.cs</c> are the whole document,
/// every field is listed in docs/admin-report.md, and the application's own JSON settings do not change its shape.
/// </summary>
public sealed partial class AdminReportContractTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public void EveryFieldOfTheRecords_IsDocumented_AndTheDocumentNamesNoOther()
    {
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        Collect(typeof(AdminReport), string.Empty, fields);

        var documented = new SortedSet<string>(
            DocumentedField().Matches(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "admin-report.md"))).Select(static m => m.Groups[1].Value),
            StringComparer.Ordinal);

        Assert.Equal(fields, documented);
    }

    [Fact]
    public async Task ServedReport_IsTheTypedDocument_EvenWhenTheAppUsesOtherJsonNames()
    {
        // Arrange: an application that serialises its own JSON in PascalCase.
        await using var green = await Upstream.StartAsync("green");
        await using var yellow = await Upstream.StartAsync("yellow");
        var config = GatewayConfig.Mspider(green, yellow).Lanes("Colouring:0:Lane", "yellow").Lanes("Colouring:0:Header", "x-beta").Lanes("Colouring:0:Value", "1");
        await using var gateway = await Gateway.StartAsync(
            config,
            configure: static b => b.Services.Configure<JsonOptions>(static o => o.SerializerOptions.PropertyNamingPolicy = null),
            configureApp: static app => app.MapLanesAdmin().AllowAnonymousOnLoopback());
        await gateway.SendAsync("/x", ("x-beta", "1"));
        await gateway.SendAsync("/x", ("x-mspider-lane", "dev3"));
        using var client = gateway.CreateClient();

        // Act
        var text = await client.GetStringAsync(new Uri("/lanes", UriKind.Relative));
        var report = JsonSerializer.Deserialize<AdminReport>(text, Web)!;

        // Assert: camelCase whatever the app set; the typed record reads it all back, with the traffic just sent.
        using var served = JsonDocument.Parse(text);
        Assert.True(served.RootElement.TryGetProperty("clusters", out _));
        Assert.Equal(Canonical(text), Canonical(JsonSerializer.Serialize(report, Web)));
        Assert.Equal("yellow", Assert.Single(report.Entry.Rules).Lane);
        Assert.Equal(1, report.Entry.Rules[0].Hits);
        Assert.Contains(report.Lanes, static l => l.Lane == "dev3" && l.Undeclared && l.Observed == 1);
        Assert.Equal(["g", "y"], report.Clusters.Single().Destinations.Select(static d => d.Id));
    }

    private static string Canonical(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);

    /// <summary>Every JSON path of <paramref name="type"/>'s properties: <c>clusters[].destinations[].health.active</c>.</summary>
    private static void Collect(Type type, string prefix, SortedSet<string> fields)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var path = prefix + JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var element = ElementType(property.PropertyType);
            fields.Add(element is null ? path : path + "[]");
            var nested = element ?? property.PropertyType;
            if (nested.Namespace == typeof(AdminReport).Namespace)
            {
                Collect(nested, (element is null ? path : path + "[]") + ".", fields);
            }
        }
    }

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type) || type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        {
            return null;
        }

        return type.IsArray ? type.GetElementType() : type.GetGenericArguments()[0];
    }

    // A documented field is a table row starting with the path in backticks: | `clusters[].id` | ...
    [GeneratedRegex(@"^\| `([a-zA-Z0-9\[\]\.]+)` \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedField();
}
