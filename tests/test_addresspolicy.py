"""Which addresses mirrorkeeper may reach: global ones, and the networks
named in allowed_networks; IPv4 carried in IPv6 judged by the IPv4."""

import ipaddress

import pytest

from mirrorkeeper.addresspolicy import (
    LOOPBACK_NETWORKS, AddressPolicy, embedded_ipv4, non_global_reason,
    parse_networks)

# (address, words the reason must contain); one or more per network.
NOT_GLOBAL = [
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "'this network'"),
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.100.100.200", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("169.254.169.254", "link-local"),
    ("169.254.0.1", "link-local"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.0.0.1", "IETF protocol assignment"),
    ("192.0.0.170", "IETF protocol assignment"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.254", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("febf::1", "link-local"),
    ("fec0::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "benchmarking"),
    ("2001:10::1", "ORCHID"),
    ("100::1", "discard-only"),
    ("4000::1", "reserved"),
    ("5f00::1", "reserved"),
    ("1::1", "reserved"),
]

GLOBAL = [
    "91.189.91.38", "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.0",
    "172.15.255.255", "172.32.0.0", "192.0.1.255", "192.0.3.0",
    "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
    "223.255.255.255", "11.0.0.1", "126.255.255.255", "128.0.0.1",
    "169.253.255.255", "169.255.0.0",
    "2620:2d:4000:1::16", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888",
    # IPv4 carried in IPv6, the IPv4 address global:
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",   # Teredo client 8.8.8.8
]

# (an IPv6 address carrying 169.254.169.254 or another, its form, the IPv4)
EMBEDDED = [
    ("::ffff:169.254.169.254", "IPv4-mapped", "169.254.169.254"),
    ("::ffff:a9fe:a9fe", "IPv4-mapped", "169.254.169.254"),
    ("::ffff:127.0.0.1", "IPv4-mapped", "127.0.0.1"),
    ("::ffff:0:a9fe:a9fe", "IPv4-translated", "169.254.169.254"),
    ("::169.254.169.254", "IPv4-compatible", "169.254.169.254"),
    ("::a00:1", "IPv4-compatible", "10.0.0.1"),
    ("64:ff9b::a9fe:a9fe", "NAT64", "169.254.169.254"),
    ("64:ff9b::10.1.2.3", "NAT64", "10.1.2.3"),
    ("64:ff9b:1::a9fe:a9fe", "local-use NAT64", "169.254.169.254"),
    ("2002:a9fe:a9fe::", "6to4", "169.254.169.254"),
    ("2002:a9fe:a9fe:1234::1", "6to4", "169.254.169.254"),
    ("2002:7f00:1::", "6to4", "127.0.0.1"),
    ("2002:6464:64c8::", "6to4", "100.100.100.200"),
    # Teredo: server 65.54.227.120, client the complement of the last 32
    # bits: ~5601:5601 = a9fe:a9fe.
    ("2001:0:4136:e378:8000:63bf:5601:5601", "Teredo", "169.254.169.254"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo", "127.0.0.1"),
]


@pytest.mark.parametrize("address, words", NOT_GLOBAL)
def test_not_global_refused(address, words):
    """Every address that is not global is refused by default, and the
    reason says what it is in words and names its network."""
    policy = AddressPolicy()
    assert not policy.allows(address)
    reason = policy.refusal(address)
    assert words in reason
    assert reason.startswith(str(ipaddress.ip_address(address.split("%")[0])))
    assert "/" in reason
    assert non_global_reason(address) == reason


@pytest.mark.parametrize("address", GLOBAL)
def test_global_allowed(address):
    """Global addresses, and IPv6 forms of global IPv4 addresses, are
    allowed."""
    assert AddressPolicy().allows(address)
    assert AddressPolicy().refusal(address) is None
    assert non_global_reason(address) is None


@pytest.mark.parametrize("address, form, inner", EMBEDDED)
def test_embedded_ipv4_judged_by_the_ipv4_inside(address, form, inner):
    """An IPv6 address carrying a non-global IPv4 address is refused, and
    the reason names the form and the IPv4 address."""
    assert embedded_ipv4(address) == (form + " form",
                                      ipaddress.IPv4Address(inner))
    policy = AddressPolicy()
    assert not policy.allows(address)
    reason = policy.refusal(address)
    assert "the %s form of %s" % (form, inner) in reason


def test_embedded_ipv4_none():
    """IPv4 addresses, plain IPv6 ones, :: and ::1 carry no IPv4 address."""
    for address in ["127.0.0.1", "2620:2d:4000:1::16", "::", "::1",
                    "fe80::1"]:
        assert embedded_ipv4(address) is None, address


def test_local_use_nat64_refused_whatever_it_carries():
    """The local-use NAT64 prefix does not reach the Internet: refused even
    when the IPv4 address inside is global."""
    reason = AddressPolicy().refusal("64:ff9b:1::808:808")
    assert "local-use NAT64" in reason


@pytest.mark.parametrize("allowed, address", [
    (LOOPBACK_NETWORKS, "127.0.0.1"),
    (LOOPBACK_NETWORKS, "127.45.0.3"),
    (LOOPBACK_NETWORKS, "::1"),
    (["10.0.0.0/8"], "10.20.30.40"),
    (["169.254.169.254/32"], "169.254.169.254"),
    (["100.64.0.0/10"], "100.100.100.200"),
    (["fd00::/8"], "fd12::1"),
    (["fe80::/10"], "fe80::1%eth0"),
    (["192.0.2.0/24"], "192.0.2.7"),
    # An allowed IPv4 network allows the IPv6 forms of its addresses.
    (LOOPBACK_NETWORKS, "::ffff:127.0.0.1"),
    (LOOPBACK_NETWORKS, "2002:7f00:1::"),
    (LOOPBACK_NETWORKS, "64:ff9b::7f00:1"),
    (["10.0.0.0/8"], "2001:0:4136:e378:8000:63bf:f5ff:fffe"),  # 10.0.0.1
    # One string, as the configuration has it.
    ("127.0.0.0/8, ::1/128", "::1"),
    ("10.0.0.0/8 ,192.168.0.0/16", "192.168.7.7"),
])
def test_allowed_networks_override(allowed, address):
    """An address inside allowed_networks is allowed although not global."""
    assert not AddressPolicy().allows(address)
    policy = AddressPolicy(allowed_networks=allowed)
    assert policy.allows(address)
    assert policy.refusal(address) is None
    assert policy.in_allowed_networks(address)


@pytest.mark.parametrize("allowed, address", [
    (LOOPBACK_NETWORKS, "169.254.169.254"),
    (LOOPBACK_NETWORKS, "2002:a9fe:a9fe::"),
    (LOOPBACK_NETWORKS, "10.0.0.1"),
    (LOOPBACK_NETWORKS, "::2"),                 # IPv4-compatible 0.0.0.2
    (["127.0.0.2/32"], "127.0.0.3"),
    (["127.0.0.0/8"], "::1"),
    (["::1/128"], "127.0.0.1"),
    (["fd00::/8"], "fc00::1"),
])
def test_allowed_networks_open_only_themselves(allowed, address):
    """allowed_networks opens exactly the networks it names."""
    assert not AddressPolicy(allowed_networks=allowed).allows(address)


def test_networks_given_as_objects():
    policy = AddressPolicy([ipaddress.ip_network("127.0.0.0/8")])
    assert policy.allows("127.0.0.1")
    assert repr(policy) == "AddressPolicy(allowed_networks=('127.0.0.0/8',))"


@pytest.mark.parametrize("text, expected", [
    ("", ()),
    ("   ", ()),
    ("127.0.0.0/8 ::1/128", ("127.0.0.0/8", "::1/128")),
    ("127.0.0.0/8,::1/128", ("127.0.0.0/8", "::1/128")),
    (" 127.0.0.0/8 ,\n ::1 , ", ("127.0.0.0/8", "::1/128")),
    ("10.1.2.3", ("10.1.2.3/32",)),
    ("FD00:0::/8", ("fd00::/8",)),
])
def test_parse_networks(text, expected):
    """CIDRs separated by spaces and/or commas, in their normal form."""
    assert parse_networks(text) == expected


@pytest.mark.parametrize("text, words", [
    ("127.0.0.0/33", "127.0.0.0/33"),
    ("10.0.0.5/8", "has host bits set"),
    ("loopback", "'loopback' is not a network"),
    ("127.0.0.0/8 nonsense", "'nonsense'"),
])
def test_parse_networks_refuses(text, words):
    with pytest.raises(ValueError, match=words):
        parse_networks(text)
    with pytest.raises(ValueError, match=words):
        AddressPolicy(text)


def test_not_an_address():
    with pytest.raises(ValueError):
        AddressPolicy().allows("mirror.example.org")
