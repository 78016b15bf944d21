"""What the mirror list daemon answers, as bytes: pure functions from the
chosen mirrors to apt's list, dnf's mirrorlist, metalinks (3.0 as dnf and
librepo read it, 4 as RFC 5854 defines it) and RFC 6249 Link headers."""

import time
from email.utils import formatdate

from lxml import etree

METALINK3_NS = "http://www.metalinker.org/"
MM0_NS = "http://fedorahosted.org/mirrormanager"
METALINK4_NS = "urn:ietf:params:xml:ns:metalink"
METALINK3_TYPE = "application/metalink+xml"
METALINK4_TYPE = "application/metalink4+xml"
TEXT_TYPE = "text/plain; charset=utf-8"

# The hashes each metalink carries, strongest last, as (metalink 3 name,
# metalink 4 name (IANA's), snapshot key).
_HASHES = [("md5", "md5", "md5"), ("sha1", "sha-1", "sha1"),
           ("sha256", "sha-256", "sha256"), ("sha512", "sha-512", "sha512")]

# Metalink 3 wants a preference from 100 (best) down; metalink 4 a
# priority from 1 (best) up.
TOP_PREFERENCE = 100


def join(base, path):
    """`path` under a mirror's base URL."""
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


def url_list(choices):
    """apt's mirror list (what apt's mirror+http:// method and Ubuntu's
    mirrors.txt use): one base URL per line."""
    return "".join(choice.url + "\n" for choice in choices).encode("utf-8")


def mirrorlist(choices, repository, country, continent, serial):
    """dnf's mirrorlist: a comment header saying what was asked and by
    whom, then one repository URL per line (the directory holding
    repodata/)."""
    lines = ["# repo = %s arch = %s country = %s continent = %s "
             "snapshot = %s" % (repository["name"], repository["arch"],
                                country or "unknown", continent or "unknown",
                                serial)]
    if not choices:
        lines.append("# no mirror carries this repository at present")
    path = repository["path"]
    if path:
        # join(choice.url, path) + "/", in one concatenation a line.
        tail = "/" + path.lstrip("/") + "/"
        lines += [choice.url.rstrip("/") + tail for choice in choices]
    else:
        lines += [choice.url + "/" for choice in choices]
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def _protocol(url):
    return url.split(":", 1)[0]


def metalink3(file_name, versions, urls, now=None):
    """A Metalink 3.0 document, as MirrorManager writes it for dnf: the
    file's newest version (timestamp, size, hashes), older versions as
    mm0:alternates (dnf accepts a mirror whose copy matches one), then
    `urls` [(url, country)] with falling preferences.

    The same bytes as metalink3_lxml() builds, faster: lxml writes the
    document around the URLs once per file version list and second
    (pubdate), and each request only adds its <url> lines."""
    if not urls:
        return metalink3_lxml(file_name, versions, urls, now)
    pubdate = formatdate(now or time.time(), usegmt=True)
    frame = _METALINK3_FRAMES.get((file_name, id(versions)))
    if frame is None or frame[0] is not versions or frame[1] != pubdate:
        frame = _metalink3_frame(file_name, versions, pubdate)
    head, indent, tail = frame[2:]
    parts = [head]
    for rank, (url, country) in enumerate(urls):
        escaped = _ESCAPED_URLS.get(url)
        if escaped is None:
            escaped = _escape_url(url)
        protocol, text = escaped
        preference = max(1, TOP_PREFERENCE - rank)
        if country:
            parts.append('%s<url protocol="%s" type="%s" preference="%d" '
                         'location="%s">%s</url>\n' % (
                             indent, protocol, protocol, preference,
                             _escape_attribute(country), text))
        else:
            parts.append('%s<url protocol="%s" type="%s" preference="%d">'
                         '%s</url>\n' % (indent, protocol, protocol,
                                          preference, text))
    parts.append(tail)
    return "".join(parts).encode("utf-8")


# {(file name, id of its version list): (that list, pubdate, head, the
# <url> lines' indentation, tail)}, and {url: (protocol, text) escaped for
# XML}: bounded, emptied when full.
_METALINK3_FRAMES = {}
_ESCAPED_URLS = {}
_MAX_FRAMES = 4096
_MAX_ESCAPED_URLS = 100000
_PLACEHOLDER = "http://placeholder.invalid/"


