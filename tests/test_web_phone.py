"""Every page at a phone's width (390 px) in headless Chromium against the
`mirrorkeeper web` daemon on loopback: no rendered element reaches past
the right edge, content clipped inside a scrolling box included, and a
listing still shows each mirror's freshness and last probe.  Screenshots
at 390 and 1280 px are kept in the test's directory, and are not blank."""

from datetime import timedelta

import pytest

from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorPulseType, MirrorSpeed,
    MirrorStatus, PackagePublishingPocket)
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.site import SiteSet
from mirrorkeeper.publish.statistics import Statistics
from mirrorkeeper.timeutil import utcnow
from tests.cdp import Browser, chromium_path, distinct_colours
from tests.probe_findings import arch_place, findings, probed, source_place
from tests.test_web_browser import log_in
from tests.web_server import WebServer

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not "
                       "installed (.ci/run installs it)"),
    # One daemon and one browser for all the module's cases: starting them
    # costs more than the cases do (pyproject.toml's --dist loadgroup).
    pytest.mark.xdist_group("web-phone")]

PHONE = 390
DESKTOP = 1280
LONG_HOST = ("a-mirror-host-name-that-goes-on-and-on-without-a-break"
             ".example.org")
# Names as people give them: long, unbroken, in several scripts.
MIRRORS = [
    ("ufpr", "BR", "Universidade Federal do Paran\u00e1, Departamento de "
     "Inform\u00e1tica", MirrorFreshness.UP),
    ("longhost", "DE", "Mirror" + "x" * 60, MirrorFreshness.ONEWEEKBEHIND),
    ("tokyo", "JP", "\u6771\u4eac\u5927\u5b66\u30df\u30e9\u30fc",
     MirrorFreshness.SIXHOURSBEHIND),
    ("nairobi", "KE", "Nairobi", MirrorFreshness.UNKNOWN),
]


def populate(uri):
    """Official mirrors with every URL, records and probes of the last
    days (for the charts); a pending one; the probe record to read."""
    store = open_store(uri)
    ubuntu = DistributionSet(store).getByName("ubuntu")
    olive = PersonSet(store)["olive"]
    warty = ubuntu.getSeries("warty")
    main = warty.components[0]
    now = utcnow()
    record = None
    for name, country, title, band in MIRRORS:
        host = LONG_HOST if name == "longhost" else name + ".example.org"
        mirror = ubuntu.newMirror(
            olive, name, MirrorSpeed.S10G, CountrySet(store)[country],
            MirrorContent.ARCHIVE, MirrorPulseType.PULL, display_name=title,
            http_base_url="http://%s/ubuntu/" % host,
            https_base_url="https://%s/ubuntu/" % host,
            ftp_base_url="ftp://%s/ubuntu/" % host,
            rsync_base_url="rsync://%s/ubuntu/" % host,
            official_candidate=True, enabled=True)
        mirror.status = MirrorStatus.OFFICIAL
        for pocket in (PackagePublishingPocket.RELEASE,
                       PackagePublishingPocket.UPDATES):
            mirror.ensureMirrorDistroArchSeries(
                warty.getArch("i386"), pocket, main).freshness = band
        for days in range(6, -1, -1):
            record = probed(store, mirror, findings([
                arch_place(warty.getArch("i386"), main, freshness=band,
                           url="http://%s/ubuntu/dists/warty/main/"
                           "binary-i386/Packages.gz" % host),
                source_place(warty, main, freshness=band)]),
                "Probing %s at http://%s/ubuntu/\nDone\n" % (name, host),
                now - timedelta(days=days, hours=1))
    ubuntu.newMirror(
        olive, "waiting", MirrorSpeed.S1G, CountrySet(store)["PT"],
        MirrorContent.ARCHIVE, MirrorPulseType.PULL,
        http_base_url="http://waiting.example.pt/ubuntu/",
        official_candidate=True)
    # Two of them run by one site, whose name is long and unbroken, as is
    # its second admin's.
    team = PersonSet(store).newTeam("long-team", "Team" + "z" * 70)
    site = SiteSet(store).new("long-site", "Site" + "y" * 70, [olive, team])
    for mirror in ubuntu.mirrors:
        if mirror.name in ("ufpr", "longhost"):
            mirror.site = site
    store.commit()
    probe = (record.distribution_mirror.name, record.id)
    store.close()
    return probe


# One daemon and one browser for the module: the tests only read pages.
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("phone")
    server = WebServer(tmp_path).populate()
    server.probe = populate(server.database_uri)
    # The mirror list daemon's counts, where the web daemon reads them.
    folder = tmp_path / "var" / "mirrorlist-statistics"
    counts = Statistics(str(folder))
    for country, content, protocols in [
            ("BR", "apt/warty/i386", ("https", "http", "ftp")),
            ("DE", "metalink/warty/i386/" + "x" * 90, ("rsync",)),
            (None, "unknown", None)]:
        counts.record(country, content, 200, 1, protocols)
    counts.flush()
    # And counts of before the daemon counted protocols.
    (folder / (utcnow().strftime("%Y-%m-%d") + ".before.json")).write_text(
        '[{"country": "BR", "content": "apt/warty/i386", "requests": 2}]')
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    browser = Browser(str(tmp_path_factory.mktemp("chromium-profile")))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def site_admin(server, browser):
    """A page at 390 px and one at 1280 px, logged in as a site admin in a
    browser context of their own (the other tests browse anonymously)."""
    context = browser.new_context()
    phone = browser.new_page(PHONE, 800, context=context)
    desktop = browser.new_page(DESKTOP, 900, mobile=False, context=context)
    log_in(phone, server.url, "sita", "/")
    log_in(desktop, server.url, "sita", "/")
    return phone, desktop


