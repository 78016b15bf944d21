"""Pages are flattened by layout.flatten, which writes plain tags as
twisted.web.template's own flattener does, faster: the same bytes for
the same tags, whatever text they hold, and a clear error for what a
page must not hold."""

import pytest
from twisted.web.template import (
    CharRef, Comment, Tag, flattenString, slot, tags)

from mirrorkeeper.web import layout

HOSTILE = [
    '<script>alert("x")</script>',
    "a & b < c > d \"quoted\" 'single'",
    "\u00e9\u4e2d\U0001f600 \x7f",
    "&amp; already escaped &lt;",
    "",
]


def twisted_flattened(tag):
    out = []
    flattenString(None, tag).addBoth(out.append)
    assert isinstance(out[0], bytes), out[0]
    return out[0]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_same_bytes_as_twisteds_flattener(text):
    """Text in content and in attributes, void and empty elements, lists,
    tuples, generators, tags without a name and character references
    come out as twisted.web.template writes them."""
    def page():
        # Built anew for each flattener: a generator is read once.
        return tags.html(
            tags.head(tags.meta(charset="utf-8"),
                      tags.link(rel="stylesheet",
                                href="/s.css?a=1&b=" + text)),
            tags.body(
                tags.h1(text, class_="title"),
                tags.p(text, tags.br(), CharRef(160), [tags.b(text),
                                                       (text, tags.i())]),
                tags.input(type="text", name="q", value=text),
                tags.div(), tags.td(),
                Tag("")(text, tags.span(text)),
                (tags.li(str(n)) for n in range(3))))
    assert layout.flatten(page()) == twisted_flattened(page())


def test_a_flattened_body_is_put_in_as_it_is():
    """A Flattened body (a cached listing) stands in a page as the bytes
    it was flattened to, not escaped again."""
    body = tags.table(tags.tr(tags.td(HOSTILE[0])))
    kept = layout.Flattened(body)
    assert layout.flatten(tags.section(kept)) == \
        twisted_flattened(tags.section(body))


@pytest.mark.parametrize("node", [
    slot("name"), tags.p(render="method"), Comment("hi"), 42,
    tags.a("x", href=tags.b("y"))])
def test_what_a_page_must_not_hold_is_an_error(node):
    """Slots, renderers, comments, numbers and markup in an attribute are
    refused with a TypeError naming the offender, not written somehow."""
    with pytest.raises(TypeError):
        layout.flatten(tags.div(node))
