"""Checks and normal forms of what people type: names, email addresses,
base URLs, netblocks and addresses."""

import pytest

from mirrorkeeper.addresspolicy import LOOPBACK_NETWORKS, AddressPolicy
from mirrorkeeper.errors import (
    InvalidURLError, InvalidValueError, MirrorKeeperError)
from mirrorkeeper.validators import (
    MAX_URL_LENGTH, normalise_base_url, valid_address, valid_email,
    valid_name, valid_netblock)


# normalise_base_url

@pytest.mark.parametrize("url, scheme, expected", [
    ("http://example.org/ubuntu/", "http", "http://example.org/ubuntu/"),
    ("HTTP://Example.ORG/ubuntu", "http", "http://example.org/ubuntu/"),
    ("https://Mirror.Example.org", "https", "https://mirror.example.org/"),
    ("ftp://ftp.example.org/pub/Ubuntu", "ftp",
     "ftp://ftp.example.org/pub/Ubuntu/"),
    ("rsync://rsync.example.org/ubuntu", "rsync",
     "rsync://rsync.example.org/ubuntu/"),
    ("  http://example.org/ubuntu  ", "http", "http://example.org/ubuntu/"),
    ("http://example.org/~user/%7Eubuntu", "http",
     "http://example.org/~user/%7Eubuntu/"),
    ("http://192.0.2.7/ubuntu", "http", "http://192.0.2.7/ubuntu/"),
])
def test_normal_form(url, scheme, expected):
    """Scheme and host are lower-cased, the path keeps its case and gains a
    trailing slash."""
    assert normalise_base_url(url, scheme) == expected


@pytest.mark.parametrize("url, scheme, expected", [
    ("http://example.org:80/ubuntu", "http", "http://example.org/ubuntu/"),
    ("https://example.org:443/ubuntu", "https", "https://example.org/ubuntu/"),
    ("ftp://example.org:21/ubuntu", "ftp", "ftp://example.org/ubuntu/"),
    ("rsync://example.org:873/ubuntu", "rsync", "rsync://example.org/ubuntu/"),
    ("http://example.org:/ubuntu", "http", "http://example.org/ubuntu/"),
])
def test_default_port_dropped(url, scheme, expected):
    """The scheme's default port (or an empty one) is dropped."""
    assert normalise_base_url(url, scheme) == expected


@pytest.mark.parametrize("url, scheme, expected", [
    ("http://example.org:8080/ubuntu", "http",
     "http://example.org:8080/ubuntu/"),
    ("http://example.org:443/ubuntu", "http",
     "http://example.org:443/ubuntu/"),
    ("https://example.org:80/", "https", "https://example.org:80/"),
])
def test_other_port_kept(url, scheme, expected):
    """A port that is not the scheme's default is kept."""
    assert normalise_base_url(url, scheme) == expected


def test_same_url_one_normal_form():
    """Spellings of one URL all give the same normal form."""
    spellings = ["http://example.org/ubuntu", "HTTP://EXAMPLE.ORG/ubuntu/",
                 "http://Example.org:80/ubuntu", " http://example.org/ubuntu/"]
    assert {normalise_base_url(s, "http") for s in spellings} == {
        "http://example.org/ubuntu/"}


@pytest.mark.parametrize("url, expected", [
    ("http://[2001:DB8::1]/ubuntu", "http://[2001:db8::1]/ubuntu/"),
    ("http://[2001:db8::1]:80/ubuntu", "http://[2001:db8::1]/ubuntu/"),
    ("http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/"),
    ("http://[2001:0db8:0:0::0001]/ubuntu", "http://[2001:db8::1]/ubuntu/"),
])
def test_ipv6_literal(url, expected):
    """An IPv6 literal keeps its brackets, in its compressed lower-case
    form, so one address has one normal form."""
    assert normalise_base_url(url, "http") == expected


