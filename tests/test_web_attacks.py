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

from mirrorkeeper.enums import MirrorContent, MirrorStatus
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.validators import TEXT_LIMITS, valid_text
from mirrorkeeper.web.site import SECURITY_HEADERS
from tests.web_harness import InProcessClient
from tests.web_harness import client, world  # noqa: F401


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


# 4. Sessions a person controls.  Two browsers of olive's (the second
# from another address) and a copy of the first one's cookie; after each
# way of ending sessions, which of the three are still logged in.
def logged_in(client):
    """Whether `client`'s cookie is a logged-in session (it can reach the
    registration form, and POST to it)."""
    if client.get("/ubuntu/+newmirror").status != 200:
        return False
    return client.post("/ubuntu/+newmirror", {}).status == 400


def end_by_logout(first, second):
    first.post("/+logout")


def end_others(first, second):
    assert first.post("/+sessions", {"end": "others"}).status == 303


def end_all(first, second):
    assert first.post("/+sessions", {"end": "all"}).status == 303


def end_by_password_change(first, second, store=None):
    from mirrorkeeper.web.passwords import set_password
    person = PersonSet(first.app.db.store)["olive"]
    set_password(person, "another good password")
    first.app.db.store.commit()


ENDINGS = [
    # (how, first still logged in, its copied cookie, second browser)
    (end_by_logout, False, False, True),
    (end_others, True, True, False),
    (end_all, False, False, False),
    (end_by_password_change, False, False, False),
]


@pytest.mark.parametrize("ending,first_in,copy_in,second_in", ENDINGS,
                         ids=lambda value: getattr(value, "__name__", None))
def test_ending_sessions_ends_them_on_the_server(
        client, ending, first_in, copy_in, second_in):
    """Logging out, ending one's sessions and a new password end the
    sessions on the server: a cookie copied before stops working."""
    client.login("olive")
    copy = client.elsewhere("127.0.0.1", client.cookies)
    second = client.elsewhere("192.0.2.7")
    second.login("olive")
    assert logged_in(client) and logged_in(copy) and logged_in(second)
    ending(client, second)
    assert (logged_in(client), logged_in(copy), logged_in(second)) == (
        first_in, copy_in, second_in)


def test_a_person_sees_their_sessions(client):
    """The sessions page lists when and from where each session began,
    marks this one, and shows nobody else's."""
    client.login("olive")
    second = client.elsewhere("2001:db8::7")
    second.request("POST", "/+login", {
        "login": "olive", "password": "correct horse battery",
        "csrf_token": second.csrf_token()},
        headers={"User-Agent": "Browser\x01 of <b>Olive</b>"})
    client.elsewhere("192.0.2.8").login("oscar")
    page = client.get("/+sessions")
    assert page.status == 200
    text = page.text
    assert "(this one)" in text and text.count("(this one)") == 1
    assert "127.0.0.1" in text and "2001:db8::7" in text
    assert "192.0.2.8" not in text
    assert "Browser of &lt;b&gt;Olive&lt;/b&gt;" in text
    assert client.elsewhere().get("/+sessions").status == 303


def test_cookies_without_a_session_row_are_nobody(client, world):
    """A well-signed cookie whose session the server never started (an
    old stateless one, or forged with the secret) logs nobody in."""
    from mirrorkeeper.web.passwords import password_fingerprint
    olive = world.people["olive"]
    for token in (None, "0" * 48):
        session = client.signer.new(olive.id, password_fingerprint(
            olive.password_hash), token)
        other = client.elsewhere(cookies={
            "mirrorkeeper_session": client.signer.dump(session)})
        assert not logged_in(other)


# 5. Login throttling.  The throttle runs on a fake clock.
class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def seconds(self):
        return self.now


def try_login(client, password, login="olive"):
    return client.post("/+login", {"login": login, "password": password})


def test_guessing_waits_longer_and_longer(store, world):
    """After five failures each try from that address waits, doubling,
    and says how long; a try while waiting checks nothing and does not
    extend the wait."""
    clock = FakeClock()
    attacker = InProcessClient(store, address="203.0.113.9", clock=clock)
    waits = []
    for attempt in range(12):
        response = try_login(attacker, "wrong password %d" % attempt)
        if response.status == 429:
            match = re.search(r"try again in (\d+) s", response.text)
            waits.append(int(match.group(1)))
            # A try while waiting, with the right password, is refused.
            assert try_login(attacker, "correct horse battery").status == 429
            clock.now += int(match.group(1))
            assert try_login(attacker, "wrong again").status == 403
        else:
            assert response.status == 403
    assert waits[:4] == [5, 10, 20, 40]
    assert max(waits) <= 900


