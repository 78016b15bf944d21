"""The page chrome every HTML page shares, and the small pieces pages are
built from: freshness badges, dates, links, forms with their CSRF token.

Pages are twisted.web.template tags (stan): text and attribute values are
escaped when flattened, so nothing a person typed can become markup.
"""

from types import GeneratorType
from urllib.parse import quote

from twisted.web.template import CharRef, Tag, tags

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.web.sessions import CSRF_FIELD

# One colour per freshness, green to red, grey for unknown; the badge
# also says it in words, for those who do not see colours.
FRESHNESS_COLOURS = {
    MirrorFreshness.UP: "#2e7d32",
    MirrorFreshness.ONEHOURBEHIND: "#689f38",
    MirrorFreshness.TWOHOURSBEHIND: "#9e9d24",
    MirrorFreshness.SIXHOURSBEHIND: "#f9a825",
    MirrorFreshness.ONEDAYBEHIND: "#ef6c00",
    MirrorFreshness.TWODAYSBEHIND: "#d84315",
    MirrorFreshness.ONEWEEKBEHIND: "#b71c1c",
    MirrorFreshness.UNKNOWN: "#757575",
}

STYLESHEET = b"""\
:root { --fg: #1d1d1d; --muted: #5f5f5f; --line: #d9d9d9; --link: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: var(--fg); }
header { background: #2c3e50; color: #fff; padding: .5rem 1rem;
  display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; }
header a { color: #fff; }
header .site { font-weight: bold; font-size: 1.1rem; text-decoration: none; }
header .account { margin-left: auto; display: flex; gap: .75rem;
  align-items: center; }
header form { display: inline; margin: 0; }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
a { color: var(--link); }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
.muted, .count { color: var(--muted); font-weight: normal; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem;
  border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
.links a { margin-right: .4rem; white-space: nowrap; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .6rem;
  color: #fff; font-size: .8rem; white-space: nowrap; }
dl.details { display: grid; grid-template-columns: max-content 1fr;
  gap: .25rem 1rem; }
dl.details dt { color: var(--muted); }
dl.details dd { margin: 0; overflow-wrap: anywhere; }
form.stacked label { display: block; margin: .6rem 0 .15rem;
  font-weight: 600; }
form.stacked input[type=text], form.stacked input[type=url],
form.stacked input[type=password], form.stacked input[type=number],
form.stacked select, form.stacked textarea { width: 100%; max-width: 36rem;
  font: inherit; padding: .35rem; }
form.stacked .check label { display: inline; font-weight: normal; }
button { font: inherit; padding: .35rem .9rem; margin-top: .75rem;
  cursor: pointer; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
.actions form { margin: 0; }
.error { color: #b71c1c; }
.notice { background: #fff8e1; border: 1px solid #ffe082;
  padding: .5rem .75rem; }
pre.log { background: #f6f6f6; padding: .75rem; overflow-x: auto;
  font-size: .8rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.legend span { margin-right: .75rem; white-space: nowrap; }
.legend i { display: inline-block; width: .8rem; height: .8rem;
  vertical-align: middle; margin-right: .25rem; }
svg.chart { max-width: 100%; height: auto; }
.inline { margin: 0; }
ul.admins form { display: inline; margin-left: .5rem; }
form.view { display: flex; flex-wrap: wrap; gap: .5rem 1rem;
  align-items: flex-end; margin: .5rem 0 1rem; }
form.view label { display: flex; flex-direction: column; font-size: .85rem;
  color: var(--muted); max-width: 100%; }
form.view input, form.view select { font: inherit; padding: .25rem;
  max-width: 100%; }
form.view button { margin-top: 0; }
nav.countries { display: flex; flex-wrap: wrap; gap: .1rem .9rem;
  margin: .5rem 0; font-size: .9rem; }
nav.pages { margin: 1rem 0; }
details > summary { cursor: pointer; }
details > summary h2 { display: inline; }
/* One column layout for every listing table, whatever its rows hold. */
table.mirrors { table-layout: fixed; }
table.mirrors td { overflow-wrap: anywhere; }
col.c-links { width: 12.5rem; }
col.c-speed { width: 6.5rem; }
col.c-freshness { width: 13rem; }
col.c-probed { width: 13rem; }
col.c-country { width: 9rem; }
col.c-status { width: 11rem; }
table.mirrors tr.site th { text-align: left; padding-top: .9rem; }
input, select, textarea { max-width: 100%; }
@media (max-width: 40rem) {
  th.optional, td.optional { display: none; }
  main { padding: .6rem; }
  /* Nothing reaches past a phone's width, not even inside a scrolling
     box: tables share the width out and long words break anywhere. */
  main { overflow-wrap: anywhere; }
  table { table-layout: fixed; }
  th, td { padding: .3rem .25rem; }
  .badge { white-space: normal; }
  /* A listing's row wraps as a card: the name, then its links,
     freshness and last probe, all within the width. */
  table.mirrors, table.mirrors tbody { display: block; }
  table.mirrors thead, table.mirrors colgroup { display: none; }
  table.mirrors tr { display: flex; flex-wrap: wrap; gap: .2rem .75rem;
    padding: .4rem 0; border-bottom: 1px solid var(--line); }
  table.mirrors td { border: 0; padding: 0; }
  table.mirrors td.c-mirror { flex-basis: 100%; font-weight: 600; }
}
"""
# The freshness colours, as classes: the Content-Security-Policy allows
# no inline style.
STYLESHEET += b"".join(
    b".f-%s { background: %s; }\n" % (freshness.name.encode("ascii"),
                                      colour.encode("ascii"))
    for freshness, colour in FRESHNESS_COLOURS.items())