def assert_rejected(url, scheme, reason, policy=None):
    with pytest.raises(InvalidURLError) as caught:
        normalise_base_url(url, scheme, policy)
    message = str(caught.value)
    assert repr(url.strip()) in message
    assert reason in message
    assert "\n" not in message
    assert isinstance(caught.value, MirrorKeeperError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("url", [
    "http://user@example.org/ubuntu",
    "http://user:secret@example.org/ubuntu",
    "http://:secret@example.org/ubuntu",
    "http://@example.org/ubuntu",
])
def test_userinfo_rejected(url):
    """A URL carrying a user, a password or an empty user part is
    rejected, naming the URL."""
    assert_rejected(url, "http", "no user or password")


@pytest.mark.parametrize("url", [
    "http://example.org/ubuntu?x=1",
    "http://example.org/ubuntu#top",
    "http://example.org/ubuntu/?dir=/#x",
])
def test_query_and_fragment_rejected(url):
    """A base URL with a query or a fragment is rejected, naming the URL."""
    assert_rejected(url, "http", "no query or fragment")


@pytest.mark.parametrize("url", [
    "http://example.org/ub untu",
    "http://example.org/ubuntu\u00a0/",
])
def test_space_rejected(url):
    """A URL with whitespace inside it is rejected, naming the URL."""
    assert_rejected(url, "http", "spaces")


@pytest.mark.parametrize("url, code", [
    ("http://example.org/ubuntu\t/", "U+0009"),
    ("http://example.org/ub\nuntu", "U+000A"),
    ("http://example.org/ubuntu/\r\nX-Injected: 1", "U+000D"),
    ("http://example.org/\x00", "U+0000"),
    ("http://exam\x1bple.org/", "U+001B"),
    ("http://example.org/ubuntu/\x7f", "U+007F"),
    ("http://example.org/\x85ubuntu/", "U+0085"),
    ("\x01http://example.org/ubuntu/", "U+0001"),
    ("http://example.org/ubuntu/\n", "U+000A"),
    ("http://example.org/ubuntu/\x1c", "U+001C"),
])
def test_control_character_rejected(url, code):
    """A control character anywhere in a URL, even at an end where it
    would be stripped as white space, is rejected; the one-line message
    names the URL (the character escaped) and the character."""
    with pytest.raises(InvalidURLError) as caught:
        normalise_base_url(url, "http")
    message = str(caught.value)
    assert code in message and "control character" in message
    assert "\n" not in message and "\r" not in message
    assert message.isprintable()
    assert repr(url.strip())[1:12] in message


def test_long_url_rejected():
    """A URL over MAX_URL_LENGTH (2,048) characters is rejected in a short
    one-line message; one of exactly that length is taken."""
    base = "http://example.org/"
    fits = base + "a" * (MAX_URL_LENGTH - len(base) - 1) + "/"
    assert len(fits) == MAX_URL_LENGTH == 2048
    assert normalise_base_url(fits, "http") == fits
    with pytest.raises(InvalidURLError) as caught:
        normalise_base_url(fits + "b", "http")
    message = str(caught.value)
    assert "2049 characters" in message and "2048" in message
    assert "http://example.org/aaa" in message
    assert len(message) < 300


# Registration: where the prober may not go, no mirror may be registered.

DEFAULT = AddressPolicy()
LOOPBACK = AddressPolicy(LOOPBACK_NETWORKS)


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1/ubuntu/", "127.0.0.1 is a loopback address"),
    ("http://127.0.0.1:8080/", "loopback"),
    ("http://[::1]/ubuntu/", "::1 is the loopback address"),
    ("http://[::]/", "unspecified"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.1.2.3/ubuntu/", "10.1.2.3 is a private address"),
    ("http://172.16.0.9/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://100.100.100.200/", "carrier-grade NAT"),
    ("http://169.254.169.254/latest/", "link-local"),
    ("http://192.0.2.7/ubuntu/", "documentation"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://224.0.0.1/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fd00::1]/", "unique local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1"),
    ("http://[::ffff:169.254.169.254]/",
     "IPv4-mapped form of 169.254.169.254"),
    ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 form of 169.254.169.254"),
    ("http://[2002:a9fe:a9fe::]/", "6to4 form of 169.254.169.254"),
    ("http://[2001:0:4136:e378:8000:63bf:5601:5601]/",
     "Teredo form of 169.254.169.254"),
    ("http://localhost/ubuntu/", "localhost names this machine"),
    ("http://LOCALHOST:8080/", "localhost names this machine"),
    ("http://localhost./", "names this machine"),
    ("http://mirror.localhost/", "mirror.localhost names this machine"),
    ("https://127.0.0.1/", "loopback"),
    ("ftp://10.0.0.1/pub/", "private"),
    ("rsync://192.168.1.1/ubuntu/", "private"),
])
def test_registration_refuses_internal_hosts(url, reason):
    """With a policy (registration), a host the prober would refuse is
    refused, the one-line message naming the URL, why, and the setting."""
    scheme = url.split(":", 1)[0]
    assert_rejected(url, scheme, reason, DEFAULT)
    with pytest.raises(InvalidURLError, match=r"\[prober\] allowed_networks"):
        normalise_base_url(url, scheme, DEFAULT)


@pytest.mark.parametrize("host, address", [
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("0x7f.0x0.0x0.0x1", "127.0.0.1"),
    ("017700000001", "127.0.0.1"),
    ("127.000.000.001", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("2852039166", "169.254.169.254"),
    ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
    ("0xa9fea9fe", "169.254.169.254"),
    ("169.16689662", "169.254.169.254"),
    ("134744072", "8.8.8.8"),
    ("0x08080808", "8.8.8.8"),
])
def test_numeric_spellings_refused(host, address):
    """A host that getaddrinfo would read as an IPv4 address without it
    being the dotted quad is refused, naming the address it spells, with
    a policy or without one, even when the address is global."""
    url = "http://%s/ubuntu/" % (host,)
    for policy in (None, DEFAULT):
        assert_rejected(url, "http", "numeric spelling of the IPv4 address "
                        + address, policy)


@pytest.mark.parametrize("host", [
    "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "0x7f.0x0.0x0.0x1",
])
def test_numeric_spelling_inside_allowed_networks(host):
    """Inside allowed_networks a numeric spelling is taken, in its
    dotted-quad form, so one address has one URL."""
    assert normalise_base_url("http://%s:8080/u" % (host,), "http",
                              LOOPBACK) == "http://127.0.0.1:8080/u/"


@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:8080/ubuntu", "http://127.0.0.1:8080/ubuntu/"),
    ("http://127.9.9.9/", "http://127.9.9.9/"),
    ("http://[::1]:8080/", "http://[::1]:8080/"),
    ("http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
    ("http://localhost:8080/ubuntu", "http://localhost:8080/ubuntu/"),
    ("http://mirror.localhost/", "http://mirror.localhost/"),
])
def test_registration_inside_allowed_networks(url, expected):
    """Addresses inside allowed_networks, and localhost when loopback is
    allowed, are taken."""
    assert normalise_base_url(url, "http", LOOPBACK) == expected


@pytest.mark.parametrize("networks, url", [
    (["10.0.0.0/8"], "http://10.1.2.3/ubuntu/"),
    (["169.254.169.254/32"], "http://169.254.169.254/"),
    (["fd00::/8"], "http://[fd00::1]/"),
    (["10.0.0.0/8"], "http://[::ffff:10.1.2.3]/"),
])
def test_registration_allowed_networks_override(networks, url):
    normalise_base_url(url, "http", AddressPolicy(networks))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://10.0.0.1/", "http://[fd00::1]/",
    "http://localhost/", "http://[2002:a9fe:a9fe::]/",
])
def test_registration_only_named_networks(url):
    """allowed_networks opens only what it names."""
    policy = AddressPolicy(["169.254.169.0/24"])
    if url == "http://[2002:a9fe:a9fe::]/":
        normalise_base_url(url, "http", policy)
        return
    with pytest.raises(InvalidURLError):
        normalise_base_url(url, "http", policy)


