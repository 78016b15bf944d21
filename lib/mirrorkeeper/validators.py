"""Checks and normal forms for what people type: names, addresses, URLs,
and the free text of display names, descriptions and whiteboards.

Each function returns the value in its normal form or raises an error from
mirrorkeeper.errors whose message names the value and what is wrong with it,
and whose `field` names the field (as the forms and the command line name
it; the caller may say which field the value is), so that no caller reads
the message to know where it belongs.  The web forms, the
command line and the model all check through these, so that each limit is
stated once, here, and shown in the forms from here.
"""

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

from mirrorkeeper.errors import InvalidURLError, InvalidValueError

# Browsers, proxies and servers commonly stop at 2,000 or so; a real
# mirror URL is a fraction of it.
MAX_URL_LENGTH = 2048

_NAME = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


# The longest text each field takes, in characters.  A display name is a
# line in a listing, a description a paragraph, a whiteboard the notes of
# a few reviews; names are in URLs.  Beyond these a value is no longer
# what the field is for, and one person's value would be everybody's page.
TEXT_LIMITS = {
    "name": 64,
    "display_name": 100,
    "title": 100,
    "description": 2000,
    "whiteboard": 4000,
    "pulse_source": MAX_URL_LENGTH,
    "login": 254,
}

# The first path segments of the web site's own pages (web.app.ROUTES):
# no distribution may be called so, or its pages would be those.  Names
# starting with '+' are no valid names anyway.
RESERVED_DISTRIBUTION_NAMES = frozenset((
    "api", "metrics", "robots.txt", "favicon.ico", "static"))

# Fields that may hold several lines: a textarea's newlines (a browser
# sends CR LF) and tabs are text there, and nowhere else.
MULTILINE_FIELDS = frozenset(("description", "whiteboard"))
_LINE_BREAKS = frozenset("\r\n\t")


def _bad_character(text, multiline):
    """The first character of `text` no field takes, or None: a control
    character (C0, DEL, C1) other than a multi-line field's line breaks
    and tabs; a lone surrogate (what a byte of invalid UTF-8 decodes to
    under 'surrogateescape'); U+FFFE and U+FFFF, which XML refuses."""
    for character in text:
        category = unicodedata.category(character)
        if category == "Cc":
            if multiline and character in _LINE_BREAKS:
                continue
            return character
        if category == "Cs" or character in "\ufffe\uffff":
            return character
    return None


def valid_text(value, field, limit=None, multiline=None):
    """`value` (str, or bytes that must be UTF-8) stripped of surrounding
    white space, or None if nothing is left.  InvalidValueError, on
    `field`, for invalid UTF-8, a control character (line breaks and tabs
    are allowed in MULTILINE_FIELDS, or where `multiline` says so), or
    more than `limit` characters (default: TEXT_LIMITS[field], if any)."""
    if value is None:
        return None
    label = field.replace("_", " ")
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidValueError("the %s is not valid UTF-8 text"
                                    % (label,), field) from None
    if not isinstance(value, str):
        raise InvalidValueError("the %s must be text, not %s"
                                % (label, type(value).__name__), field)
    if multiline is None:
        multiline = field in MULTILINE_FIELDS
    bad = _bad_character(value, multiline)
    if bad is not None:
        if unicodedata.category(bad) == "Cs":
            raise InvalidValueError("the %s is not valid UTF-8 text"
                                    % (label,), field)
        raise InvalidValueError(
            "the %s contains the control character U+%04X: only printable "
            "text is taken" % (label, ord(bad)), field)
    limit = TEXT_LIMITS.get(field) if limit is None else limit
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise InvalidValueError(
            "the %s has %d characters: at most %d are taken"
            % (label, len(value), limit), field)
    return value or None


# 10 Tbps: more than any one mirror's uplink, and far inside a 64-bit
# column.
MAX_BANDWIDTH_MBPS = 10_000_000

_WHOLE_NUMBER = re.compile(r"^[0-9]{1,19}$")


def valid_whole_number(text, field, low, high, unit=""):
    """The whole number `text` spells in ASCII decimal digits, from `low`
    to `high`; InvalidValueError on `field` for anything else ('²', '1e3',
    a number past `high`), read without converting 5,000 digits."""
    text = (text or "").strip()
    label = field.replace("_", " ")
    unit = " " + unit if unit else ""
    if not _WHOLE_NUMBER.match(text) or not low <= int(text) <= high:
        raise InvalidValueError(
            "invalid %s %s: give a whole number from %d to %d%s"
            % (label, _shown(text, 30), low, high, unit), field)
    return int(text)


