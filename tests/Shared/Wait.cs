using System.Diagnostics;

namespace Lanes.Testing;

/// <summary>
/// The one way tests wait for something that happens on its own time (a reload, a watch event, a message): poll a
/// condition until it holds or <see cref="Budget"/> runs out, then fail saying what was awaited and what was seen
/// last. A test that must show something did NOT happen does not wait and then look: it sends a sentinel after the
/// thing that must not happen and waits for the sentinel (docs/testing.md).
/// </summary>
internal static class Wait
{
    /// <summary>
    /// How long a condition may take before the test fails: generous, because the suite runs on 2 shared cores beside
    /// browsers, a broker and many Kestrel servers; a passing wait returns as soon as its condition holds, so the
    /// budget costs time only when a test is about to fail anyway.
    /// </summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);

    /// <summary>Between two looks: short enough not to slow a passing test, long enough not to spin a core.</summary>
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits until <paramref name="condition"/> holds; <paramref name="seen"/> describes the state for the failure message.</summary>
    public static Task UntilAsync(Func<bool> condition, string what, Func<string>? seen = null, TimeSpan? budget = null)
        => UntilAsync(() => Task.FromResult(condition()), what, seen, budget);

    /// <summary>Waits until <paramref name="condition"/> holds; an exception it throws counts as "not yet" and is reported if the budget runs out.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what, Func<string>? seen = null, TimeSpan? budget = null)
        => ForAsync(condition, static held => held, what, budget, _ => seen?.Invoke() ?? "the condition did not hold");

    /// <summary>
    /// Observes a value until <paramref name="done"/> accepts it and returns that value. On timeout the failure names
    /// <paramref name="what"/> and the last value seen (through <paramref name="describe"/>, else its ToString), or
    /// the last exception the observation threw.
    /// </summary>
    public static async Task<T> ForAsync<T>(Func<Task<T>> observe, Func<T, bool> done, string what, TimeSpan? budget = null, Func<T, string>? describe = null)
    {
        var limit = budget ?? Budget;
        var clock = Stopwatch.StartNew();
        var last = "nothing yet";
        Exception? error = null;
        while (true)
        {
            try
            {
                var value = await observe();
                if (done(value))
                {
                    return value;
                }

                last = describe is null ? Describe(value) : describe(value);
                error = null;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = $"{e.GetType().Name}: {e.Message}";
                error = e;
            }

            if (clock.Elapsed > limit)
            {
                throw new Xunit.Sdk.XunitException($"Waited {limit.TotalSeconds:0.#} s for {what}; last seen: {last}", error);
            }

            await Task.Delay(s_interval);
        }
    }

    private static string Describe<T>(T value) => value switch
    {
        null => "(null)",
        bool b => b ? "true" : "false",
        string s => $"\"{s}\"",
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(static i => i?.ToString() ?? "(null)")) + "]",
        _ => value.ToString() ?? "(null)",
    };
}
