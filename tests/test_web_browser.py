"""A person's flow in a real browser: headless Chromium (Debian's
package) against the `mirrorkeeper web` daemon on loopback.  An owner
logs in and registers a mirror; a site admin reviews it; screenshots of
the listing and the mirror page, at a phone's width, are not blank."""

from urllib.parse import quote

import pytest

from tests.cdp import Browser, chromium_path, distinct_colours
from tests.web_server import PASSWORD, WebServer, copy_sqlite

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (.ci/run "
    "installs it)")


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """The SQLite file WebServer.populate() makes (five `mirrorkeeper`
    processes), made once: each test's daemon gets a copy of its own."""
    made = WebServer(tmp_path_factory.mktemp("populated")).populate()
    return made.database_uri[len("sqlite:"):]


@pytest.fixture
def server(tmp_path, populated):
    server = WebServer(tmp_path)
    copy_sqlite(populated, server.database_uri[len("sqlite:"):])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(str(profile))
    yield browser.new_page(412, 900)
    browser.close()


def log_in(page, url, login, next_path):
    page.goto(url + "+login?next=" + quote(next_path, safe=""))
    page.fill({"login": login, "password": PASSWORD})
    page.click_and_wait("form.stacked button")


def test_register_review_and_see_the_mirror(server, page, tmp_path):
    """An owner registers a mirror through the forms, a site admin
    reviews it, and the listing and mirror page render with content."""
    url = server.url
    log_in(page, url, "olive", "/ubuntu/+newmirror")
    assert page.url == url + "ubuntu/+newmirror"
    page.fill({"name": "browser-mirror", "display_name": "Browser Mirror",
               "https_base_url": "https://mirror.example.pt/ubuntu/",
               "rsync_base_url": "rsync://mirror.example.pt/ubuntu/",
               "country": "PT", "speed": "S10G", "bandwidth_mbps": "8000",
               "description": "Registered by a real browser."})
    page.click_and_wait("form.stacked button")
    assert page.url == url + "ubuntu/+mirror/browser-mirror"
    assert "Pending review, disabled" in page.text

    page.click_and_wait("header form button")       # Log out.
    log_in(page, url, "sita", "/ubuntu/+mirror/browser-mirror/+review")
    page.fill({"status": "OFFICIAL", "whiteboard": "Checked by Sita."})
    page.click_and_wait("form.stacked button")
    text = page.text
    assert "Official, disabled" in text
    assert "Checked by Sita." in text and "by sita" in text

    # The prober enables a mirror it finds carrying content; here the
    # command line stands in for it.
    server.command("mirror", "enable", "browser-mirror")
    page.goto(url + "ubuntu/+archivemirrors")
    assert "Browser Mirror" in page.text and "Portugal" in page.text
    listing = page.screenshot()
    (tmp_path / "listing.png").write_bytes(listing)
    page.goto(url + "ubuntu/+mirror/browser-mirror")
    mirror_page = page.screenshot()
    (tmp_path / "mirror.png").write_bytes(mirror_page)
    for png in (listing, mirror_page):
        # Text, links, badges and the header: many colours, not a blank.
        assert len(distinct_colours(png)) > 20


# Each ?next= a browser might be tricked by: tabs and newlines it drops,
# backslashes it reads as slashes, schemes, scheme-relative hosts.  Only
# the first leads somewhere other than the front page.
NEXT_ATTACKS = [
    ("/ubuntu/+archivemirrors", "ubuntu/+archivemirrors"),
    ("/\t/evil.example/", ""),
    ("/\n/evil.example/", ""),
    ("/\r/evil.example/", ""),
    ("\t//evil.example/", ""),
    ("//evil.example/", ""),
    ("/\\evil.example/", ""),
    ("\\\\evil.example/", ""),
    ("/\\\t/evil.example/", ""),
    ("https://evil.example/", ""),
    ("https:evil.example", ""),
    ("\x01//evil.example/", ""),
    ("javascript:alert(1)//", ""),
]


def test_every_next_lands_on_the_site(server, page):
    """Chromium, logging in with each hostile ?next=, follows the redirect
    to a page of this site, never to another host.  (evil.example is
    never resolved: a navigation there would show in the URL.)"""
    url = server.url
    for next_value, landing in NEXT_ATTACKS:
        page.goto(url + "+login?next=" + quote(next_value, safe=""))
        page.fill({"login": "olive", "password": PASSWORD})
        page.click_and_wait("form.stacked button")
        assert page.url == url + landing, repr(next_value)
        page.click_and_wait("header form button")       # Log out.