# An AS number is 32 bits (RFC 6793); AS 0 is no network's (RFC 7607).
MAX_ASN = 2 ** 32 - 1

# The whole numbers a mirror takes: {field: (what messages call it,
# lowest, highest, unit)}.  The forms state the bounds from here.
MIRROR_NUMBERS = {
    "bandwidth_mbps": ("bandwidth", 1, MAX_BANDWIDTH_MBPS, "Mbps"),
    "asn": ("ASN", 1, MAX_ASN, ""),
}


def valid_mirror_number(value, field):
    """`value` of the mirror's number `field` (a key of MIRROR_NUMBERS):
    an int, or text of ASCII decimal digits, within the field's bounds;
    None for None or blank text.  InvalidValueError on `field` for
    anything else (a bool, '1e3', '²', a number out of bounds)."""
    label, low, high, unit = MIRROR_NUMBERS[field]
    if value is None:
        return None
    number = None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _WHOLE_NUMBER.match(text):
            number = int(text)
        shown = _shown(text, 30)
    elif isinstance(value, int) and not isinstance(value, bool):
        number, shown = value, "%d" % (value,)
    else:
        shown = repr(value)
    if number is None or not low <= number <= high:
        raise InvalidValueError(
            "invalid %s %s: give a whole number from %d to %d%s"
            % (label, shown, low, high, " " + unit if unit else ""), field)
    return number


# What valid_mirror_fields reads of a mirror, besides its numbers.
MIRROR_TEXTS = ("display_name", "description", "pulse_source", "whiteboard")
MIRROR_URLS = ("http_base_url", "https_base_url", "ftp_base_url",
               "rsync_base_url")
NO_URL = "a mirror needs at least one URL: http, https, ftp or rsync"


def valid_mirror_fields(fields, policy=None):
    """`fields` ({field: value}) of a mirror being registered or edited,
    each in its normal form: the one check of a mirror's own values, made
    for the web's forms and the command line alike.

    'name' must be a valid name; the texts of MIRROR_TEXTS go through
    valid_text; the URLs of MIRROR_URLS through normalise_base_url with
    `policy` (see there), blank ones becoming None; the numbers of
    MIRROR_NUMBERS through valid_mirror_number.  The URLs, when given,
    are given together, and one at least is needed (a mirror may offer
    rsync only).
    Other fields (choices the caller has read) pass as they are.  The
    first value at fault raises its error, on its field."""
    result = dict(fields)
    for field, value in fields.items():
        if field == "name":
            if not (value or "").strip():
                raise InvalidValueError("give the mirror a name", "name")
            result[field] = valid_name(value)
        elif field in MIRROR_TEXTS:
            result[field] = valid_text(value, field)
        elif field in MIRROR_URLS:
            result[field] = normalise_base_url(
                value, field.split("_", 1)[0], policy) \
                if (value or "").strip() else None
        elif field in MIRROR_NUMBERS:
            result[field] = valid_mirror_number(value, field)
    if any(field in fields for field in MIRROR_URLS) and not any(
            result.get(field) for field in MIRROR_URLS):
        raise InvalidValueError(NO_URL, "https_base_url")
    return result


def valid_name(name, field="name"):
    """A short name: lower-case letters, digits, '.', '+', '-', at most
    TEXT_LIMITS['name'] characters."""
    name = valid_text(name, field, TEXT_LIMITS["name"]) or ""
    if not _NAME.match(name):
        raise InvalidValueError(
            "invalid name %r: use lower-case letters, digits, '.', '+' and "
            "'-', starting with a letter or digit" % (name,), field)
    return name


def valid_email(email, field="email"):
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise InvalidValueError("invalid email address %r" % (email,),
                                field)
    return email


def normalise_base_url(url, scheme, policy=None):
    """See _normalise_base_url; an InvalidURLError it raises names the
    field '<scheme>_base_url'."""
    try:
        return _normalise_base_url(url, scheme, policy)
    except InvalidURLError as error:
        if error.field is None:
            error.field = "%s_base_url" % (scheme,)
        raise


