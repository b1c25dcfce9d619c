using System.Buffers.Binary;
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
    // IPv4 networks as (network, mask) numbers: an IPv4 client and a dual-stack socket's IPv4-mapped client
    // (::ffff:10.1.2.3) are compared with these through the four bytes they carry, written to the stack, without
    // mapping the address (which allocates). A mapped client is not compared with the IPv6 networks, as nginx's
    // access module compares it with its IPv4 rules only. (IPNetwork.Contains cannot serve here either: it
    // answers false for a mapped address in ::ffff:0:0/96, what 0.0.0.0/0 maps to.)
    private readonly (uint Network, uint Mask)[] _v4;
    private readonly IPNetwork[] _v6;

    private ClientNetworks((uint Network, uint Mask)[] v4, IPNetwork[] v6)
    {
        _v4 = v4;
        _v6 = v6;
    }

    /// <summary>Compiles entries the validator accepted.</summary>
    public static ClientNetworks Parse(IEnumerable<string> entries)
    {
        var v4 = new List<(uint, uint)>();
        var v6 = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            if (!TryParse(entry, out var network, out var problem))
            {
                throw new InvalidOperationException(problem);
            }

            if (network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
            {
                var mask = network.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - network.PrefixLength);
                v4.Add((IPv4(network.BaseAddress, offset: 0), mask));
            }
            else
            {
                v6.Add(network);
            }
        }

        return new ClientNetworks([.. v4], [.. v6]);
    }

    /// <summary>Whether <paramref name="address"/> (a client's) is in one of the networks; false when there is none (no socket).</summary>
    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6)
        {
            var value = IPv4(address, offset: address.AddressFamily == AddressFamily.InterNetwork ? 0 : 12);
            foreach (var (network, mask) in _v4)
            {
                if ((value & mask) == network)
                {
                    return true;
                }
            }

            return false;
        }

        foreach (var network in _v6)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The IPv4 address at <paramref name="offset"/> in <paramref name="address"/>'s bytes, as a number.</summary>
    private static uint IPv4(IPAddress address, int offset)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes[offset..]);
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

        // IPAddress.TryParse also takes "10.1" (10.0.0.1), octal and hex parts ("010.0.0.1" is 8.0.0.1 to it,
        // 10.0.0.1 to nginx, whose ngx_inet_addr reads decimal only) and "%eth0" scopes, which nobody means in an
        // allow list: an IPv4 address is four decimal numbers.
        var isV6 = addressText.Contains(':', StringComparison.Ordinal);
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal)
            || (!isV6 && !IsDottedDecimal(addressText)))
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

    /// <summary>Whether <paramref name="text"/> is four decimal numbers of 0 to 255 without leading zeros, separated by dots.</summary>
    private static bool IsDottedDecimal(string text)
    {
        var parts = 0;
        foreach (var range in text.AsSpan().Split('.'))
        {
            var part = text.AsSpan(range);
            if (++parts > 4 || part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }

        return parts == 4;
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
