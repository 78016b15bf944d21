"""Which IP addresses mirrorkeeper may send traffic to.

A mirror URL is typed by whoever registers the mirror, and the prober
follows the redirects a mirror sends; neither may become a way to reach
inside the network mirrorkeeper runs in (a cloud's metadata service at
169.254.169.254 or 100.100.100.200, intranet hosts, the machine's own
loopback services).  So only global addresses are allowed, plus the
networks a site names in ``[prober] allowed_networks`` (tests and demos
name loopback, a mirror network inside one organisation its own nets).

An IPv6 address that carries an IPv4 address (IPv4-mapped, NAT64, 6to4,
Teredo ...) is judged by the IPv4 address inside, since that is where the
traffic ends up.

The prober (L{mirrorkeeper.prober.addresses}) and registration
(L{mirrorkeeper.validators}) both judge by an L{AddressPolicy}.
"""

from __future__ import annotations

import ipaddress
import re

# What the settings of tests and demos name: the loopback interface.
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")

# The networks that are not global, most specific first, each with what it
# is in words.  From the IANA special-purpose address registries
# (RFC 6890 and its updates).
_IPV4_NOT_GLOBAL = [
    (ipaddress.IPv4Network(net), words)
    for net, words in [
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address, where some"
         " clouds' metadata services answer"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address, where cloud metadata"
         " services answer"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a deprecated 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the limited broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
    ]
]

_IPV6_NOT_GLOBAL = [
    (ipaddress.IPv6Network(net), words)
    for net, words in [
        ("::/128", "the unspecified address"),
        ("::1/128", "the loopback address"),
        ("100::/64", "a discard-only address"),
        ("2001:2::/48", "a benchmarking address"),
        ("2001:10::/28", "a deprecated ORCHID address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a deprecated site-local address"),
        ("ff00::/8", "a multicast address"),
    ]
]
# Everything outside it is reserved by the IETF (the embedded forms below
# aside).
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

_LOW32 = 0xFFFFFFFF


def _last_32_bits(value):
    return value & _LOW32


def _teredo_client(value):
    # RFC 4380: the client's public address, every bit inverted.
    return ~value & _LOW32


def _six_to_four(value):
    # RFC 3056: 2002:AABB:CCDD::/48 for the IPv4 address AA.BB.CC.DD.
    return (value >> 80) & _LOW32


# The IPv6 forms that carry an IPv4 address: the network, the form's name
# and where in the 128 bits the IPv4 address is.  ::ffff:0:0/96 comes
# before ::/96, which would also match it.
_IPV6_EMBEDDING = [
    (ipaddress.IPv6Network(net), form, where)
    for net, form, where in [
        ("::ffff:0:0/96", "IPv4-mapped form", _last_32_bits),
        ("::ffff:0:0:0/96", "IPv4-translated form", _last_32_bits),
        ("::/96", "IPv4-compatible form", _last_32_bits),
        ("64:ff9b::/96", "NAT64 form", _last_32_bits),
        ("64:ff9b:1::/48", "local-use NAT64 form", _last_32_bits),
        ("2002::/16", "6to4 form", _six_to_four),
        ("2001::/32", "Teredo form", _teredo_client),
    ]
]
# RFC 8215: a prefix for NAT64 inside one network, not reachable from the
# Internet whatever IPv4 address it carries.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def parse_address(address):
    """C{address} (str, or an ipaddress address) as an ipaddress address;
    an IPv6 scope ("fe80::1%eth0") is left out.

    @raise ValueError: if it is not an IP address.
    """
    if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        if getattr(address, "scope_id", None):
            return ipaddress.IPv6Address(int(address))
        return address
    return ipaddress.ip_address(str(address).split("%", 1)[0])


def embedded_ipv4(address):
    """The IPv4 address an IPv6 address carries, as (the form's name, an
    IPv4Address), e.g. ("6to4 form", IPv4Address("169.254.169.254")) for
    2002:a9fe:a9fe::; None for an IPv4 address or a plain IPv6 one.  The
    unspecified and loopback addresses :: and ::1 carry none."""
    ip = parse_address(address)
    if ip.version != 6 or int(ip) <= 1:
        return None
    for network, form, where in _IPV6_EMBEDDING:
        if ip in network:
            return form, ipaddress.IPv4Address(where(int(ip)))
    return None


