using System.Globalization;
using System.Net.Http.Json;
using System.Text;

namespace Bookinfo;

/// <summary>Sends a scenario's example requests to the gateway and reports, per row, what every hop saw.</summary>
public static class DemoRunner
{
    private static readonly int[] FixedWidths = [30, 32, 7];

    /// <summary>One row's outcome: the status, the answer tree (when 200) and whether it matched the expectation.</summary>
    public sealed record RowResult(DemoRow Row, int Status, HopResult? Answer, bool Matches);

    public static Task<IReadOnlyList<RowResult>> RunAsync(BookinfoCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return RunAsync(cluster.GatewayAddress, cluster.Scenario);
    }

    /// <summary>Sends every row of <paramref name="scenario"/> to the gateway at <paramref name="gateway"/> (in-process or under samples/AppHost).</summary>
    public static async Task<IReadOnlyList<RowResult>> RunAsync(Uri gateway, Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(scenario);
        using var client = new HttpClient { BaseAddress = gateway };
        var results = new List<RowResult>();
        foreach (var row in scenario.Rows)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, scenario.EntryPath);
            foreach (var (name, value) in row.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            var answer = status == 200 ? await response.Content.ReadFromJsonAsync<HopResult>(HopResult.Json) : null;
            results.Add(new RowResult(row, status, answer, Matches(row, status, answer)));
        }

        return results;
    }

    public static bool Matches(DemoRow row, int status, HopResult? answer)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (status != row.ExpectedStatus)
        {
            return false;
        }

        foreach (var expected in row.Expected)
        {
            var hop = answer?.Find(expected.Service);
            if (hop is null || hop.Error is not null || hop.Lane != expected.Lane || hop.RequestLane != expected.RequestLane)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The line under the table that says how to read a cell.</summary>
    public const string Legend =
        "cell: lane of the instance that served the hop; 'green <- yellow' = a green instance served a yellow request (fallback); 'unlabelled' = an instance with no lane; '-' = not reached";

    /// <summary>
    /// The table the demo prints: one line per row, one column per hop ("instance lane &lt;- request lane"), and under a
    /// row that differs from its expectation, what was expected, in the same words.
    /// </summary>
    public static string Format(Scenario scenario, IReadOnlyList<RowResult> results)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(results);
        var services = scenario.Instances.Select(static i => i.Service).Distinct().ToArray();
        var text = new StringBuilder();
        var columns = new List<string> { "request", "sent", "status" };
        columns.AddRange(services);
        columns.Add("ok");
        var widths = FixedWidths.Concat(services.Select(static _ => 20)).Append(3).ToArray();
        AppendLine(text, columns, widths);
        text.Append(new string('-', widths.Sum() + widths.Length - 1)).Append('\n');
        foreach (var result in results)
        {
            var cells = new List<string>
            {
                result.Row.Name,
                result.Row.Headers.Count == 0 ? "(nothing)" : string.Join(", ", result.Row.Headers.Select(static h => $"{h.Key}: {h.Value}")),
                result.Status.ToString(CultureInfo.InvariantCulture),
            };
            cells.AddRange(services.Select(s => Describe(result.Answer?.Find(s))));
            cells.Add(result.Matches ? "yes" : "NO");
            AppendLine(text, cells, widths);
            if (!result.Matches)
            {
                var expected = new List<string> { string.Empty, "expected:", result.Row.ExpectedStatus.ToString(CultureInfo.InvariantCulture) };
                expected.AddRange(services.Select(s => Describe(result.Row.Expected.FirstOrDefault(e => e.Service == s))));
                expected.Add(string.Empty);
                AppendLine(text, expected, widths);
            }
        }

        text.Append(Legend).Append('\n');
        return text.ToString();
    }

    private static string Describe(ExpectedHop? hop)
        => hop is null ? "-" : Describe(new HopResult(hop.Service, hop.Lane, hop.RequestLane, []));

    /// <summary>"yellow" when the instance's lane is the request's; "green &lt;- yellow" when another lane served it.</summary>
    private static string Describe(HopResult? hop)
    {
        if (hop is null)
        {
            return "-";
        }

        if (hop.Error is not null)
        {
            return "error";
        }

        var instance = hop.Lane.Length == 0 ? "unlabelled" : hop.Lane;
        var request = hop.RequestLane.Length == 0 ? "(none)" : hop.RequestLane;
        return instance == request ? instance : $"{instance} <- {request}";
    }

    private static void AppendLine(StringBuilder text, List<string> cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            line.Append(i == cells.Count - 1 ? cells[i] : cells[i].PadRight(widths[i]) + " ");
        }

        text.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