@pytest.fixture(scope="module")
def screenshots(server):
    screenshots = server.tmp_path / "screenshots"
    screenshots.mkdir()
    return screenshots


# The rightmost edge of every rendered element, and which it is.
RIGHTMOST = """(() => {
  let right = 0, which = "";
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > right) {
      right = box.right;
      which = element.tagName + "." + element.className.baseVal +
        element.className + " " + (element.textContent || "").slice(0, 40);
    }
  }
  return [right, which];
})()"""


# Name -> path; {mirror} and {probe} are the probe record's.
PAGES = {
    "front": "", "distribution": "ubuntu",
    "listing": "ubuntu/+archivemirrors",
    "listing-by-name": "ubuntu/+archivemirrors?sort=name",
    "listing-by-site": "ubuntu/+archivemirrors?group=site",
    "listing-slowest-first": "ubuntu/+archivemirrors?sort=-speed",
    "listing-filtered": "ubuntu/+archivemirrors?country=DE&"
    "protocol=rsync&q=" + "x" * 20,
    "listing-bad": "ubuntu/+archivemirrors?sort=" + "y" * 80,
    "cd-listing": "ubuntu/+cdmirrors",
    "cd-listing-by-site": "ubuntu/+cdmirrors?group=site&sort=-name",
    "pending": "ubuntu/+pendingreviewmirrors",
    "disabled": "ubuntu/+disabledmirrors",
    "unofficial": "ubuntu/+unofficialmirrors",
    "propagation": "ubuntu/+propagation",
    "tiers": "ubuntu/+tiers", "announce": "ubuntu/+announce",
    "register": "ubuntu/+newmirror",
    "mirror": "ubuntu/+mirror/ufpr",
    "mirror-longhost": "ubuntu/+mirror/longhost",
    "edit": "ubuntu/+mirror/ufpr/+edit",
    "review": "ubuntu/+mirror/ufpr/+review",
    "delete": "ubuntu/+mirror/ufpr/+delete",
    "token": "ubuntu/+mirror/ufpr/+token",
    "upstream": "ubuntu/+mirror/ufpr/+upstream",
    "probe-log": "ubuntu/+mirror/{mirror}/+probe/{probe}",
    "sessions": "+sessions", "not-found": "ubuntu/+nothing",
    "statistics": "+statistics", "site": "+site/long-site",
}


SCREENSHOTS = {"front", "listing", "listing-filtered", "listing-by-site",
               "mirror", "mirror-longhost", "probe-log", "propagation",
               "register", "statistics"}


def too_wide(page):
    """What of the page's rendered elements ends past the phone's width:
    "" if nothing does."""
    right, which = page.evaluate(RIGHTMOST)
    if right > PHONE:
        return "%.1f px, %s" % (right, which)
    return ""


def test_the_login_form_fits_a_phones_width(server, browser):
    """At 390 px, before logging in, the login form's rightmost rendered
    element ends within the width."""
    phone = browser.new_page(PHONE, 800)
    phone.goto(server.url + "+login")
    assert too_wide(phone) == ""


@pytest.mark.parametrize("name", PAGES)
def test_nothing_reaches_past_a_phones_width(server, site_admin,
                                             screenshots, name):
    """At 390 px, as a site admin (who sees every page and every part of
    it): the rightmost rendered element of the page ends within the
    width."""
    mirror, probe = server.probe
    url = server.url + PAGES[name].format(mirror=mirror, probe=probe)
    phone, desktop = site_admin
    phone.goto(url)
    assert too_wide(phone) == ""
    if name in SCREENSHOTS:
        desktop.goto(url)
        for width, page in ((PHONE, phone), (DESKTOP, desktop)):
            png = page.screenshot()
            (screenshots / ("%s-%d.png" % (name, width))).write_bytes(png)
            # Text, links, badges and the header: many colours.
            assert len(distinct_colours(png)) > 20, (name, width)


def test_a_listing_on_a_phone_shows_freshness_and_last_probe(server,
                                                              browser):
    """Each row of the listing, at 390 px, shows the mirror's name, its
    freshness badge and when it was last probed, within the width."""
    phone = browser.new_page(PHONE, 800)
    phone.goto(server.url + "ubuntu/+archivemirrors")
    shown = phone.evaluate("""Array.from(document.querySelectorAll(
        "table.mirrors tbody tr")).map(row => ["c-mirror", "c-freshness",
        "c-probed"].map(cell => {
          const box = row.querySelector("td." + cell)
            .getBoundingClientRect();
          return box.width > 0 && box.height > 0 && box.left >= 0 &&
            box.right <= %d;
        }))""" % (PHONE,))
    assert len(shown) == len(MIRRORS) + 1         # And the sample's own.
    assert all(all(cells) for cells in shown), shown


def test_the_world_map_leads_to_a_countrys_section(server, browser):
    """At 1280 px, the listing's map shades the mirrors' countries; a
    click on one goes to its section of the listing."""
    page = browser.new_page(DESKTOP, 900, mobile=False)
    page.goto(server.url + "ubuntu/+archivemirrors")
    assert page.evaluate("""Array.from(document.querySelectorAll(
        "svg.map a")).map(a => a.getAttribute("href")).sort()""") == [
        "#c-AF", "#c-BR", "#c-DE", "#c-JP", "#c-KE"]
    page.evaluate("""document.querySelector('svg.map a[href="#c-JP"]')
        .dispatchEvent(new MouseEvent("click", {bubbles: true}))""")
    assert page.evaluate("location.hash") == "#c-JP"
    assert page.evaluate("""(() => {
        const box = document.getElementById("c-JP").getBoundingClientRect();
        return box.height > 0 && box.top >= 0 && box.top < 900; })()""")