def _normalise_base_url(url, scheme, policy=None):
    """`url` as a mirror's base URL of `scheme` ('http', 'https', 'ftp' or
    'rsync'): scheme and host lower-cased, default port dropped, no query or
    fragment, a trailing slash.  No URL over MAX_URL_LENGTH characters or
    with a control character anywhere, and no numeric spelling of an IPv4
    address other than the dotted quad (2130706433, 0x7f000001, 0177.0.0.1,
    127.1), is taken.

    `policy`, a mirrorkeeper.addresspolicy.AddressPolicy, is given where a
    person registers or edits a mirror (the caller builds it from
    ``[prober] allowed_networks``): the host must then not be an address
    that is not global, nor 'localhost' or a name under '.localhost',
    unless the policy allows the address; a numeric spelling of an address
    inside its allowed networks is taken, in its dotted-quad form.  Without
    a policy, only the URL's form is checked."""
    raw = url or ""
    text = raw.strip()
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURLError(
            "invalid URL %s: it is %d characters long, more than the %d a "
            "mirror URL may have" % (_shown(text), len(text), MAX_URL_LENGTH))
    control = next((c for c in raw if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        raise InvalidURLError(
            "invalid URL %s: it contains the control character U+%04X"
            % (_shown(text), ord(control)))
    if any(unicodedata.category(c) == "Cs" for c in raw):
        raise InvalidURLError("invalid URL %s: it is not valid UTF-8 text"
                              % (_shown(text),))
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
    numeric = _numeric_ipv4(host)
    if numeric is not None:
        if policy is None or not policy.in_allowed_networks(numeric):
            raise InvalidURLError(
                "invalid URL %r: no valid host name: %s is a numeric "
                "spelling of the IPv4 address %s%s; write an address as "
                "four decimal numbers" % (
                    text, host, numeric, _reason_suffix(numeric)))
        host = str(numeric)
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
    if policy is not None:
        _check_reachable(text, host, policy)
    netloc = "[%s]" % host if ":" in host else host
    default_port = {"http": 80, "https": 443, "ftp": 21, "rsync": 873}
    if port is not None and port != default_port[scheme]:
        netloc += ":%d" % port
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def _shown(text, limit=100):
    """`text` quoted for a one-line message, cut short if long."""
    if len(text) > limit:
        return "%r..." % (text[:limit],)
    return repr(text)


# What glibc's inet_aton reads as one part of an IPv4 address: decimal,
# octal after a leading 0, or hexadecimal after 0x.
_INET_ATON_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def _numeric_ipv4(host):
    """The IPv4Address that getaddrinfo (inet_aton) would read `host` as,
    when `host` is not the canonical dotted quad; else None."""
    try:
        ipaddress.IPv4Address(host)
        return None
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or \
            not all(_INET_ATON_PART.match(part) for part in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        else:
            values.append(int(part, 8 if part.startswith("0") else 10))
    # a, a.b, a.b.c, a.b.c.d: the last part fills the bytes left.
    last_bits = 8 * (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    address = 0
    for value in values[:-1]:
        address = address << 8 | value
    address = address << last_bits | values[-1]
    return ipaddress.IPv4Address(address)


def _reason_suffix(address):
    from mirrorkeeper.addresspolicy import non_global_reason
    reason = non_global_reason(address)
    if reason is None:
        return ""
    return ", which is %s" % (reason.split(" is ", 1)[1],)


def _is_localhost(host):
    host = host.rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def _check_reachable(text, host, policy):
    """Refuse `host` of the URL `text` where `policy` would not let the
    prober go: an address it refuses, or a loopback name (RFC 6761)."""
    try:
        refusal = policy.refusal(host)
    except ValueError:
        if not _is_localhost(host):
            return
        if policy.allows("127.0.0.1") or policy.allows("::1"):
            return
        refusal = "%s names this machine (a loopback address)" % (host,)
    if refusal is not None:
        raise InvalidURLError(
            "invalid URL %r: %s; mirrors must be at global addresses, or "
            "in the networks of [prober] allowed_networks" % (text, refusal))


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


def valid_netblock(text, field="netblocks"):
    """A CIDR netblock in its normal form, e.g. '192.0.2.0/24'."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise InvalidValueError("invalid netblock %r" % (text,),
                                field) from None


def valid_address(text, field="acl_addresses"):
    """An IP address or a host name, as given (rsync ACL entries)."""
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        if _valid_host(text.lower()):
            return text.lower()
    raise InvalidValueError("invalid address %r" % (text,), field)
