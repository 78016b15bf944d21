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


def url_list(choices, preferred=(), root=""):
    """apt's mirror list (what apt's mirror+http:// method and Ubuntu's
    mirrors.txt use): one base URL per line, with `root` (the root of the
    series asked for, holding its dists/ and pool/) under it.  The
    `preferred` Choices (some of `choices`) come first, each marked
    priority:1, which apt's mirror method (apt 1.6 and later) tries
    before the unmarked ones."""
    def url(choice):
        return join(choice.url, root) if root else choice.url

    if not preferred:
        return "".join(url(choice) + "\n" for choice in choices).encode(
            "utf-8")
    first = set(map(id, preferred))
    return "".join(
        [url(choice) + "\tpriority:1\n" for choice in preferred] +
        [url(choice) + "\n" for choice in choices
         if id(choice) not in first]).encode("utf-8")


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


def metalink(version, file_name, versions, urls, now=None):
    """The one metalink writer: a document of `version` 3 (Metalink 3.0
    as MirrorManager writes it for dnf and librepo) or 4 (RFC 5854, what
    aria2c and other download managers read best) for `file_name`, whose
    master versions are `versions` (newest first: dicts of "size" and the
    hashes "md5", "sha1", "sha256", "sha512" it has, and "timestamp"
    when known), offered at `urls` [(url, country or None)], best first.

    Metalink 3 gives the newest version's timestamp, size and hashes,
    older versions as mm0:alternates (dnf accepts a mirror whose copy
    matches one) and the URLs at preferences falling from 100; Metalink
    4 has no alternates, so a client verifies against the newest version
    only, and gives the URLs at priorities 1, 2, ...

    The same bytes as metalink_document() builds, faster: lxml writes the
    document around the URLs once per file version list, version and
    second (the publication date), and each request only adds its <url>
    lines.  ValueError, as lxml's, for a URL XML cannot carry."""
    if not urls:
        return metalink_document(version, file_name, versions, urls, now)
    return metalink_around(version, file_name, versions,
                           url_lines(version, urls), now)


def metalink_around(version, file_name, versions, lines, now=None):
    """metalink() of the <url> lines `lines` that url_lines() wrote (for a
    caller that keeps them); at least one line."""
    date = _published(version, now)
    frame = _FRAMES.get((version, file_name, id(versions)))
    if frame is None or frame[0] is not versions or frame[1] != date:
        frame = _frame(version, file_name, versions, date)
    head, _, tail = frame[2:]
    return b"".join((head, lines, tail))


def url_lines(version, urls):
    """The <url> lines of a metalink of `version` offering `urls` [(url,
    country or None)], best first, as lxml writes them, UTF-8 encoded;
    ValueError for a URL XML cannot carry."""
    indent = _INDENTS.get(version)
    if indent is None:
        indent = _INDENTS[version] = _frame(version, "", (), "")[3]
    line = _URL_LINES[version]
    parts = []
    for rank, (url, country) in enumerate(urls):
        escaped = _ESCAPED_URLS.get(url)
        if escaped is None:
            escaped = _escape_url(url)
        parts.append(line(indent, rank, escaped, country))
    return "".join(parts).encode("utf-8")


def _url_line3(indent, rank, escaped, country):
    protocol, text = escaped
    preference = max(1, TOP_PREFERENCE - rank)
    if country:
        return ('%s<url protocol="%s" type="%s" preference="%d" '
                'location="%s">%s</url>\n' % (
                    indent, protocol, protocol, preference,
                    _escape_attribute(country), text))
    return ('%s<url protocol="%s" type="%s" preference="%d">%s</url>\n'
            % (indent, protocol, protocol, preference, text))


def _url_line4(indent, rank, escaped, country):
    if country:
        return '%s<url priority="%d" location="%s">%s</url>\n' % (
            indent, rank + 1, _escape_attribute(country.lower()),
            escaped[1])
    return '%s<url priority="%d">%s</url>\n' % (indent, rank + 1,
                                                escaped[1])


# One <url> line of a metalink, by version, as lxml writes it.
_URL_LINES = {3: _url_line3, 4: _url_line4}


def _published(version, now):
    """A document's publication date, in its version's format: RFC 2822
    for Metalink 3's pubdate, RFC 3339 for Metalink 4's <published>
    (written once a second)."""
    second = int(now or time.time())
    found = _DATES.get(version)
    if found is not None and found[0] == second:
        return found[1]
    if version == 3:
        date = formatdate(second, usegmt=True)
    else:
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _DATES[version] = (second, date)
    return date


# {version: (the second, its publication date)}.
_DATES = {}


