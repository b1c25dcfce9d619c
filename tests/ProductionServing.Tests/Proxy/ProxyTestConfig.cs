namespace ProductionServing.Tests.Proxy;

/// <summary>JSON configuration for proxy tests.</summary>
internal static class ProxyTestConfig
{
    /// <summary>A configuration with the given locations (JSON objects) and, when given, the body of <c>Upstreams</c>.</summary>
    public static string Json(string locations, string upstreams = "") =>
        "{ \"ProductionServing\": { \"Locations\": [ " + locations + " ]"
        + (upstreams.Length == 0 ? "" : ", \"Upstreams\": { " + upstreams + " }")
        + " } }";

    /// <summary>One location, <c>/</c>, passing to <paramref name="pass"/>; <paramref name="upstreams"/> is the body of <c>Upstreams</c>.</summary>
    public static string PassAll(string pass, string upstreams = "") =>
        Json("{ \"Match\": \"/\", \"Proxy\": { \"Pass\": \"" + pass + "\" } }", upstreams);

    /// <summary>An upstream group named <paramref name="name"/> over <paramref name="addresses"/> with extra settings (JSON members).</summary>
    public static string Group(string name, string extra, params string[] addresses) =>
        "\"" + name + "\": { \"Servers\": [ " + string.Join(", ", addresses.Select(a => ProxyTestHosts.Server(a))) + " ]"
        + (extra.Length == 0 ? "" : ", " + extra) + " }";
}
