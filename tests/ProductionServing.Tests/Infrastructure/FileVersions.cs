using System.Net;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>Waits, under a bound, for a changed file to be served, checking every answer on the way.</summary>
internal static class FileVersions
{
    /// <summary>
    /// GETs <paramref name="path"/> until it answers <paramref name="expected"/>, and returns that
    /// response. Until then every answer must be the version the client had, <paramref name="previous"/>,
    /// whole and with its own ETag: a cache may be a moment late, never inconsistent. The new version's
    /// ETag differs unless <paramref name="sameETag"/> (nginx's validators are the size and the
    /// modification time, so a twin with both unchanged keeps its ETag).
    /// </summary>
    public static async Task<HttpResponseMessage> UntilServedAsync(HttpClient client, string path, byte[] expected, HttpResponseMessage previous,
        bool sameETag = false)
    {
        var previousBytes = await previous.Content.ReadAsByteArrayAsync();
        HttpResponseMessage? served = null;
        await Poll.UntilAsync(async () =>
        {
            var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (bytes.AsSpan().SequenceEqual(expected))
            {
                served = response;
                return true;
            }

            Assert.Equal(previousBytes, bytes);
            Assert.Equal(previous.Headers.ETag, response.Headers.ETag);
            return false;
        }, $"the new version of {path} is served");

        Assert.Equal(sameETag, previous.Headers.ETag!.Equals(served!.Headers.ETag));
        return served;
    }
}
