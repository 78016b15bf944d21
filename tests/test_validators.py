"""Checks and normal forms of what people type: names, email addresses,
base URLs, netblocks and addresses."""

import pytest

from mirrorkeeper.errors import (
    InvalidURLError, InvalidValueError, MirrorKeeperError)
from mirrorkeeper.validators import (
    normalise_base_url, valid_address, valid_email, valid_name,
    valid_netblock)


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


def assert_rejected(url, scheme, reason):
    with pytest.raises(InvalidURLError) as caught:
        normalise_base_url(url, scheme)
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
    "http://example.org/ubuntu\t/",
    "http://example.org/ub\nuntu",
])
def test_space_rejected(url):
    """A URL with whitespace inside it is rejected, naming the URL."""
    assert_rejected(url, "http", "spaces")


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