@pytest.mark.parametrize("url", [
    "http://mirror.example.org/ubuntu/", "http://91.189.91.38/ubuntu/",
    "http://[2620:2d:4000:1::16]/ubuntu/", "https://localhost.example.org/",
    "http://mylocalhost/", "http://0x7f000001.example.org/",
    "http://1.2.3.4.example.org/",
])
def test_registration_takes_global_hosts_and_names(url):
    """Global addresses and host names (other than localhost) are taken:
    where a name leads is the prober's to judge, each run."""
    assert normalise_base_url(url, "http" if url.startswith("http:") else
                              "https", DEFAULT) == url


def test_without_policy_only_the_form_is_checked():
    """The model normalises stored URLs without a policy: addresses are
    not judged there."""
    assert normalise_base_url("http://127.0.0.1:8080/", "http") == \
        "http://127.0.0.1:8080/"
    assert normalise_base_url("http://localhost/", "http") == \
        "http://localhost/"


@pytest.mark.parametrize("url, reason", [
    ("http://example.org:http/", "Port could not be cast"),
    ("http://example.org:99999/", "Port out of range"),
    ("http://example.org:-1/", "invalid URL"),
    ("http://example.org:0/", "port"),
])
def test_malformed_port_rejected(url, reason):
    """A port that is not a number from 1 to 65535 is rejected, naming the
    URL."""
    assert_rejected(url, "http", reason)


@pytest.mark.parametrize("url, scheme", [
    ("ftp://example.org/ubuntu", "http"),
    ("http://example.org/ubuntu", "https"),
    ("https://example.org/ubuntu", "ftp"),
    ("http://example.org/ubuntu", "rsync"),
    ("example.org/ubuntu", "http"),
    ("//example.org/ubuntu", "http"),
])
def test_wrong_scheme_rejected(url, scheme):
    """A URL of another scheme, or of none, is rejected, saying which scheme
    it must have."""
    assert_rejected(url, scheme, "it must start with %s://" % scheme)


