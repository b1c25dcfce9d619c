using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ProductionServing.Tests.Infrastructure;

/// <summary>
/// The JSON configuration tests give <see cref="ServingHost"/> and <see cref="TestConfig"/>, shaped as an
/// app's appsettings.json (docs/configuration.md). Each method returns JSON text, so a test
/// can still write a location or a group's settings as a literal, which reads as the configuration a user
/// would write; the builder only saves the envelope and the repeated shapes.
/// </summary>
internal static class ServingJson
{
    /// <summary>
    /// <c>{ "ProductionServing": { "Locations": [ … ], "Upstreams": { … }, "Pools": { … } } }</c>. Each
    /// argument is the inside of its collection (JSON objects or members, comma-separated); empty
    /// <paramref name="upstreams"/> and <paramref name="pools"/> are left out, and <paramref name="section"/>
    /// adds other members of the section (<c>"Status": { … }</c>).
    /// </summary>
    public static string Config(string locations, string upstreams = "", string pools = "", string section = "")
    {
        var json = new StringBuilder("{ \"ProductionServing\": { \"Locations\": [ ").Append(locations).Append(" ]");
        if (upstreams.Length > 0)
        {
            json.Append(", \"Upstreams\": { ").Append(upstreams).Append(" }");
        }

        if (pools.Length > 0)
        {
            json.Append(", \"Pools\": { ").Append(pools).Append(" }");
        }

        if (section.Length > 0)
        {
            json.Append(", ").Append(section);
        }

        return json.Append(" } }").ToString();
    }

    /// <summary>A location that proxies <paramref name="match"/> to <paramref name="pass"/> (a server's address, or <c>http://</c> and a group's name).</summary>
    public static string ProxyLocation(string match, string pass) =>
        $$"""{ "Match": "{{Escape(match)}}", "Proxy": { "Pass": "{{Escape(pass)}}" } }""";

    /// <summary>One location, <c>/</c>, proxying to <paramref name="pass"/>; <paramref name="upstreams"/> as in <see cref="Config"/>.</summary>
    public static string PassAll(string pass, string upstreams = "") => Config(ProxyLocation("/", pass), upstreams);

    /// <summary>
    /// A member of <c>Upstreams</c>: the group <paramref name="name"/> over <paramref name="addresses"/>, with
    /// more settings as JSON members (<c>"Retries": 0</c>) or none.
    /// </summary>
    public static string Upstream(string name, string settings, params string[] addresses)
    {
        var json = new StringBuilder("\"").Append(Escape(name)).Append("\": { \"Servers\": [ ");
        for (var i = 0; i < addresses.Length; i++)
        {
            json.Append(i == 0 ? "" : ", ").Append(Server(addresses[i]));
        }

        json.Append(" ]");
        return (settings.Length == 0 ? json : json.Append(", ").Append(settings)).Append(" }").ToString();
    }

    /// <summary>An entry of <c>Servers</c> for <paramref name="address"/>, with more settings as JSON members (<c>"Weight": 2</c>) or none.</summary>
    public static string Server(string address, string settings = "") => settings.Length == 0
        ? $$"""{ "Address": "{{Escape(address)}}" }"""
        : $$"""{ "Address": "{{Escape(address)}}", {{settings}} }""";

    /// <summary>A location, <c>/</c>, serving the files under <paramref name="root"/>, with more <c>Static</c> settings as JSON members or none.</summary>
    public static string StaticRoot(string root, string settings = "") => settings.Length == 0
        ? $$"""{ "Match": "/", "Static": { "Root": "{{Escape(root)}}" } }"""
        : $$"""{ "Match": "/", "Static": { "Root": "{{Escape(root)}}", {{settings}} } }""";

    /// <summary>
    /// <paramref name="value"/> escaped for the inside of a JSON string: a path on Windows has backslashes.
    /// Only what JSON requires is escaped, so failure messages stay readable.
    /// </summary>
    public static string Escape(string value) => JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString();
}