def test_two_hundred_guesses_are_slow(store, world):
    """200 wrong passwords in a row do not get 200 answers about the
    password: all but five are told to wait."""
    clock = FakeClock()
    attacker = InProcessClient(store, address="203.0.113.9", clock=clock)
    statuses = [try_login(attacker, "guess %d" % n).status
                for n in range(200)]
    assert statuses.count(403) == 5 and statuses.count(429) == 195
    assert try_login(attacker, "correct horse battery").status == 429


@pytest.mark.parametrize("owner_address,waits_at_most", [
    ("127.0.0.1", 0),           # their usual place: no wait at all
    ("198.51.100.4", 900),      # a new place: a bounded wait, not forever
])
def test_owners_are_not_locked_out(store, world, owner_address,
                                   waits_at_most):
    """Guessing olive's password from many addresses delays olive from a
    new place (at most the longest wait) and not from her usual one."""
    clock = FakeClock()
    owner = InProcessClient(store, address="127.0.0.1", clock=clock)
    owner.login("olive")
    owner.post("/+logout")
    for n in range(300):
        attacker = owner.elsewhere("203.0.%d.%d" % (n // 200, n % 200 + 1))
        try_login(attacker, "guess %d" % n)
        clock.now += 1
    returning = owner.elsewhere(owner_address)
    started = clock.now
    while try_login(returning, "correct horse battery").status == 429:
        clock.now += 10
        assert clock.now - started <= waits_at_most + 10
    assert clock.now - started <= waits_at_most


def test_password_checks_have_their_own_bounded_pool():
    """Password hashes run on threads of their own, and past its queue a
    check is refused at once (Busy) instead of waiting behind a flood."""
    from twisted.internet import reactor

    from mirrorkeeper.web.throttle import Busy, PasswordPool
    pool = PasswordPool(reactor, threads=1, queue_limit=2)
    pool.start()
    try:
        pending = [pool.verify("password %d" % n, None) for n in range(3)]
        refused = pool.verify("one too many", None)
        failures = []
        refused.addErrback(failures.append)
        assert failures and failures[0].check(Busy)
        assert pool._pool.max == 1
        assert pool._pool.name == "mirrorkeeper-passwords"
    finally:
        pool.stop()
    del pending


# 6. Links never come from the Host header.
@pytest.mark.parametrize("base_url,site", [
    ("", "http://127.0.0.1:8000"),
    ("https://mirrors.example.org", "https://mirrors.example.org")])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:443",
                                  "localhost\r\nX-Injected: 1"[:9]])
def test_feed_links_come_from_base_url(store, world, base_url, site, host):
    """A feed's links are [web] base_url's (or, without one, the loopback
    address the daemon listens on), whatever Host the client sends."""
    from mirrorkeeper.web.app import WebSettings
    world.mirror("linked", enabled=True)
    client = InProcessClient(store, WebSettings(base_url=base_url))
    response = client.get("/ubuntu/+archivemirrors-rss",
                          headers={"Host": host})
    assert response.status == 200
    feed = etree.fromstring(response.body)
    links = [feed.findtext("channel/link")] + [
        guid.text for guid in feed.iter("guid")]
    assert links and all(link.startswith(site + "/") for link in links)
    assert b"evil.example" not in response.body


# 7. An API that behaves like one.
@pytest.mark.parametrize("path,status,allow", [
    ("/api/1/nothing-here", 404, None),
    ("/api/2/mirrors", 404, None),
    ("/api/1/mirrors/no-such-mirror", 404, None),
    ("/api/1/mirrors?status=\x01", 400, None),
])
def test_api_errors_are_json(client, path, status, allow):
    """Every answer under /api/ is JSON, errors included."""
    response = client.get(quote(path, safe="/?="))
    assert response.status == status
    assert response.headers["content-type"] == "application/json"
    assert "error" in response.json()


