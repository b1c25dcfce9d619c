using System.Net;
using System.Text.Json;
using ProductionServing.Tests.Infrastructure;

namespace ProductionServing.Tests.Status;

/// <summary>What the status tests ask of a host: its <c>status.json</c> and <c>match</c> answers, parsed.</summary>
internal static class StatusTestClient
{
    /// <summary><c>"Status": { "Path": "/_serving" }</c> (and <paramref name="allow"/> as the JSON array of <c>Allow</c>, when given), for <see cref="ServingJson.Config"/>'s section.</summary>
    public static string Section(string? allow = null) =>
        allow is null ? "\"Status\": { \"Path\": \"/_serving\" }" : $$"""  "Status": { "Path": "/_serving", "Allow": {{allow}} }""";

    public static async Task<JsonElement> StatusAsync(this HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/_serving/status.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Polls <c>status.json</c> until <paramref name="condition"/> holds (counts are taken as requests end, a moment after the client has its answer).</summary>
    public static async Task<JsonElement> StatusWhenAsync(this HttpClient client, Func<JsonElement, bool> condition, string what)
    {
        JsonElement last = default;
        await Poll.UntilAsync(async () => condition(last = await client.StatusAsync()), what);
        return last;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Answer)> MatchAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri("/_serving/match?path=" + Uri.EscapeDataString(path), UriKind.Relative));
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The entry of the array <paramref name="name"/> whose <paramref name="key"/> is <paramref name="value"/>.</summary>
    public static JsonElement Entry(this JsonElement element, string name, string key, string? value)
    {
        foreach (var entry in element.GetProperty(name).EnumerateArray())
        {
            var found = entry.GetProperty(key);
            if (found.ValueKind == JsonValueKind.Null ? value is null : found.ToString() == value)
            {
                return entry;
            }
        }

        throw new Xunit.Sdk.XunitException($"No entry of {name} has {key} {value ?? "null"}: {element.GetProperty(name)}");
    }

    /// <summary>The location entry of <c>status.json</c> with <paramref name="match"/>.</summary>
    public static JsonElement Location(this JsonElement status, string? match) => status.Entry("locations", "match", match);
}
