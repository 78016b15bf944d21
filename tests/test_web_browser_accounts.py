"""A new mirror owner's whole way in, in a real browser: headless
Chromium against the `mirrorkeeper web` daemon on loopback, its mail
delivered to the test SMTP server.  A visitor signs up, follows the
verification link of the message that arrived, logs in and registers a
mirror; a site admin approves it; the owner sees it official on "My
mirrors".  Each step's screenshot is saved beside the test's files
(screenshots/) and checked not to be blank; at a phone's width, the
pages of accounts and sites reach no further than its right edge."""

import re
from urllib.parse import quote

import pytest

from tests.cdp import Browser, chromium_path, distinct_colours
from tests.web_server import PASSWORD, WebServer

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (.ci/run "
    "installs it)")

NEW_PASSWORD = "the new owner's passphrase"


@pytest.fixture
def server(tmp_path, smtp_server):
    server = WebServer(tmp_path, config=(
        "[mail]\nsmtp_host = %s\nsmtp_port = %d\n"
        "from_address = mirrors@example.org\n"
        % (smtp_server.host, smtp_server.port))).populate()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(str(profile))
    yield browser.new_page(1280, 900, mobile=False)
    browser.close()


class Screenshots:
    """Saves each screenshot as screenshots/NN-NAME.png and checks it has
    content: text, links and badges are many colours, a blank is one."""

    def __init__(self, page, folder):
        self.page = page
        self.folder = folder
        folder.mkdir()
        self.saved = []

    def take(self, name):
        png = self.page.screenshot()
        assert len(distinct_colours(png)) > 20, name
        path = self.folder / ("%02d-%s.png" % (len(self.saved) + 1, name))
        path.write_bytes(png)
        self.saved.append(path)
        return path


def test_sign_up_register_approve_and_see_it_official(
        server, page, smtp_server, tmp_path):
    """The whole way of a new owner, each page as a person sees it."""
    smtp_server.clear()
    url = server.url
    shots = Screenshots(page, tmp_path / "screenshots")

    # A visitor finds how to register a mirror: sign up first.
    page.goto(url + "ubuntu")
    assert "Sign up" in page.text
    page.click_and_wait("p.register a")
    assert page.url == url + "+signup?next=" + quote("/ubuntu/+newmirror",
                                                     safe="")
    page.fill({"name": "nadia", "display_name": "Nadia Newowner",
               "email": "nadia@example.net", "password": NEW_PASSWORD})
    shots.take("signup-form")
    page.click_and_wait("form.stacked button")
    assert "Check your mail" in page.text
    shots.take("check-your-mail")

    # The message arrived at the SMTP server; its link is followed.
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_to == ["nadia@example.net"]
    body = received.message.get_body().get_content()
    link = re.search(r"(http://\S+/\+verify/[0-9a-f]{64}\S*)", body).group(1)
    assert link.startswith(url)

    # Not verified yet: no logging in.
    page.goto(url + "+login")
    page.fill({"login": "nadia", "password": NEW_PASSWORD})
    page.click_and_wait("form.stacked button")
    assert "Confirm your address first" in page.text

    page.goto(link)
    shots.take("confirm-address")
    page.click_and_wait("form.stacked button")
    assert "Your address is confirmed" in page.text
    assert page.url.startswith(url + "+login")
    page.fill({"login": "nadia", "password": NEW_PASSWORD})
    page.click_and_wait("form.stacked button")
    assert page.url == url + "ubuntu/+newmirror"

    page.fill({"name": "nadia-mirror", "display_name": "Nadia's Mirror",
               "https_base_url": "https://mirror.example.pt/ubuntu/",
               "country": "PT", "speed": "S10G",
               "description": "Registered by a new owner."})
    page.click_and_wait("form.stacked button")
    assert page.url == url + "ubuntu/+mirror/nadia-mirror"
    assert "Pending review, disabled" in page.text
    page.goto(url + "+mymirrors")
    assert "Pending review, disabled" in page.text
    assert "review each new mirror" in page.text
    assert "+probe" not in page.text
    shots.take("my-mirrors-pending")
    page.click_and_wait("header form button")       # Log out.

    # A site admin approves it.
    page.goto(url + "+login?next=" + quote(
        "/ubuntu/+mirror/nadia-mirror/+review", safe=""))
    page.fill({"login": "sita", "password": PASSWORD})
    page.click_and_wait("form.stacked button")
    page.fill({"status": "OFFICIAL", "whiteboard": "Welcome, Nadia."})
    shots.take("admin-review")
    page.click_and_wait("form.stacked button")
    assert "Official, disabled" in page.text
    page.click_and_wait("header form button")

    # The prober enables a mirror it finds carrying content; here the
    # command line stands in for it.
    server.command("mirror", "enable", "nadia-mirror")
    page.goto(url + "+login?next=%2F%2Bmymirrors")
    page.fill({"login": "nadia", "password": NEW_PASSWORD})
    page.click_and_wait("form.stacked button")
    assert page.url == url + "+mymirrors"
    row = page.evaluate(
        "document.getElementById('mirror-nadia-mirror').innerText")
    assert "Official" in row and "disabled" not in row and \
        "Pending" not in row
    shots.take("my-mirrors-official")
    page.goto(url + "+site/nadia-mirror")
    assert "Nadia Newowner (nadia)" in page.text
    shots.take("site-page")

    # At a phone's width nothing reaches past the right edge, what a
    # scrolling box clips included.
    page.send("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1,
        "mobile": True})
    for path in ("+mymirrors", "+site/nadia-mirror", "+signup", "+reset"):
        page.goto(url + path)
        right = page.evaluate(
            "Math.max(...Array.from(document.querySelectorAll('body *'))"
            ".map(e => e.getBoundingClientRect().right))")
        assert 200 < right <= 390, (path, right)
    assert [path.name for path in shots.saved] == [
        "01-signup-form.png", "02-check-your-mail.png",
        "03-confirm-address.png", "04-my-mirrors-pending.png",
        "05-admin-review.png", "06-my-mirrors-official.png",
        "07-site-page.png"]
