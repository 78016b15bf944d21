"""Checks and normal forms for what people type: names, addresses, URLs.

Each function returns the value in its normal form or raises an error from
mirrorkeeper.errors whose message names the value and what is wrong with it.
"""

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from mirrorkeeper.errors import InvalidURLError, InvalidValueError

_NAME = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def valid_name(name):
    """A short name: lower-case letters, digits, '.', '+', '-'."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise InvalidValueError(
            "invalid name %r: use lower-case letters, digits, '.', '+' and "
            "'-', starting with a letter or digit" % (name,))
    return name


def valid_email(email):
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise InvalidValueError("invalid email address %r" % (email,))
    return email


def normalise_base_url(url, scheme):
    """`url` as a mirror's base URL of `scheme` ('http', 'https', 'ftp' or
    'rsync'): scheme and host lower-cased, default port dropped, no query or
    fragment, a trailing slash."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise InvalidURLError("invalid URL %r: %s" % (text, error)) from None
    if parts.scheme.lower() != scheme:
        raise InvalidURLError(
            "invalid %s URL %r: it must start with %s://"
            % (scheme, text, scheme))
    host = (parts.hostname or "").lower()
    if not host or not _valid_host(host):
        raise InvalidURLError("invalid URL %r: no valid host name" % (text,))
    if parts.username is not None or parts.password is not None:
        raise InvalidURLError(
            "invalid URL %r: a mirror URL carries no user or password"
            % (text,))
    if parts.query or parts.fragment:
        raise InvalidURLError(
            "invalid URL %r: a base URL has no query or fragment" % (text,))
    if any(c.isspace() for c in text):
        raise InvalidURLError("invalid URL %r: it contains spaces" % (text,))
    if port == 0:
        raise InvalidURLError("invalid URL %r: port 0 is not a port a "
                              "mirror can serve on" % (text,))
    host = _normal_host(host)
    netloc = "[%s]" % host if ":" in host else host
    default_port = {"http": 80, "https": 443, "ftp": 21, "rsync": 873}
    if port is not None and port != default_port[scheme]:
        netloc += ":%d" % port
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def _valid_host(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    # An all-numeric last label is no host name but a malformed IPv4
    # address ('192.0.2', '300.1.2.3'), as RFC 3696 says of top-level
    # domains.
    return all(_HOSTNAME_LABEL.match(label) for label in labels) and \
        not labels[-1].isdigit()


def _normal_host(host):
    """An IP address in its one normal form (IPv6 compressed), so that two
    spellings of one address are one URL; a host name as it is."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def valid_netblock(text):
    """A CIDR netblock in its normal form, e.g. '192.0.2.0/24'."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise InvalidValueError("invalid netblock %r" % (text,)) from None


def valid_address(text):
    """An IP address or a host name, as given (rsync ACL entries)."""
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        if _valid_host(text.lower()):
            return text.lower()
    raise InvalidValueError("invalid address %r" % (text,))
