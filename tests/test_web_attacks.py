"""The web site under attack: each class of attack a table, tried over
HTTP in-process against the real twisted.web site, on both backends.

    redirects off the site      ?next= in every spelling a browser reads
    bad text                    control characters, invalid UTF-8, limits
    stored bad text             what is already stored never breaks a feed
    bad input                   URLs, numbers, ids: 400 naming the field
    error pages                 a crash answers with the headers and layout

The browser's side of the redirects is in test_web_browser.py.
"""

import re
from urllib.parse import quote

import pytest
from lxml import etree

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.validators import TEXT_LIMITS, valid_text
from mirrorkeeper.web.site import SECURITY_HEADERS
from tests.web_harness import InProcessClient, World


@pytest.fixture
def world(store):
    return World(store)


@pytest.fixture
def client(store, world):
    return InProcessClient(store)


# 1. No redirect off the site.  Each ?next= value and where a login with
# it must land: "/" for every one that a browser would read as another
# site (or that is no path at all).
NEXT_VALUES = [
    ("/ubuntu/+newmirror", "/ubuntu/+newmirror"),
    ("/ubuntu/+mirror/valid-mirror?x=1", "/ubuntu/+mirror/valid-mirror?x=1"),
    ("/\t/evil.example/", "/"),
    ("/\n/evil.example/", "/"),
    ("/\r\n/evil.example/", "/"),
    ("\t//evil.example/", "/"),
    (" //evil.example/", "/"),
    ("\x00//evil.example/", "/"),
    ("\x1f//evil.example/", "/"),
    ("//evil.example/", "/"),
    ("///evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("\\\\evil.example/", "/"),
    ("\\/evil.example/", "/"),
    ("/\\/evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("http:evil.example", "/"),
    ("HTTPS://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("\tjavascript:alert(1)", "/"),
    ("data:text/html,<script>alert(1)</script>", "/"),
    ("evil.example", "/"),
    ("", "/"),
    ("/\udc80", "/"),
    ("/caf\u00e9", "/caf%C3%A9"),
]


@pytest.mark.parametrize("next_value,landing", NEXT_VALUES)
def test_login_never_redirects_off_the_site(client, next_value, landing):
    """A login's ?next= (in the query and in the form) leads within the
    site, judged as a browser reads it."""
    page = client.get("/+login?next=" + quote(next_value, safe="",
                                              errors="surrogateescape"))
    assert page.status == 200
    hidden = re.search(r'name="next" value="([^"]*)"', page.text).group(1)
    assert hidden == landing
    response = client.post("/+login", {
        "login": "olive", "password": "correct horse battery",
        "next": next_value.encode("utf-8", "surrogateescape")})
    assert response.status == 303
    assert response.headers["location"] == landing


# 2. Bad text, in every field a person sets on the web.  (field, value,
# whether the form takes it.)
LONG = {field: "x" * (limit + 1) for field, limit in TEXT_LIMITS.items()}
TEXT_ATTACKS = [
    ("display_name", "Mirror\x01", False),
    ("display_name", "Mirror\x00", False),
    ("display_name", "Mirror\x7f", False),
    ("display_name", "Mirror\x85", False),
    ("display_name", "two\nlines", False),
    ("display_name", b"Mirror \xff\xfe", False),
    ("display_name", "Mirror \ufffe", False),
    ("display_name", LONG["display_name"], False),
    ("display_name", "x" * TEXT_LIMITS["display_name"], True),
    ("display_name", "Espelho S\u00e3o Paulo \U0001F600", True),
    ("description", "line one\r\nline two\ttabbed", True),
    ("description", "bell\x07", False),
    ("description", b"\xc3\x28", False),
    ("description", LONG["description"], False),
    ("pulse_source", "rsync://a.example/\x1b[2J", False),
    ("pulse_source", LONG["pulse_source"], False),
    ("name", "mirror\x00", False),
    ("name", "m" * (TEXT_LIMITS["name"] + 1), False),
    ("https_base_url", "https://a.example/\x01/", False),
    ("https_base_url", "https://a.example/" + "x" * 2048, False),
]

FORM = {"name": "attacked", "display_name": "Attacked", "country": "BR",
        "speed": "S1G", "content": "ARCHIVE", "pulse_type": "PULL",
        "https_base_url": "https://attacked.example.net/ubuntu/"}


def field_marked_invalid(page, field):
    """Whether the form shows `field` as the one at fault."""
    tag = re.search(r'<(?:input|textarea|select)[^>]*\bname="%s"[^>]*>'
                    % (field,), page.text)
    return tag is not None and 'aria-invalid="true"' in tag.group(0)


@pytest.mark.parametrize("field,value,taken", TEXT_ATTACKS)
def test_registration_refuses_bad_text(client, store, field, value, taken):
    """Control characters, invalid UTF-8 and text past its limit are a
    form error on their field; nothing is registered."""
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", dict(FORM, **{field: value}))
    mirror = DistributionMirrorSet(store).getByName(
        value if field == "name" and taken else "attacked")
    if taken:
        assert response.status == 303, response.text
        assert mirror is not None
        return
    assert response.status == 400
    assert field_marked_invalid(response, field), response.text
    assert mirror is None


@pytest.mark.parametrize("field,value,taken", [
    attack for attack in TEXT_ATTACKS
    if attack[0] in ("display_name", "description", "pulse_source")])
def test_edit_refuses_bad_text(client, store, world, field, value, taken):
    """Editing checks what registering does, and changes nothing when it
    refuses."""
    world.mirror("edited")
    client.login("olive")
    form = dict(FORM, **{field: value})
    del form["name"], form["content"]
    response = client.post("/ubuntu/+mirror/edited/+edit", form)
    store.rollback()
    mirror = DistributionMirrorSet(store).getByName("edited")
    if taken:
        assert response.status == 303, response.text
        return
    assert response.status == 400
    assert field_marked_invalid(response, field)
    assert mirror.display_name is None


@pytest.mark.parametrize("value,taken", [
    ("Seen.\r\nTwice.", True), ("\x1b[31mred", False), (b"\xff", False),
    ("x" * (TEXT_LIMITS["whiteboard"] + 1), False)])
def test_review_refuses_bad_whiteboards(client, store, world, value, taken):
    """The reviewers' whiteboard takes lines, not control characters."""
    world.mirror("reviewed")
    client.login("sita")
    response = client.post("/ubuntu/+mirror/reviewed/+review", {
        "status": "OFFICIAL", "whiteboard": value})
    assert response.status == (303 if taken else 400)
    if not taken:
        assert field_marked_invalid(response, "whiteboard")


def test_limits_are_stated_in_the_form(client):
    """Each text field says how long it may be, and the browser stops
    there."""
    client.login("olive")
    page = client.get("/ubuntu/+newmirror").text
    for field in ("name", "display_name", "description", "pulse_source"):
        limit = TEXT_LIMITS[field]
        assert re.search(r'name="%s"[^>]*maxlength="%d"|maxlength="%d"[^>]*'
                         r'name="%s"' % (field, limit, limit, field), page)
        assert "At most %s characters." % (format(limit, ","),) in page
    assert 'maxlength="2048"' in page


@pytest.mark.parametrize("display_name", [
    "Olive\x01", "Olive\x00", b"Olive\xff".decode("utf-8", "surrogateescape"),
    "O" * 101, "   "])
def test_people_refuse_bad_display_names(store, display_name):
    """The command line and the model check a person's display name as the
    web does, on the field 'display_name'."""
    with pytest.raises(InvalidValueError) as raised:
        PersonSet(store).new("olivia", display_name)
    assert raised.value.field == "display_name"


def test_text_checks_name_their_field():
    """Every refusal of valid_text carries its field, not only words."""
    for value in ("a\x01", b"\xff", "d" * 5000):
        with pytest.raises(InvalidValueError) as raised:
            valid_text(value, "description")
        assert raised.value.field == "description"


# Stored bad text: values written before they were refused (or by hand).
# (Neither backend stores NUL or a lone surrogate in a text column.)
STORED = ["Bad\x01name", "Bad\x1b[2Jname", "Bad\x0bname\ufffe",
          "Bad\x85\x9bname", "<b>&amp;</b>"]


@pytest.mark.parametrize("display_name", STORED)
def test_feeds_never_fail_on_stored_bad_text(client, store, world,
                                             display_name):
    """A display name that XML cannot carry is replaced in the feeds, and
    every page still answers."""
    mirror = world.mirror("stored-bad", enabled=True)
    archive_cd = world.mirror("stored-bad-cd", enabled=True,
                              content=MirrorContent.RELEASE)
    for each in (mirror, archive_cd):
        each.display_name = display_name
        each.description = display_name
    world.people["olive"].display_name = display_name
    store.commit()
    for path in ("/ubuntu/+archivemirrors-rss", "/ubuntu/+cdmirrors-rss"):
        response = client.get(path)
        assert response.status == 200, path
        feed = etree.fromstring(response.body)
        assert feed.tag == "rss"
    for path in ("/ubuntu/+archivemirrors", "/ubuntu/+cdmirrors",
                 "/ubuntu/+mirror/stored-bad", "/api/1/mirrors",
                 "/api/1/mirrors/stored-bad", "/api/1/status"):
        assert client.get(path).status == 200, path
    client.login("olive")
    assert client.get("/ubuntu/+mirror/stored-bad").status == 200


# 3. Bad input: (field, value) that must be a 400 naming the field.
BAD_INPUT = [
    ("https_base_url", "javascript:alert(1)"),
    ("http_base_url", "javascript://evil.example/%0aalert(1)"),
    ("http_base_url", "http://2130706433/"),
    ("http_base_url", "http://0177.0.0.1/"),
    ("http_base_url", "http://0x7f.1/"),
    ("http_base_url", "http://mirror.example.org:99999/"),
    ("http_base_url", "http://mirror.example.org:-1/"),
    ("http_base_url", "http://[::1/"),
    ("http_base_url", "http://127.0.0.1/"),
    ("ftp_base_url", "ftp://user:pw@mirror.example.org/"),
    ("rsync_base_url", "http://mirror.example.org/"),
    ("bandwidth_mbps", "\u00b2"),
    ("bandwidth_mbps", "\u0661\u0662"),
    ("bandwidth_mbps", "1e3"),
    ("bandwidth_mbps", "-5"),
    ("bandwidth_mbps", "0"),
    ("bandwidth_mbps", "9" * 20),
    ("bandwidth_mbps", "9" * 5000),
    ("speed", "S\u00b2"),
    ("country", "\x00"),
]


@pytest.mark.parametrize("field,value", BAD_INPUT)
def test_bad_input_is_a_form_error(client, store, field, value):
    """An invalid URL, number or choice is a 400 with the form shown again
    and its field marked; nothing is registered."""
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", dict(FORM, **{field: value}))
    assert response.status == 400, response.text
    assert "<form" in response.text
    assert field_marked_invalid(response, field), response.text
    assert DistributionMirrorSet(store).getByName("attacked") is None


@pytest.mark.parametrize("probe", ["\u00b2", "9" * 20, "1e3", "-1", "0x10",
                                   "9" * 5000])
@pytest.mark.parametrize("who", [None, "olive"])
def test_bad_ids_are_bad_requests(client, world, probe, who):
    """A probe id that is no positive 64-bit number is a 400, whoever
    asks."""
    world.mirror("probed")
    if who:
        client.login(who)
    response = client.get("/ubuntu/+mirror/probed/+probe/" + quote(probe))
    assert response.status == 400
    assert "probe id" in response.text


def test_a_crash_answers_with_the_headers_and_the_layout(client, world):
    """A handler that fails answers 500 with the security headers and the
    site's page around the message (JSON under /api/)."""
    def broken(ctx, *args, **kwargs):
        raise RuntimeError("a bug")
    client.app.distribution_page = broken
    client.app.api_distributions = broken
    response = client.get("/ubuntu")
    assert response.status == 500
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name.lower()] == value
    assert "<header>" in response.text and "/+style.css" in response.text
    assert "a bug" not in response.text
    response = client.get("/api/1/distributions")
    assert response.status == 500
    assert response.headers["content-type"] == "application/json"
    assert "error" in response.json()
    assert response.headers["x-content-type-options"] == "nosniff"
