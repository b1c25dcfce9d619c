using CsCheck;
using Microsoft.AspNetCore.Http;
using ProductionServing.Proxy;
using ProductionServing.Routing;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// nginx's proxy_pass URI rules under random and adversarial request targets: whatever the client
/// writes (authority-like "//host", "@", backslashes, encoded slashes, an absolute-form target naming another
/// host), the URI sent upstream is on the configured server, never on a host the client chose.
/// </summary>
public sealed class UpstreamUriPropertyTests
{
    private static readonly string[] Pieces =
    [
        "/", "//", "api", "api/", "v2", "@", "evil.example", ":80", ":", "\\", "%2f", "%2F", "%5c", "%40", "..", ".", "%2e%2e",
        "?", "#", "&", "=", "x", "%00", "%", " ", "é", "http://", "//evil.example/",
    ];

    [Fact]
    public void TheUpstreamUri_IsAlwaysOnTheConfiguredServer()
    {
        var piece = Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]);
        var target = Gen.OneOf(
            piece.Array[0, 10].Select(parts => "/" + string.Concat(parts)),
            piece.Array[0, 10].Select(parts => "/api/" + string.Concat(parts)),
            piece.Array[0, 10].Select(parts => "http://evil.example/api/" + string.Concat(parts)));

        Gen.Select(target, Gen.Bool).Sample((raw, withPassPath) =>
        {
            var pathPart = RequestPath.PathPart(raw);
            if (!RequestPath.TryNormalize(pathPart, out var path) || withPassPath && !path.StartsWith("/api/", StringComparison.Ordinal))
            {
                // Refused with 400, or not a request the "/api/" location (the one with a path part) would take.
                return;
            }

            var uri = UpstreamUri.Build("http://127.0.0.1:5001", raw, new DefaultHttpContext(), path, withPassPath ? "/api/" : null, withPassPath ? "/v2/" : null);

            Assert.Equal("http", uri.Scheme);
            Assert.Equal("127.0.0.1", uri.Host);
            Assert.Equal(5001, uri.Port);
            Assert.Equal("127.0.0.1:5001", uri.Authority);
        }, iter: 10_000);
    }
}
