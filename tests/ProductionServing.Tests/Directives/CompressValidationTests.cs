using ProductionServing.Configuration;
using ProductionServing.Directives;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Directives;

/// <summary><c>Compress</c> at startup: what is accepted, what is refused (with the key and the fix), and how it compiles.</summary>
public sealed class CompressValidationTests
{
    [Theory]
    [InlineData("true")]
    [InlineData("""{ "Types": [ "text/*", "application/json", "Image/SVG+XML", "application/vnd.api+json" ], "MinLength": 0 }""")]
    [InlineData("{}")]
    public void Compress_Valid_IsAccepted(string compress)
    {
        Assert.Empty(TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/", "App": {}, "Compress": {{compress}} }""")));
    }

    [Fact]
    public void Compress_ReadmeExample_IsValid()
    {
        Assert.Empty(TestConfig.Failures(ServingJson.Config("""
            { "Match": "/", "Static": { "Root": "wwwroot" }, "Compress": true },
            { "Match": "/api/", "Proxy": { "Pass": "http://127.0.0.1:5001" },
              "Compress": { "Types": [ "application/json", "text/*" ], "MinLength": 1024 } }
            """)));
    }

    [Theory]
    [InlineData("""{ "Types": [ "text" ] }""", "Locations[0].Compress.Types[0]: 'text' is not a media type such as text/html or a wildcard such as text/*; */* is not accepted, as it would compress images and archives that are compressed already.")]
    [InlineData("""{ "Types": [ "text/html", "*/*" ] }""", "Locations[0].Compress.Types[1]: '*/*' is not a media type such as text/html or a wildcard such as text/*; */* is not accepted, as it would compress images and archives that are compressed already.")]
    [InlineData("""{ "Types": [ "text/" ] }""", "Locations[0].Compress.Types[0]: 'text/' is not a media type such as text/html or a wildcard such as text/*; */* is not accepted, as it would compress images and archives that are compressed already.")]
    [InlineData("""{ "Types": [ "text/html x" ] }""", "Locations[0].Compress.Types[0]: 'text/html x' is not a media type such as text/html or a wildcard such as text/*; */* is not accepted, as it would compress images and archives that are compressed already.")]
    [InlineData("""{ "Types": [ "text/html; charset=utf-8" ] }""", "Locations[0].Compress.Types[0]: 'text/html; charset=utf-8' has parameters; give the media type alone (text/html, not text/html; charset=utf-8): parameters are ignored when matching.")]
    [InlineData("""{ "Types": [ "" ] }""", "Locations[0].Compress.Types[0]: is empty; give a media type such as text/html or text/*.")]
    [InlineData("""{ "MinLength": -1 }""", "Locations[0].Compress.MinLength: must be at least 0 (got -1).")]
    public void Compress_Invalid_NamesTheKey(string compress, string expected)
    {
        Assert.Contains(expected, TestConfig.Failures(ServingJson.Config($$"""{ "Match": "/", "App": {}, "Compress": {{compress}} }""")));
    }

    [Fact]
    public void Compress_EveryProblemIsReported()
    {
        var failures = TestConfig.Failures(ServingJson.Config("""{ "Match": "/", "App": {}, "Compress": { "Types": [ "a", "b/c", "d" ], "MinLength": -5 } }"""));

        Assert.Equal(3, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Locations[0].Compress.Types[0]: 'a'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Locations[0].Compress.Types[2]: 'd'", StringComparison.Ordinal));
        Assert.Contains("Locations[0].Compress.MinLength: must be at least 0 (got -5).", failures);
    }

    [Fact]
    public void Compress_EmptyTypes_IsRefused()
    {
        var options = new ProductionServingOptions();
        options.Locations.Add(new LocationOptions { Match = "/", App = new AppOptions(), Compress = new CompressOptions { Types = [] } });

        var result = new ProductionServingOptionsValidator().Validate(Microsoft.Extensions.Options.Options.DefaultName, options);

        Assert.Contains("Locations[0].Compress.Types: is empty, so nothing would be compressed; list media types such as text/html, or remove Compress.",
            result.Failures!);
    }

    [Theory]
    [InlineData("text/html", true)]
    [InlineData("text/html; charset=utf-8", true)]
    [InlineData("TEXT/Plain ;charset=x", true)]
    [InlineData("text/event-stream", true)]
    [InlineData("application/json", true)]
    [InlineData("application/JSON; charset=utf-8", true)]
    [InlineData("application/wasm", true)]
    [InlineData("image/svg+xml", true)]
    [InlineData("application/javascript", true)]
    [InlineData("application/xml", true)]
    [InlineData("application/json-seq", false)]
    [InlineData("application/jsonx", false)]
    [InlineData("image/png", false)]
    [InlineData("text", false)]
    [InlineData("text/", false)]
    [InlineData("", false)]
    public void DefaultTypes_MatchTheMediaTypeWithoutParameters(string contentType, bool compressed)
    {
        Assert.Equal(compressed, CompressPolicy.Compile(new CompressOptions()).Compresses(contentType));
    }

    [Fact]
    public void Policies_CompareByValue_SoAReloadThatKeepsThemKeepsTheCache()
    {
        var one = CompressPolicy.Compile(new CompressOptions { Types = ["text/*", "application/json"] });
        var same = CompressPolicy.Compile(new CompressOptions { Types = ["APPLICATION/JSON", "text/*", "text/*"] });
        var otherLength = CompressPolicy.Compile(new CompressOptions { Types = ["text/*", "application/json"], MinLength = 1 });
        var otherTypes = CompressPolicy.Compile(new CompressOptions { Types = ["text/*"] });

        Assert.Equal(one, same);
        Assert.Equal(one.GetHashCode(), same.GetHashCode());
        Assert.NotEqual(one, otherLength);
        Assert.NotEqual(one, otherTypes);
    }
}