# {(version, file name, id of its version list): (that list, publication
# date, head, the <url> lines' indentation, tail)}, and {url: (protocol,
# text) escaped for XML}: bounded, emptied when full.
_FRAMES = {}
_ESCAPED_URLS = {}
# {version: the indentation of its <url> lines}.
_INDENTS = {}
_MAX_FRAMES = 4096
_MAX_ESCAPED_URLS = 100000
_PLACEHOLDER = "http://placeholder.invalid/"


def _frame(version, file_name, versions, date):
    """lxml's document with one placeholder URL, cut around its line."""
    document = metalink_document(
        version, file_name, versions, [(_PLACEHOLDER, None)],
        published=date).decode("utf-8")
    end = document.index("%s</url>\n" % _PLACEHOLDER) + \
        len(_PLACEHOLDER) + len("</url>\n")
    start = document.rindex("\n", 0, end - 1) + 1
    line = document[start:end]
    indent = line[:len(line) - len(line.lstrip(" "))]
    frame = (versions, date, document[:start].encode("utf-8"), indent,
             document[end:].encode("utf-8"))
    if len(_FRAMES) >= _MAX_FRAMES:
        _FRAMES.clear()
    _FRAMES[(version, file_name, id(versions))] = frame
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


def metalink_document(version, file_name, versions, urls, now=None,
                      published=None):
    """metalink(), built element by element with lxml (`published`, a
    date as _published() writes it, instead of `now` if given)."""
    if version not in _URL_LINES:
        raise ValueError("no metalink version %r" % (version,))
    published = published or _published(version, now)
    if version == 4:
        return _document4(file_name, versions, urls, published)
    M, MM = "{%s}" % METALINK3_NS, "{%s}" % MM0_NS
    root = etree.Element(M + "metalink", nsmap={None: METALINK3_NS,
                                                "mm0": MM0_NS})
    root.set("version", "3.0")
    root.set("type", "dynamic")
    root.set("pubdate", published)
    root.set("generator", "mirrorkeeper")
    element = etree.SubElement(etree.SubElement(root, M + "files"),
                               M + "file", name=file_name)

    def describe(parent, details):
        if details.get("timestamp") is not None:
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


def _document4(file_name, versions, urls, published):
    M = "{%s}" % METALINK4_NS
    root = etree.Element(M + "metalink", nsmap={None: METALINK4_NS})
    etree.SubElement(root, M + "generator").text = "mirrorkeeper"
    etree.SubElement(root, M + "published").text = published
    element = etree.SubElement(root, M + "file", name=file_name)
    if versions:
        newest = versions[0]
        etree.SubElement(element, M + "size").text = str(newest["size"])
        for _, name, key in _HASHES:
            if newest.get(key):
                etree.SubElement(element, M + "hash",
                                 type=name).text = newest[key]
        if newest.get("sha256") and newest["size"] > 0:
            # The whole file as one piece: aria2c then checks the bytes
            # before it keeps them, where after a whole-file checksum
            # error it would leave a mirror's corrupted copy on disk.
            pieces = etree.SubElement(element, M + "pieces", type="sha-256",
                                      length=str(newest["size"]))
            etree.SubElement(pieces, M + "hash").text = newest["sha256"]
    for rank, (url, country) in enumerate(urls):
        attributes = {"priority": str(rank + 1)}
        if country:
            attributes["location"] = country.lower()
        etree.SubElement(element, M + "url", **attributes).text = url
    return etree.tostring(root, xml_declaration=True, encoding="utf-8",
                          pretty_print=True)


def redirect(urls, path_given=True):
    """A redirect to a file under the first of the base URLs `urls`
    [(URL, country or None)], offering it under the others as RFC 6249
    duplicates ('<url>; rel=duplicate; pri=N; geo=cc'), in pieces between
    which the file's path goes, so that it is written once for every path:
    (header pieces, body pieces), bytes.  For a path (bytes, leading
    slashes left out), path.join(header pieces) is the Location and Link
    header lines, each ended by CRLF, and path.join(body pieces) the
    body: the URLs as join() makes them, for a path given or not (a blank
    one, `path_given` false)."""
    bases = [((url.rstrip("/") + "/" if path_given else url).encode("utf-8"),
              country) for url, country in urls]
    # Each line as (what comes before the path, what comes after).
    lines = [(b"Location: " + bases[0][0], b"\r\n")]
    for rank, (base, country) in enumerate(bases[1:], 1):
        after = b">; rel=duplicate; pri=%d" % rank
        if country:
            after += b"; geo=" + country.lower().encode("utf-8")
        lines.append((b"Link: <" + base, after + b"\r\n"))
    headers = [lines[0][0]]
    for (_, after), (before, _) in zip(lines, lines[1:]):
        headers.append(after + before)
    headers.append(lines[-1][1])
    return tuple(headers), (bases[0][0], b"\n")
