using System.Net;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Static;

/// <summary>With no configuration at all, files of wwwroot are served and everything else goes to the app (docs/configuration.md; nginx's <c>try_files $uri @app</c>).</summary>
public sealed class DefaultWebRootTests
{
    [Fact]
    public async Task NoConfiguration_ServesWebRootFiles_AndTheAppTheRest()
    {
        using var site = new StaticSite();
        Directory.CreateDirectory(Path.Combine(site.Folder, "wwwroot"));
        File.WriteAllText(Path.Combine(site.Folder, "wwwroot", "robots.txt"), "User-agent: *");
        await using var host = await ServingHost.StartAsync("{}", contentRoot: site.Folder);

        var file = await host.Client.GetAsync(StaticFileTests.Uri("/robots.txt"));
        var app = await host.Client.GetStringAsync(StaticFileTests.Uri("/api/orders"));
        var post = await host.Client.PostAsync(StaticFileTests.Uri("/robots.txt"), new StringContent(""));

        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("User-agent: *", await file.Content.ReadAsStringAsync());
        Assert.EndsWith("|/api/orders", app, StringComparison.Ordinal);
        Assert.EndsWith("|/robots.txt", await post.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
