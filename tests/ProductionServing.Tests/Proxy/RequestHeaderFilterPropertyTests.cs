using CsCheck;
using Microsoft.AspNetCore.Http;
using ProductionServing.Proxy;

namespace ProductionServing.Tests.Proxy;

/// <summary>
/// The request headers forwarded upstream under random combinations (RFC 9110 §7.6.1): no hop-by-hop header (so never a
/// Transfer-Encoding beside a Content-Length), none the client's Connection names, no Host or X-Forwarded-* of the
/// client's (the proxy sets those), and every other header forwarded.
/// </summary>
public sealed class RequestHeaderFilterPropertyTests
{
    private static readonly string[] Names =
    [
        "Transfer-Encoding", "Content-Length", "Connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Connection",
        "HTTP2-Settings", "Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Custom", "X-Other", "Content-Type",
        "Accept", "transfer-encoding", "x-custom-2",
    ];

    [Fact]
    public void ForwardedRequestHeaders_AreFilteredAsRfc9110Asks()
    {
        var name = Gen.Int[0, Names.Length - 1].Select(i => Names[i]);
        var value = Gen.OneOf(Gen.Const("chunked"), Gen.Const("10"), Gen.Const("v"), Gen.Const("text/plain"),
            name.Array[1, 3].Select(names => string.Join(", ", names)));

        Gen.Select(Gen.Select(name, value).Array[0, 10], Gen.Bool).Sample((headers, withBody) =>
        {
            var context = new DefaultHttpContext();
            foreach (var (headerName, headerValue) in headers)
            {
                context.Request.Headers[headerName] = headerValue;
            }

            using var message = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:5001/");
            if (withBody)
            {
                message.Content = new ByteArrayContent([]);
            }

            ProxyHeaders.CopyRequestHeaders(context, message);

            var connection = context.Request.Headers.Connection;
            var forwarded = message.Headers.NonValidated.Select(h => h.Key)
                .Concat(message.Content?.Headers.NonValidated.Select(h => h.Key) ?? []).ToList();
            foreach (var sent in forwarded)
            {
                Assert.False(ProxyHeaders.IsHopByHop(sent), $"hop-by-hop {sent} forwarded");
                Assert.False(ProxyHeaders.IsListedIn(connection, sent), $"{sent}, named by Connection, forwarded");
                Assert.False(sent.Equals("Host", StringComparison.OrdinalIgnoreCase) || sent.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase),
                    $"the client's {sent} forwarded");
            }

            Assert.DoesNotContain(forwarded, sent => sent.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase));
            foreach (var header in context.Request.Headers)
            {
                var dropped = ProxyHeaders.IsHopByHop(header.Key) || ProxyHeaders.IsListedIn(connection, header.Key)
                    || header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase) || header.Key.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase)
                    || !withBody && header.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase);
                Assert.True(dropped || forwarded.Contains(header.Key, StringComparer.OrdinalIgnoreCase), $"{header.Key} was not forwarded");
            }
        }, iter: 10_000);
    }
}
