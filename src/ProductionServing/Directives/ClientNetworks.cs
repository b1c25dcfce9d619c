using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ProductionServing.Directives;

/// <summary>
/// The client networks of an allow list (<see cref="LocationOptions.Allow"/>, <see cref="StatusOptions.Allow"/>): IPv4 and IPv6 addresses and CIDR ranges. An
/// IPv4-mapped IPv6 address (<c>::ffff:10.1.2.3</c>, what a dual-stack socket reports for an IPv4 client)
/// is compared as the IPv4 address it carries, in the list and in the client's address.
/// </summary>
internal sealed class ClientNetworks
{
    private readonly IPNetwork[] _networks;

    private ClientNetworks(IPNetwork[] networks) => _networks = networks;

    /// <summary>Compiles entries the validator accepted.</summary>
    public static ClientNetworks Parse(IEnumerable<string> entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            if (!TryParse(entry, out var network, out var problem))
            {
                throw new InvalidOperationException(problem);
            }

            networks.Add(network);
        }

        return new ClientNetworks([.. networks]);
    }

    /// <summary>Whether <paramref name="address"/> (a client's) is in one of the networks; false when there is none (no socket).</summary>
    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Parses an address (<c>10.1.2.3</c>, <c>::1</c>) or a CIDR range (<c>10.0.0.0/8</c>, <c>fd00::/8</c>).
    /// Bits past the prefix are ignored (nginx accepts <c>10.0.0.1/8</c> too, as <c>10.0.0.0/8</c>).
    /// </summary>
    /// <param name="entry">The entry as configured.</param>
    /// <param name="network">The network.</param>
    /// <param name="problem">What is wrong with it, for the validator's message.</param>
    /// <returns>Whether the entry is well-formed.</returns>
    public static bool TryParse(string? entry, out IPNetwork network, out string problem)
    {
        network = default;
        problem = "";
        var text = entry?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            problem = "is empty; give an address (10.1.2.3, ::1) or a CIDR range (10.0.0.0/8, fd00::/8).";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];

        // IPAddress.TryParse also takes "10.1" (10.0.0.1) and "%eth0" scopes, which nobody means in an allow list.
        var isV6 = addressText.Contains(':', StringComparison.Ordinal);
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal)
            || (!isV6 && addressText.AsSpan().Count('.') != 3))
        {
            problem = $"'{text}' is not an IP address or CIDR range; write 10.1.2.3, 10.0.0.0/8, ::1 or fd00::/8.";
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            problem = $"'{text}' has a prefix length that is not a number from 0 to {bits}.";
            return false;
        }

        if (address.IsIPv4MappedToIPv6 && prefix >= 96)
        {
            address = address.MapToIPv4();
            prefix -= 96;
            bits = 32;
        }

        network = new IPNetwork(Mask(address, prefix), prefix);
        return true;
    }

    /// <summary>The address with the bits past <paramref name="prefix"/> cleared (<see cref="IPNetwork"/> refuses them set).</summary>
    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
