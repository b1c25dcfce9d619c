using Microsoft.Playwright;
using ProductionServing.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ProductionServing.Tests.Status;

/// <summary>
/// End to end, as an operator sees it: a real host with traffic through a pool and an upstream, the status
/// page open in headless Chromium, its figures moving without a reload, and the match box answering.
/// </summary>
public sealed class StatusPageBrowserTests(ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task StatusPage_ShowsPoolsAndServers_UpdatesLive_AndAnswersTheMatchBox()
    {
        await using var a = await UpstreamHost.NamedAsync("a");
        await using var b = await UpstreamHost.NamedAsync("b");
        using var site = new StaticSite();
        await using var host = await ServingHost.StartAsync(ServingJson.Config($$"""
            { "Match": "= /healthz", "App": { "Pool": null } },
            { "Match": "/api/", "Proxy": { "Pass": "http://backend" } },
            { "Match": "/reports/", "App": { "Pool": "reports" } },
            { "Match": "~* \\.(png|jpe?g)$", "Static": { "Root": "{{ServingJson.Escape(site.Root)}}" } },
            { "Match": "~* \\.(png|jpe?g)$", "Static": { "Root": "{{ServingJson.Escape(site.Root)}}" } },
            { "Match": "/", "Static": { "Root": "{{ServingJson.Escape(site.Root)}}", "TryFiles": ["$uri", "@app"] } },
            { "Match": "/broken/", "Proxy": { "Pass": "{{RawUpstream.RefusingAddress()}}" } }
            """,
            ServingJson.Upstream("backend", "", a.Address, b.Address),
            pools: """ "reports": { "MaxConcurrency": 4, "QueueLimit": 16 } """,
            section: StatusTestClient.Section()));
        await SendAsync(host, 6);
        const string TraceId = "0af7651916cd43dd8448eb211c80319c";
        using (var broken = new HttpRequestMessage(HttpMethod.Get, "/broken/report.csv"))
        {
            broken.Headers.Add("traceparent", $"00-{TraceId}-b7ad6b7169203331-01");
            Assert.Equal(System.Net.HttpStatusCode.BadGateway, (await host.Client.SendAsync(broken)).StatusCode);
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                problems.Add(message.Type + ": " + message.Text);
            }
        };
        page.PageError += (_, error) => problems.Add("page error: " + error);
        page.SetDefaultTimeout((float)TestTimeouts.Long.TotalMilliseconds);

        var response = await page.GotoAsync($"http://127.0.0.1:{host.Port}/_serving");
        Assert.Equal(200, response!.Status);

        // The pool and both upstream servers appear, with their health.
        await page.Locator("#pools tr[data-pool='reports']").WaitForAsync();
        foreach (var server in new[] { a, b })
        {
            var row = page.Locator($"#upstreams tr[data-server='{new Uri(server.Address).Authority}']");
            await row.WaitForAsync();
            Assert.Equal("up", (await row.Locator("[data-field='health']").InnerTextAsync()).Trim());
        }

        // The figures move with more traffic, without the page being reloaded.
        var apiRequests = page.Locator("#locations tr[data-location='1'] [data-field='requests']");
        var reportRequests = page.Locator("#locations tr[data-location='2'] [data-field='requests']");
        await Assertions.Expect(apiRequests).ToHaveTextAsync("6");
        await Assertions.Expect(reportRequests).ToHaveTextAsync("6");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        await SendAsync(host, 4);
        await Assertions.Expect(apiRequests).ToHaveTextAsync("10");
        await Assertions.Expect(reportRequests).ToHaveTextAsync("10");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");

        // The duplicate regex is listed as never selected.
        await Assertions.Expect(page.Locator("#never")).ToContainTextAsync("#4");

        // The failed request is listed with its trace id, under recent errors and under its location.
        await Assertions.Expect(page.Locator("#errors tbody")).ToContainTextAsync("GET /broken/report.csv");
        await Assertions.Expect(page.Locator("#errors tbody")).ToContainTextAsync(TraceId);
        await page.Locator("#trouble details[data-trouble='6'] summary").ClickAsync();
        await Assertions.Expect(page.Locator("#trouble details[data-trouble='6']")).ToContainTextAsync("upstream_connect");

        // The match box answers.
        await page.Locator("#match-input").FillAsync("/api/users?id=7");
        await page.Locator("#match-button").ClickAsync();
        await Assertions.Expect(page.Locator("#match-reason")).ToHaveTextAsync("longest prefix");
        await Assertions.Expect(page.Locator("#match-resolution")).ToContainTextAsync("round robin: next is");

        var screenshot = Path.Combine(Path.GetTempPath(), $"status-page-{Environment.ProcessId}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine("Screenshot: " + screenshot);

        // The same page for a dark color scheme.
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { ColorScheme = ColorScheme.Dark });
        var dark = Path.Combine(Path.GetTempPath(), $"status-page-dark-{Environment.ProcessId}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = dark, FullPage = true });
        output.WriteLine("Screenshot (dark): " + dark);
        Assert.Empty(problems);
    }

    /// <summary>Traffic through the upstream group, the pool, a static file and the app's fallback.</summary>
    private static async Task SendAsync(ServingHost host, int rounds)
    {
        for (var i = 0; i < rounds; i++)
        {
            await host.Client.GetStringAsync(new Uri("/api/items/" + i, UriKind.Relative));
            await host.Client.GetStringAsync(new Uri("/reports/" + i, UriKind.Relative));
            await host.Client.GetStringAsync(new Uri("/hello.txt", UriKind.Relative));
        }
    }
}