@pytest.mark.parametrize("url", [
    "http:///ubuntu",
    "http://exa_mple.org/",
    "http://-example.org/",
    "http://example..org/",
    "http://b\u00fccher.example/",
    "http://300.1.2.3/ubuntu",
    "http://192.0.2/ubuntu",
])
def test_bad_host_rejected(url):
    """A URL without a valid host name or IP address is rejected, naming
    the URL."""
    assert_rejected(url, "http", "no valid host name")


def test_unbalanced_ipv6_bracket_rejected():
    """A malformed IPv6 literal is rejected, naming the URL."""
    assert_rejected("http://[2001:db8::1/ubuntu", "http", "Invalid IPv6")


def test_empty_url_rejected():
    """An empty or missing URL is rejected."""
    for url in ("", None, "   "):
        with pytest.raises(InvalidURLError, match="it must start with"):
            normalise_base_url(url, "http")


# valid_name

@pytest.mark.parametrize("name, expected", [
    ("ubuntu", "ubuntu"), ("foo.bar", "foo.bar"), ("a+b-c", "a+b-c"),
    ("0day", "0day"), ("  mirror-1 ", "mirror-1"),
])
def test_valid_name(name, expected):
    """Lower-case letters, digits, '.', '+' and '-' make a name; the
    surrounding space is dropped."""
    assert valid_name(name) == expected


@pytest.mark.parametrize("name", [
    "Ubuntu", "-foo", ".foo", "foo bar", "foo_bar", "", None, "caf\u00e9",
])
def test_invalid_name(name):
    """Anything else is an InvalidValueError naming the value."""
    with pytest.raises(InvalidValueError) as caught:
        valid_name(name)
    assert "invalid name %r" % ((name or "").strip(),) in str(caught.value)


# valid_email

@pytest.mark.parametrize("email, expected", [
    ("mark@example.com", "mark@example.com"),
    (" Mark.Shuttleworth@Example.COM ", "mark.shuttleworth@example.com"),
    ("foo+bar@mail.example.org", "foo+bar@mail.example.org"),
])
def test_valid_email(email, expected):
    """An address is kept lower-cased and stripped."""
    assert valid_email(email) == expected


@pytest.mark.parametrize("email", [
    "mark", "mark@localhost", "@example.com", "mark@", "a b@example.com",
    "a@@example.com", "<a@example.com>", "", None,
])
def test_invalid_email(email):
    """A value that is not one address is an InvalidValueError naming it."""
    with pytest.raises(InvalidValueError, match="invalid email address"):
        valid_email(email)


# valid_netblock

@pytest.mark.parametrize("text, expected", [
    ("192.0.2.0/24", "192.0.2.0/24"),
    ("192.0.2.77/24", "192.0.2.0/24"),
    (" 10.0.0.0/8 ", "10.0.0.0/8"),
    ("192.0.2.1", "192.0.2.1/32"),
    ("2001:DB8::/32", "2001:db8::/32"),
    ("2001:db8:0:0::1/48", "2001:db8::/48"),
])
def test_valid_netblock(text, expected):
    """A netblock is kept as its network in CIDR form."""
    assert valid_netblock(text) == expected


@pytest.mark.parametrize("text", [
    "192.0.2.0/33", "192.0.2/24", "300.0.0.0/8", "example.org", "",
    "2001:db8::/129",
])
def test_invalid_netblock(text):
    """Anything else is an InvalidValueError naming the value."""
    with pytest.raises(InvalidValueError) as caught:
        valid_netblock(text)
    assert str(caught.value) == "invalid netblock %r" % (text,)


# valid_address

@pytest.mark.parametrize("text, expected", [
    ("192.0.2.1", "192.0.2.1"),
    (" 2001:DB8::0:1 ", "2001:db8::1"),
    ("Rsync.Example.ORG", "rsync.example.org"),
    ("mirror-1.example.org", "mirror-1.example.org"),
])
def test_valid_address(text, expected):
    """An IP address in its normal form, or a host name lower-cased."""
    assert valid_address(text) == expected


@pytest.mark.parametrize("text", [
    "bad host", "", "exa_mple.org", "192.0.2.1/24", "300.1.2.3", "192.0.2",
    "-example.org",
])
def test_invalid_address(text):
    """Anything else is an InvalidValueError naming the value."""
    with pytest.raises(InvalidValueError) as caught:
        valid_address(text)
    assert str(caught.value) == "invalid address %r" % (text.strip(),)
