"""RSS 2.0 feeds of a distribution's archive and CD image mirrors, built
with lxml.

Each item is a mirror: its title, its link (the URL users fetch from),
its page as guid, and in the mirror namespace its bandwidth, continent,
country and country code and freshness; pubDate is its last probe (the
moment the data was last true), left out for a mirror never probed.
"""

import re
from datetime import timezone
from email.utils import format_datetime

from lxml import etree

from mirrorkeeper.timeutil import utcnow

MIRROR_NS = "urn:x-mirrorkeeper:mirror:1"
ATOM_NS = "http://www.w3.org/2005/Atom"

# Items a feed carries at most: a feed reader fetches it every few
# minutes, and a thousand mirrors would be a megabyte each time.
MAX_ITEMS = 500
_M = "{%s}" % MIRROR_NS


def _rfc822(when):
    return format_datetime(when.replace(tzinfo=timezone.utc), usegmt=True)


# What XML 1.0 cannot carry at all (most control characters, lone
# surrogates, U+FFFE, U+FFFF).  Text stored before such values were
# refused may still hold them: each becomes U+FFFD in a feed, so that one
# mirror's bad display name never makes the feed an error for everybody.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text):
    """`text` with every character XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text) if text else text


def _text(parent, tag, text):
    element = etree.SubElement(parent, tag)
    element.text = xml_text(text)
    return element


def mirrors_feed(title, page_url, description, summaries, site_url,
                 built=None, feed_url=None, limit=None):
    """The bytes of an RSS document listing `summaries` (MirrorSummary);
    `site_url` is the site's base URL, without a trailing slash;
    `feed_url` the feed's own (atom:link rel="self").  At most `limit`
    (default MAX_ITEMS) items: the most recently probed first, then by
    name.  lastBuildDate is the newest probe, else `built` (default: now),
    so a feed always has one."""
    rss = etree.Element("rss", version="2.0", nsmap={"mirror": MIRROR_NS,
                                                      "atom": ATOM_NS})
    channel = etree.SubElement(rss, "channel")
    _text(channel, "title", title)
    _text(channel, "link", page_url)
    _text(channel, "description", description)
    if feed_url:
        etree.SubElement(channel, "{%s}link" % ATOM_NS, href=feed_url,
                         rel="self", type="application/rss+xml")
    probes = [s.last_probe for s in summaries if s.last_probe is not None]
    newest = max(probes) if probes else built or utcnow()
    _text(channel, "lastBuildDate", _rfc822(newest))
    limit = MAX_ITEMS if limit is None else limit
    if len(summaries) > limit:
        probed = sorted((s for s in summaries if s.last_probe is not None),
                        key=lambda s: s.last_probe, reverse=True)
        never = sorted((s for s in summaries if s.last_probe is None),
                       key=lambda s: s.name)
        summaries = (probed + never)[:limit]
    for summary in summaries:
        item = etree.SubElement(channel, "item")
        _text(item, "title", summary.title)
        _text(item, "link", summary.link)
        _text(item, "description", "%s mirror in %s, %d Mbps" % (
            summary.content.title, summary.country_name,
            summary.bandwidth_mbps))
        guid = _text(item, "guid", "%s/%s/+mirror/%s" % (
            site_url, summary.distribution, summary.name))
        guid.set("isPermaLink", "true")
        if summary.last_probe is not None:
            _text(item, "pubDate", _rfc822(summary.last_probe))
        _text(item, _M + "bandwidth", str(summary.bandwidth_mbps))
        _text(item, _M + "continent", summary.continent_name)
        _text(item, _M + "country", summary.country_name)
        _text(item, _M + "countrycode", summary.country_code)
        _text(item, _M + "freshness", summary.freshness.name.lower())
        for scheme, url in summary.urls:
            _text(item, _M + scheme, url)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)