def _metalink3_frame(file_name, versions, pubdate):
    """lxml's document with one placeholder URL, cut around its line."""
    document = metalink3_lxml(file_name, versions, [(_PLACEHOLDER, None)],
                              pubdate=pubdate).decode("utf-8")
    end = document.index("%s</url>\n" % _PLACEHOLDER) + \
        len(_PLACEHOLDER) + len("</url>\n")
    start = document.rindex("\n", 0, end - 1) + 1
    line = document[start:end]
    indent = line[:len(line) - len(line.lstrip(" "))]
    frame = (versions, pubdate, document[:start], indent, document[end:])
    if len(_METALINK3_FRAMES) >= _MAX_FRAMES:
        _METALINK3_FRAMES.clear()
    _METALINK3_FRAMES[(file_name, id(versions))] = frame
    return frame


def _escape_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(text):
    return _escape_text(text).replace('"', "&quot;").replace(
        "\n", "&#10;").replace("\t", "&#9;")


def _escape_url(url):
    """(protocol attribute, element text) of `url` as lxml writes them;
    ValueError, as lxml's, for a URL XML cannot carry."""
    if any(ord(c) < 32 and c not in "\t\n\r" for c in url) or \
            "\ufffe" in url or "\uffff" in url:
        raise ValueError("All strings must be XML compatible: %r" % (url,))
    escaped = (_escape_attribute(_protocol(url)), _escape_text(url))
    if len(_ESCAPED_URLS) >= _MAX_ESCAPED_URLS:
        _ESCAPED_URLS.clear()
    _ESCAPED_URLS[url] = escaped
    return escaped


def metalink3_lxml(file_name, versions, urls, now=None, pubdate=None):
    """metalink3(), built element by element with lxml (`pubdate`, an RFC
    2822 date, instead of `now` if given)."""
    M, MM = "{%s}" % METALINK3_NS, "{%s}" % MM0_NS
    root = etree.Element(M + "metalink", nsmap={None: METALINK3_NS,
                                                "mm0": MM0_NS})
    root.set("version", "3.0")
    root.set("type", "dynamic")
    root.set("pubdate", pubdate or formatdate(now or time.time(),
                                              usegmt=True))
    root.set("generator", "mirrorkeeper")
    element = etree.SubElement(etree.SubElement(root, M + "files"),
                               M + "file", name=file_name)

    def describe(parent, details):
        etree.SubElement(parent, MM + "timestamp").text = str(
            details["timestamp"])
        etree.SubElement(parent, M + "size").text = str(details["size"])
        verification = etree.SubElement(parent, M + "verification")
        for name, _, key in _HASHES:
            if details.get(key):
                etree.SubElement(verification, M + "hash",
                                 type=name).text = details[key]

    if versions:
        describe(element, versions[0])
    if len(versions) > 1:
        alternates = etree.SubElement(element, MM + "alternates")
        for details in versions[1:]:
            describe(etree.SubElement(alternates, MM + "alternate"), details)
    resources = etree.SubElement(element, M + "resources",
                                 maxconnections="1")
    for rank, (url, country) in enumerate(urls):
        protocol = _protocol(url)
        attributes = {"protocol": protocol, "type": protocol,
                      "preference": str(max(1, TOP_PREFERENCE - rank))}
        if country:
            attributes["location"] = country
        etree.SubElement(resources, M + "url", **attributes).text = url
    return etree.tostring(root, xml_declaration=True, encoding="utf-8",
                          pretty_print=True)


def metalink4(file_name, versions, urls, now=None):
    """A Metalink 4 document (RFC 5854) of the file's newest version, with
    `urls` [(url, country)] at priorities 1, 2, ...  (Metalink 4 has no
    alternates: a client verifies against the newest version only.)"""
    M = "{%s}" % METALINK4_NS
    root = etree.Element(M + "metalink", nsmap={None: METALINK4_NS})
    etree.SubElement(root, M + "generator").text = "mirrorkeeper"
    etree.SubElement(root, M + "published").text = time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now or time.time()))
    element = etree.SubElement(root, M + "file", name=file_name)
    if versions:
        newest = versions[0]
        etree.SubElement(element, M + "size").text = str(newest["size"])
        for _, name, key in _HASHES:
            if newest.get(key):
                etree.SubElement(element, M + "hash",
                                 type=name).text = newest[key]
    for rank, (url, country) in enumerate(urls):
        attributes = {"priority": str(rank + 1)}
        if country:
            attributes["location"] = country.lower()
        etree.SubElement(element, M + "url", **attributes).text = url
    return etree.tostring(root, xml_declaration=True, encoding="utf-8",
                          pretty_print=True)


def link_headers(urls):
    """RFC 6249 Link header values for the mirrors after the first:
    '<url>; rel=duplicate; pri=N; geo=cc'."""
    values = []
    for rank, (url, country) in enumerate(urls):
        value = "<%s>; rel=duplicate; pri=%d" % (url, rank + 1)
        if country:
            value += "; geo=%s" % (country.lower(),)
        values.append(value)
    return values