@pytest.mark.parametrize("method,path,allow", [
    ("POST", "/api/1/mirrors", "GET, HEAD"),
    ("DELETE", "/api/1/status", "GET, HEAD"),
    ("PUT", "/ubuntu", "GET, HEAD"),
    ("GET", "/+logout", "POST"),
    ("DELETE", "/+login", "GET, POST, HEAD"),
])
def test_405_names_the_allowed_methods(client, method, path, allow):
    """A method an address does not take is a 405 with Allow."""
    response = client.request(method, path)
    assert response.status in (403, 405)
    if method in ("GET", "DELETE", "PUT"):
        assert response.status == 405
        assert response.headers["allow"] == allow
    if path.startswith("/api/"):
        assert "error" in response.json()


def test_api_index_lists_the_endpoints(client):
    """/api/1/ lists each endpoint with a line about it."""
    found = client.get("/api/1/").json()
    assert {e["path"] for e in found["endpoints"]} >= {
        "/api/1/mirrors", "/api/1/status", "/api/1/distributions"}
    assert all(e["description"] for e in found["endpoints"])


def test_last_probe_has_one_shape(client, world):
    """last_probe is a date string (or None) in every endpoint."""
    mirror = world.mirror("shaped", enabled=True)
    mirror.newProbeRecord("probed\n")
    world.store.commit()
    one = client.get("/api/1/mirrors/shaped").json()["mirror"]
    many = [m for m in client.get("/api/1/mirrors").json()["mirrors"]
            if m["name"] == "shaped"][0]
    status = [m for m in client.get("/api/1/status").json()["mirrors"]
              if m["name"] == "shaped"][0]
    assert isinstance(one["last_probe"], str)
    assert one["last_probe"] == many["last_probe"] == status["last_probe"]


@pytest.mark.parametrize("path", ["/api/1/mirrors", "/api/1/status",
                                  "/ubuntu/+archivemirrors-rss"])
def test_conditional_gets_gzip_and_cors(client, world, path):
    """The API and feeds carry an ETag (304 when it matches), a
    Cache-Control, gzip when asked for, and the API read-only CORS."""
    for n in range(8):
        world.mirror("cached-%d" % n, enabled=True)
    plain = client.get(path)
    assert plain.status == 200 and len(plain.body) > 1024
    assert plain.headers["cache-control"].startswith("public, max-age=")
    assert "etag" in plain.headers
    again = client.get(path, headers={"If-None-Match": plain.headers["etag"]})
    assert again.status == 304 and again.body == b""
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    import gzip
    if "status" not in path:    # /status says when it was generated
        assert gzip.decompress(zipped.body) == plain.body
    assert zipped.headers["etag"] != plain.headers["etag"]
    if path.startswith("/api/"):
        assert plain.headers["access-control-allow-origin"] == "*"
    else:
        assert "access-control-allow-origin" not in plain.headers
    assert plain.headers["server"] == "mirrorkeeper"


def test_feeds_are_bounded_and_say_where_they_are(client, world,
                                                  monkeypatch):
    """A feed has at most MAX_ITEMS items, an atom:link to itself and a
    lastBuildDate even when no mirror was ever probed."""
    from mirrorkeeper.web import feeds
    monkeypatch.setattr(feeds, "MAX_ITEMS", 3)
    for n in range(5):
        world.mirror("fed-%d" % n, enabled=True, status=MirrorStatus.OFFICIAL)
    feed = etree.fromstring(client.get("/ubuntu/+archivemirrors-rss").body)
    assert len(feed.findall("channel/item")) == 3
    assert feed.findtext("channel/lastBuildDate")
    self_link = feed.find("channel/{%s}link" % feeds.ATOM_NS)
    assert self_link.get("rel") == "self"
    assert self_link.get("href").endswith("/ubuntu/+archivemirrors-rss")


# 8. Reserved names.
@pytest.mark.parametrize("name", ["api", "metrics", "+login", "+logout"])
def test_reserved_names_are_no_distribution(store, world, name):
    """A page's name cannot be a distribution's."""
    from mirrorkeeper.model.distribution import DistributionSet
    ubuntu = world.ubuntu
    with pytest.raises(InvalidValueError):
        DistributionSet(store).new(name, "Reserved", "Reserved",
                                   ubuntu.owner, ubuntu.mirror_admin)


@pytest.mark.parametrize("path,status", [
    ("/+logout", 405), ("/+nothing", 404), ("/+nothing/+archivemirrors", 404),
    ("/api", 404), ("/metrics/+archivemirrors", 404)])
def test_reserved_routes_get_their_own_answers(client, path, status):
    """GET /+logout is not a distribution called '+logout'."""
    response = client.get(path)
    assert response.status == status
    assert "distribution is called" not in response.text