class Flattened:
    """`tag` flattened once, now, to be put in pages as it is (the body of
    a cached listing): `flatten` writes its bytes where it stands, without
    flattening the tags again."""

    def __init__(self, tag):
        self.markup = flatten(tag)

    @classmethod
    def of_markup(cls, markup):
        """Markup (bytes) written without tags, its text escaped by
        text_markup and attribute_markup, as `flatten` would have."""
        flattened = cls.__new__(cls)
        flattened.markup = markup
        return flattened


# The HTML elements that have no content and no end tag.
VOID_ELEMENTS = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link",
    "meta", "param", "source", "track", "wbr"))


def text_markup(text):
    """`text` (str) with the markup characters escaped, as element
    content: escape_text, before the encoding."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;")


def attribute_markup(text):
    """`text` (str) escaped as an attribute value in double quotes."""
    return text_markup(text).replace('"', "&quot;")


def escape_text(data):
    """Text as UTF-8 with the markup characters escaped, as element
    content."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(
        b">", b"&gt;")


def _attribute(name, value):
    if not isinstance(value, (str, bytes)):
        raise TypeError("the attribute %s of a page element must be text, "
                        "not %r" % (name, value))
    return escape_text(value).replace(b'"', b"&quot;")


def _write(node, out):
    """Append the markup of `node` to the list `out`."""
    if isinstance(node, (str, bytes)):
        out.append(escape_text(node))
    elif isinstance(node, Tag):
        if node.render is not None or node.slotData:
            raise TypeError("page elements are plain tags: %r has a "
                            "renderer or slots" % (node,))
        if not node.tagName:
            for child in node.children:
                _write(child, out)
            return
        name = node.tagName
        out.append(b"<" + name.encode("ascii"))
        for key, value in node.attributes.items():
            out.append(b" %s=\"%s\"" % (key.encode("ascii"),
                                        _attribute(key, value)))
        if node.children or name not in VOID_ELEMENTS:
            out.append(b">")
            for child in node.children:
                _write(child, out)
            out.append(b"</" + name.encode("ascii") + b">")
        else:
            out.append(b" />")
    elif isinstance(node, (list, tuple, GeneratorType)):
        for child in node:
            _write(child, out)
    elif isinstance(node, Flattened):
        out.append(node.markup)
    elif isinstance(node, CharRef):
        out.append(b"&#%d;" % (node.ordinal,))
    else:
        raise TypeError("cannot put %r in a page" % (node,))


def flatten(tag):
    """The bytes of `tag`: plain tags (no renderers, slots or Deferreds),
    text, lists of them, character references and Flattened bodies; text
    and attribute values escaped, as twisted.web.template's flattener
    writes them.  Ours because pages are built whole, at once: the
    general flattener's trampoline cost four times as much on a listing
    of 1,000 mirrors."""
    out = []
    _write(tag, out)
    return b"".join(out)


def html_page(title, viewer, csrf_token, *body, site_name="mirrorkeeper"):
    """A whole HTML document: header with the account links, then
    `body` (tags, or a Flattened body rendered before)."""
    if viewer.logged_in:
        account = tags.div(
            tags.span("%s%s" % (viewer.display_name,
                                " (site admin)" if viewer.site_admin
                                else "")),
            tags.a("My mirrors", href="/+mymirrors"),
            tags.a("Sessions", href="/+sessions"),
            post_form("/+logout", csrf_token, tags.button(
                "Log out", type="submit", class_="inline")),
            class_="account")
    else:
        account = tags.div(tags.a("Log in", href="/+login"),
                           tags.a("Sign up", href="/+signup"),
                           class_="account")
    document = tags.html(
        tags.head(
            tags.meta(charset="utf-8"),
            tags.meta(name="viewport",
                      content="width=device-width, initial-scale=1"),
            tags.title("%s - %s" % (title, site_name)),
            tags.link(rel="stylesheet", href="/+style.css")),
        tags.body(
            tags.header(tags.a(site_name, href="/", class_="site"), account),
            Tag("main")(*body)),
        lang="en")
    return b"<!DOCTYPE html>\n" + flatten(document)


def post_form(action, csrf_token, *content, **attributes):
    """A POST form carrying the session's CSRF token."""
    return tags.form(
        tags.input(type="hidden", name=CSRF_FIELD, value=csrf_token),
        *content, method="post", action=action, **attributes)


def freshness_badge(freshness):
    return tags.span(freshness.title,
                     class_="badge f-%s" % (freshness.name,))


def format_minute(when, missing="never"):
    """A UTC time to the minute, as the pages show it, or `missing`.
    (The command line's format_date shows the second.)"""
    if when is None:
        return missing
    return when.strftime("%Y-%m-%d %H:%M UTC")


def plural(count, noun):
    """'1 mirror', '2 mirrors'."""
    return "%d %s%s" % (count, noun, "" if count == 1 else "s")


def format_bandwidth(mbps):
    if mbps >= 1000 and mbps % 1000 == 0:
        return "%d Gbps" % (mbps // 1000)
    if mbps >= 1000:
        return "%.1f Gbps" % (mbps / 1000)
    return "%d Mbps" % (mbps,)


def url_links(summary):
    """The mirror's URLs as links named by their scheme."""
    return tags.span(*[tags.a(scheme, href=url)
                       for scheme, url in summary.urls], class_="links")


def mirror_href(distribution, name):
    return "/%s/+mirror/%s" % (quote(distribution), quote(name))


def legend():
    return tags.p(*[tags.span(tags.i(class_="f-%s" % (freshness.name,)),
                              freshness.title)
                    for freshness in FRESHNESS_COLOURS],
                  class_="legend")


def svg(name, *children, **attributes):
    """An SVG element (twisted.web.template's tags are HTML's only)."""
    return Tag(name)(*children, **attributes)
