extern alias SpaWithApi;

using Microsoft.Playwright;
using ProductionServing.Tests.Infrastructure;
using SpaProgram = SpaWithApi::Program;

namespace ProductionServing.Tests.Functional;

/// <summary>
/// samples/SpaWithApi as a visitor sees it, in headless Chromium: a deep link renders its route, links and
/// the back button move between routes without a page load, and the form's answers come from the API.
/// </summary>
public sealed class SpaWithApiBrowserTests(SampleHost<SpaProgram> sample) : IClassFixture<SampleHost<SpaProgram>>
{
    [ChromiumFact]
    public async Task DeepLink_Navigation_AndTheForm_WorkInABrowser()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await ChromiumFactAttribute.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            // The browser reports the API's 400 as a failed resource load; that answer is the point of the form step.
            if (message.Type is "error" or "warning" && !message.Text.Contains("400", StringComparison.Ordinal))
            {
                problems.Add(message.Type + ": " + message.Text);
            }
        };
        page.PageError += (_, error) => problems.Add("page error: " + error);
        page.SetDefaultTimeout((float)TestTimeouts.Long.TotalMilliseconds);
        var root = sample.Address.GetLeftPart(UriPartial.Authority);

        // A deep link: the server answers index.html, the script renders /todos/2 from the API.
        var response = await page.GotoAsync(root + "/todos/2");
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("main h2")).ToHaveTextAsync("To-do 2");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("Serve the SPA and its API from one process");
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");

        // A link inside the app changes the route without loading a page.
        await page.GetByRole(AriaRole.Link, new() { Name = "All to-dos" }).ClickAsync();
        await Assertions.Expect(page.Locator("main h2")).ToHaveTextAsync("To do");
        Assert.Equal(root + "/", page.Url);
        var before = await page.Locator("main li").CountAsync();
        Assert.True(before >= 3, $"{before} items listed");

        // An empty title: the API's validation problem is shown.
        await page.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Assertions.Expect(page.Locator(".problem")).ToContainTextAsync("A title is required.");

        // A real one: created by the API, then shown on its own route.
        await page.GetByPlaceholder("Something to do").FillAsync("Written in the browser");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("Written in the browser");
        Assert.Matches(@"/todos/\d+$", page.Url);

        // Back to the list, which has the new item.
        await page.GoBackAsync();
        await Assertions.Expect(page.Locator("main li")).ToHaveCountAsync(before + 1);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "a page was loaded");
        Assert.Empty(problems);
    }
}
