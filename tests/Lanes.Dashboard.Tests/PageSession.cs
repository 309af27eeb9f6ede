using System.Collections.Concurrent;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lanes.Dashboard.Tests;

/// <summary>A page of the dashboard in its own browser context, collecting console errors, page errors and failed loads.</summary>
internal sealed class PageSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    private PageSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    public IPage Page { get; }

    /// <summary>Console errors (CSP violations among them), uncaught script errors, and responses of 400 or more.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    public string ContentSecurityPolicy { get; private set; } = string.Empty;

    public static async Task<PageSession> OpenAsync(IBrowser browser, Uri address)
    {
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 }, Locale = "en-GB", TimezoneId = "UTC" });
        var page = await context.NewPageAsync();
        var session = new PageSession(context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                session.Errors.Enqueue("console: " + message.Text);
            }
        };
        page.PageError += (_, error) => session.Errors.Enqueue("page: " + error);
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                session.Errors.Enqueue($"http {response.Status}: {response.Url}");
            }
        };
        var response = await page.GotoAsync(address.ToString());
        if (response is null || !response.Ok)
        {
            throw new InvalidOperationException($"The page did not load: {response?.Status}");
        }

        session.ContentSecurityPolicy = await response.HeaderValueAsync("content-security-policy") ?? string.Empty;
        return session;
    }

    public Task WaitForRefreshesAsync(int count)
        => Page.WaitForFunctionAsync($"() => Number(document.body.getAttribute('data-refreshes') || 0) >= {count}", null, new() { Timeout = 10_000 });

    /// <summary>Fills the tracer's form, submits it and reads every answered field.</summary>
    public async Task<Dictionary<string, string>> TraceAsync(string path, string headers, string cookies = "", string query = "")
    {
        await Page.FillAsync("#trace-path", path);
        await Page.FillAsync("#trace-headers", headers);
        await Page.FillAsync("#trace-cookies", cookies);
        await Page.FillAsync("#trace-query", query);
        await Page.Locator("#trace-result").EvaluateAsync("node => node.replaceChildren()");
        await Page.ClickAsync("#trace-submit");
        await Expect(Page.Locator("#trace-result dd[data-field=\"detail\"]")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dd in await Page.Locator("#trace-result dd").AllAsync())
        {
            fields[(await dd.GetAttributeAsync("data-field"))!] = await dd.TextContentAsync() ?? string.Empty;
        }

        return fields;
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