def _plain_reason(ip):
    """How C{ip} is not global, as (words, network), or None if it is,
    without looking inside it."""
    if ip.version == 4:
        table = _IPV4_NOT_GLOBAL
    else:
        table = _IPV6_NOT_GLOBAL
    for network, words in table:
        if ip in network:
            return words, network
    if ip.version == 6 and ip not in _IPV6_GLOBAL_UNICAST:
        return ("a reserved address (outside 2000::/3, the global unicast"
                " space)", _IPV6_GLOBAL_UNICAST)
    return None


def non_global_reason(address):
    """Why C{address} is not a global address, in words, or None if it is.

    For example "2002:a9fe:a9fe:: is the 6to4 form of 169.254.169.254, a
    link-local address, where cloud metadata services answer
    (169.254.0.0/16)".

    @param address: an IP address, str or an ipaddress address.
    @raise ValueError: if it is not an IP address.
    """
    ip = parse_address(address)
    embedded = embedded_ipv4(ip)
    if embedded is not None:
        form, inner = embedded
        reason = _plain_reason(inner)
        if reason is not None:
            words, network = reason
            return "%s is the %s of %s, %s (%s)" % (
                ip, form, inner, words, network)
        if ip in _LOCAL_NAT64:
            return ("%s is a local-use NAT64 address (%s), which does not"
                    " reach the Internet" % (ip, _LOCAL_NAT64))
        return None
    reason = _plain_reason(ip)
    if reason is None:
        return None
    words, network = reason
    return "%s is %s (%s)" % (ip, words, network)


def parse_networks(text):
    """The networks named in C{text} (CIDRs, e.g. "127.0.0.0/8 ::1/128",
    separated by spaces and/or commas; a bare address is a network of one)
    in their normal form, a tuple of str.

    @raise ValueError: naming the first part that is not a network.
    """
    networks = []
    for part in re.split(r"[\s,]+", text or ""):
        if not part:
            continue
        try:
            network = ipaddress.ip_network(part)
        except ValueError as error:
            raise ValueError("%r is not a network in CIDR notation (%s)"
                             % (part, error)) from None
        networks.append(str(network))
    return tuple(networks)


class AddressPolicy:
    """Which addresses may be reached: the global ones, and those inside
    C{allowed_networks}.

    @param allowed_networks: networks allowed although not global: an
        iterable of CIDR strings or ipaddress networks, or one string in
        the form L{parse_networks} reads, e.g. ("127.0.0.0/8", "::1/128").
    @raise ValueError: if one of them is not a network.
    """

    def __init__(self, allowed_networks=()):
        if isinstance(allowed_networks, str):
            allowed_networks = parse_networks(allowed_networks)
        networks = []
        for network in allowed_networks:
            if isinstance(network, str):
                network = parse_networks(network)
                networks.extend(ipaddress.ip_network(n) for n in network)
            else:
                networks.append(ipaddress.ip_network(network))
        self.allowed_networks = tuple(networks)

    def __repr__(self):
        return "AddressPolicy(allowed_networks=%r)" % (
            tuple(str(n) for n in self.allowed_networks),)

    def in_allowed_networks(self, address):
        """True if C{address}, or the IPv4 address it carries, is inside
        one of the allowed networks (whether or not it is global)."""
        ip = parse_address(address)
        if self._listed(ip):
            return True
        embedded = embedded_ipv4(ip)
        return embedded is not None and self._listed(embedded[1])

    def _listed(self, ip):
        return any(ip.version == network.version and ip in network
                   for network in self.allowed_networks)

    def refusal(self, address):
        """Why C{address} may not be reached, in words, or None if it may.

        @param address: an IP address, str or an ipaddress address.
        @raise ValueError: if it is not an IP address.
        """
        if self.in_allowed_networks(address):
            return None
        return non_global_reason(address)

    def allows(self, address):
        """True if C{address} (str or an ipaddress address) may be reached:
        a global address, or one inside an allowed network.

        @raise ValueError: if it is not an IP address.
        """
        return self.refusal(address) is None
