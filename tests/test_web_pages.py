"""The web site's pages, feeds, JSON API and metrics, over HTTP to the
real twisted.web site rendered in-process, on both database backends."""

import re
from datetime import timedelta

from lxml import etree

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorStatus, PackagePublishingPocket)
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web.feeds import MIRROR_NS
from tests.probe_findings import (
    arch_place, findings, probed, source_place)
from tests.web_harness import InProcessClient
from tests.web_harness import client, world  # noqa: F401

RELEASE = PackagePublishingPocket.RELEASE
UPDATES = PackagePublishingPocket.UPDATES


def stamp(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (
        when.microsecond // 1000)


def probe_log(name, when, carries):
    """A log as the prober writes it: `carries` is [(label, band name)]."""
    lines = ["%s Probing %s (Archive) at http://%s.example.org/ubuntu/"
             % (stamp(when), name, name)]
    for label, band in carries:
        lines.append("%s Carries %s: %s" % (
            stamp(when + timedelta(seconds=1)), label, band))
    lines.append("%s Done: %d requests" % (
        stamp(when + timedelta(seconds=2.5)), 2 * len(carries)))
    return "\n".join(lines) + "\n"


def official(world, name, country="BR", content=MirrorContent.ARCHIVE,
             **details):
    return world.mirror(name, status=MirrorStatus.OFFICIAL, enabled=True,
                        country=country, content=content, **details)


def carry(world, mirror, freshness, pocket=RELEASE, series="warty"):
    series = world.ubuntu.getSeries(series)
    main = series.components[0]
    record = mirror.ensureMirrorDistroArchSeries(series.getArch("i386"),
                                                 pocket, main)
    record.freshness = freshness
    world.store.commit()


def test_front_page_links_each_distribution_with_mirrors(client):
    """The front page links every distribution that has mirrors."""
    response = client.get("/")
    assert response.status == 200
    assert 'href="/ubuntu/"' in response.text
    assert '<meta name="viewport"' in response.text


def test_distribution_page_links_listings_feeds_and_api(client):
    """A distribution's page links its listings, feeds and API, and admin
    listings only for admins."""
    text = client.get("/ubuntu").text
    for path in ("+archivemirrors", "+cdmirrors", "+propagation",
                 "+archivemirrors-rss", "+cdmirrors-rss"):
        assert "/ubuntu/" + path in text
    assert "+pendingreviewmirrors" not in text
    client.login("adam")
    assert "+pendingreviewmirrors" in client.get("/ubuntu/").text


def test_archive_listing_groups_by_continent_and_country(world, client):
    """The archive listing groups official enabled mirrors by continent
    and country, each group with its count and summed bandwidth."""
    official(world, "br-one", bandwidth_mbps=1000)
    official(world, "br-two", bandwidth_mbps=2000)
    official(world, "de-one", country="DE", bandwidth_mbps=500)
    official(world, "br-cd", content=MirrorContent.RELEASE)
    world.mirror("br-pending")
    text = client.get("/ubuntu/+archivemirrors").text
    assert "<h3>Brazil <span class=\"count\">2 mirrors, 3 Gbps</span>" \
        in text
    assert "<h3>Germany <span class=\"count\">1 mirror, 500 Mbps</span>" \
        in text
    assert "South America <span class=\"count\">2 mirrors, 3 Gbps" in text
    assert "br-cd" not in text and "br-pending" not in text
    cd_text = client.get("/ubuntu/+cdmirrors").text
    assert "br-cd" in cd_text and "br-one" not in cd_text


def test_listing_shows_links_freshness_and_last_probe(world, client):
    """Each listed mirror has its links by scheme, a freshness badge in
    its colour and when it was last probed."""
    mirror = official(world, "fresh", https_base_url="https://f.example/u/",
                      rsync_base_url="rsync://f.example/u/")
    carry(world, mirror, MirrorFreshness.SIXHOURSBEHIND)
    when = utcnow().replace(microsecond=0) - timedelta(hours=3)
    mirror.newProbeRecord("probed\n", when)
    world.store.commit()
    text = client.get("/ubuntu/+archivemirrors").text
    assert '<a href="https://f.example/u/">https</a>' in text
    assert '<a href="rsync://f.example/u/">rsync</a>' in text
    assert '<span class="badge f-SIXHOURSBEHIND">Six hours behind</span>' \
        in text
    assert when.strftime("%Y-%m-%d %H:%M UTC") in text
    assert ".f-SIXHOURSBEHIND { background:" in \
        client.get("/+style.css").text


def test_admin_listings_are_for_mirror_admins(world, client):
    """Disabled, unofficial and pending-review listings send visitors to
    log in, refuse owners and show admins every such mirror."""
    world.mirror("waiting")
    world.mirror("let-down", status=MirrorStatus.UNOFFICIAL)
    pages = {"+pendingreviewmirrors": "waiting",
             "+unofficialmirrors": "let-down",
             "+disabledmirrors": "let-down"}
    for page in pages:
        response = client.get("/ubuntu/" + page)
        assert response.status == 303
        assert response.headers["location"].startswith("/+login?next=")
    client.login("olive")
    for page in pages:
        assert client.get("/ubuntu/" + page).status == 403
    for admin in ("adam", "sita"):
        client.login(admin)
        for page, name in pages.items():
            response = client.get("/ubuntu/" + page)
            assert response.status == 200 and name in response.text


def test_mirror_page_shows_records_and_logs_to_owner_and_admins(
        world, client):
    """A mirror's page shows its details and records to everyone, and its
    probe history with readable logs to its owner and admins only."""
    mirror = official(world, "detailed", description="Fast & near")
    carry(world, mirror, MirrorFreshness.UP)
    record = mirror.newProbeRecord(probe_log("detailed", utcnow(), [
        ("warty/i386 main RELEASE", "UP")]), duration_seconds=2.5)
    world.store.commit()
    page = "/ubuntu/+mirror/detailed"
    log_page = "%s/+probe/%d" % (page, record.id)
    text = client.get(page).text
    assert "Fast &amp; near" in text
    assert "<td>warty</td><td>i386</td><td>main</td><td>Release</td>" in text
    assert "Probe history" not in text
    assert client.get(log_page).status == 303
    client.login("oscar")
    assert "Probe history" not in client.get(page).text
    assert client.get(log_page).status == 403
    for viewer in ("olive", "adam", "sita"):
        client.login(viewer)
        text = client.get(page).text
        assert "Probe history" in text and "2.5 s" in text
        assert 'href="%s"' % log_page in text
        log = client.get(log_page)
        assert log.status == 200
        assert "Carries warty/i386 main RELEASE: UP" in log.text
    assert client.get(page + "/+probe/999999").status == 404


def test_propagation_counts_mirrors_now_and_on_past_days(world, client):
    """The propagation page counts mirrors at each freshness per series
    and pocket now, and on past days from what past probes found, as an
    SVG chart and a table."""
    now = utcnow()
    warty = world.ubuntu.getSeries("warty")
    main = warty.components[0]
    for index, band in enumerate(["UP", "UP", "ONEDAYBEHIND"]):
        mirror = official(world, "prop-%d" % index)
        carry(world, mirror, MirrorFreshness[band])
        when = now - timedelta(days=1, hours=1)
        probed(world.store, mirror, findings([
            arch_place(warty.getArch("i386"), main,
                       freshness=MirrorFreshness.TWODAYSBEHIND),
            source_place(warty, main, pocket=UPDATES)]),
            probe_log(mirror.name, when, []), when)
    world.store.commit()
    text = client.get("/ubuntu/+propagation").text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    release_row = re.search(r"<tr><td>Release</td>(.*?)</tr>", text).group(1)
    cells = re.findall(r'<td class="num">(\d+)</td>', release_row)
    # Up to date, ..., one day behind, ..., unknown (the sample's
    # valid-mirror, never probed): now.
    assert cells == ["2", "0", "0", "0", "1", "0", "0", "1"]
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    assert "<title>%s: 3 two days behind, 1 last update unknown</title>" \
        % yesterday in text
    # Updates carried a day ago and recorded nowhere today: its row is
    # there, for the past.
    assert "<title>%s: 3 up to date, 1 last update unknown</title>" \
        % yesterday in text
    assert "<title>now: 4 last update unknown</title>" in text


def test_rss_feeds_list_mirrors_with_place_bandwidth_and_last_probe(
        world, client):
    """The RSS feeds list each mirror with its title, link, bandwidth,
    continent, country and code, and its last probe as pubDate."""
    mirror = official(world, "rss-one", display_name="RSS One",
                      bandwidth_mbps=750)
    mirror.newProbeRecord("x\n", utcnow().replace(
        year=2030, month=1, day=2, hour=3, minute=4, second=5))
    official(world, "rss-cd", content=MirrorContent.RELEASE)
    response = client.get("/ubuntu/+archivemirrors-rss")
    assert response.headers["content-type"].startswith("application/rss+xml")
    channel = etree.fromstring(response.body).find("channel")
    items = {item.findtext("title"): item for item in channel.iter("item")}
    assert "rss-cd" not in items
    item = items["RSS One"]
    m = "{%s}" % MIRROR_NS
    assert item.findtext("link") == "http://rss-one.example.org/ubuntu/"
    assert item.findtext(m + "bandwidth") == "750"
    assert item.findtext(m + "continent") == "South America"
    assert item.findtext(m + "country") == "Brazil"
    assert item.findtext(m + "countrycode") == "BR"
    assert item.findtext("pubDate") == "Wed, 02 Jan 2030 03:04:05 GMT"
    cd = etree.fromstring(client.get("/ubuntu/+cdmirrors-rss").body)
    assert [i.findtext("title") for i in cd.iter("item")] == ["rss-cd"]


def test_api_lists_distributions(client):
    """GET /api/1/distributions names each distribution with its mirror
    counts."""
    (ubuntu,) = client.get("/api/1/distributions").json()["distributions"]
    assert ubuntu["name"] == "ubuntu"
    assert ubuntu["archive_mirrors"] == 1


def test_api_filters_mirrors(world, client):
    """GET /api/1/mirrors filters by distribution, country, content,
    status, freshness and enabled, and refuses a bad filter with 400."""
    fresh = official(world, "api-fresh", country="DE")
    carry(world, fresh, MirrorFreshness.UP)
    official(world, "api-cd", country="DE", content=MirrorContent.RELEASE)

    def names(query):
        response = client.get("/api/1/mirrors?" + query)
        assert response.status == 200, response.text
        return sorted(m["name"] for m in response.json()["mirrors"])
    assert names("country=DE") == ["api-cd", "api-fresh"]
    assert names("country=de&content=release") == ["api-cd"]
    assert names("freshness=up") == ["api-fresh"]
    assert names("status=pending-review&distribution=ubuntu") == [
        "new-mirror", "oscars-mirror"]
    assert "api-fresh" not in names("enabled=false")
    response = client.get("/api/1/mirrors?freshness=fresh")
    assert response.status == 400
    assert "choose one of up," in response.json()["error"]
    assert client.get("/api/1/mirrors?distribution=nope").status == 404


def test_api_mirror_has_records_and_last_probe(world, client):
    """GET /api/1/mirrors/NAME gives the mirror's records and its last
    probe with how long it took; an unknown name is 404 in JSON."""
    mirror = official(world, "api-one")
    carry(world, mirror, MirrorFreshness.TWOHOURSBEHIND, UPDATES)
    mirror.newProbeRecord(probe_log("api-one", utcnow(), []),
                          duration_seconds=2.5)
    world.store.commit()
    found = client.get("/api/1/mirrors/api-one").json()["mirror"]
    assert found["freshness"] == "twohoursbehind"
    assert found["arch_series"] == [{
        "series": "warty", "architecture": "i386", "pocket": "updates",
        "component": "main", "freshness": "twohoursbehind"}]
    assert found["last_probe_duration_seconds"] == 2.5
    missing = client.get("/api/1/mirrors/nope")
    assert missing.status == 404 and "error" in missing.json()


def test_api_status_gives_every_mirror_and_totals(world, client):
    """GET /api/1/status gives each mirror's freshness, whether it is
    listed and its last probe, with totals by freshness."""
    mirror = official(world, "status-one")
    carry(world, mirror, MirrorFreshness.UP)
    status = client.get("/api/1/status").json()
    entries = {entry["name"]: entry for entry in status["mirrors"]}
    assert entries["status-one"]["listed"] is True
    assert entries["status-one"]["freshness"] == "up"
    assert entries["new-mirror"]["listed"] is False
    assert entries["unreachable-mirror"]["last_probe"].endswith("Z")
    assert status["totals"]["up"] == 1
    assert sum(status["totals"].values()) == len(entries)


def test_unreachable_mirror_is_shown_and_not_listed(world, client):
    """A mirror the last trusted probe run could not reach says so on its
    page, in the API and in the metrics, and is not listed, although it is
    enabled and keeps its records."""
    mirror = official(world, "gone-dark")
    carry(world, mirror, MirrorFreshness.UP)
    mirror.failed_runs = 1
    world.store.commit()
    page = client.get("/ubuntu/+mirror/gone-dark").text
    assert "enabled, unreachable: the last probe could not reach it" in page
    entries = {entry["name"]: entry for entry in
               client.get("/api/1/status").json()["mirrors"]}
    assert entries["gone-dark"]["unreachable"] is True
    assert entries["gone-dark"]["listed"] is False
    assert entries["gone-dark"]["enabled"] is True
    one = client.get("/api/1/mirrors/gone-dark").json()["mirror"]
    assert one["unreachable"] is True
    metrics = client.get("/metrics").text
    assert 'mirrorkeeper_mirror_unreachable{distribution="ubuntu",' \
        'mirror="gone-dark"} 1' in metrics
    mirror.failed_runs = 0
    world.store.commit()
    entries = {entry["name"]: entry for entry in
               client.get("/api/1/status").json()["mirrors"]}
    assert entries["gone-dark"]["listed"] is True


def test_metrics_are_prometheus_text(world, client):
    """/metrics gives mirrors by status and freshness, last probe times
    and durations in Prometheus' text format."""
    mirror = official(world, "metric-one")
    mirror.newProbeRecord(probe_log("metric-one", utcnow(), []),
                          duration_seconds=2.5)
    world.store.commit()
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith(
        "text/plain; version=0.0.4")
    sample = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? [0-9.e+-]+$')
    for line in response.text.splitlines():
        assert line.startswith("# ") or sample.match(line), line
    # The client library writes labels in alphabetical order.
    assert 'mirrorkeeper_mirrors{content="archive",distribution="ubuntu",' \
        'freshness="unknown",listed="true",status="official"} 2.0' \
        in response.text
    assert 'mirrorkeeper_mirror_last_probe_duration_seconds{distribution=' \
        '"ubuntu",mirror="metric-one"} 2.5\n' in response.text


def test_login_and_logout(client):
    """A wrong password is refused; the right one logs in with an
    HttpOnly, SameSite=Lax cookie; logging out ends it."""
    wrong = client.post("/+login", {"login": "olive", "password": "nope"})
    assert wrong.status == 403 and "do not match" in wrong.text
    response = client.post("/+login", {"login": "olive@example.org",
                                       "password": "correct horse battery",
                                       "next": "/ubuntu/"})
    assert response.status == 303
    assert response.headers["location"] == "/ubuntu/"
    cookie = response.cookies[0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace(
        "Lax", "lax")
    assert "Olive" in client.get("/").text
    assert client.post("/+logout").status == 303
    assert "Log in" in client.get("/").text


def test_login_never_sends_people_off_site(client):
    """A login's next= that leads off the site goes to the front page."""
    response = client.post("/+login", {
        "login": "olive", "password": "correct horse battery",
        "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_session_ends_when_the_password_changes(world, client, store):
    """A new password ends the sessions made with the old one."""
    from mirrorkeeper.web.passwords import set_password
    client.login("olive")
    set_password(world.people["olive"], "another good password")
    store.commit()
    assert "Log in" in client.get("/").text


def test_forms_without_the_sessions_csrf_token_change_nothing(
        world, client, store):
    """A POST without its session's CSRF token, or with another
    session's, is refused and changes nothing."""
    client.login("olive")
    mirror = world.mirror("guarded")
    other = InProcessClient(store)
    for token in (None, "", other.csrf_token()):
        form = {"paused": "1"}
        if token is not None:
            form["csrf_token"] = token
        response = client.post("/ubuntu/+mirror/guarded/+pause", form,
                               csrf=False)
        assert response.status == 403
        assert "nothing was changed" in response.text
    store.rollback()
    assert mirror.owner_paused is False
    login = other.post("/+login", {"login": "olive",
                                   "password": "correct horse battery"},
                       csrf=False)
    assert login.status == 403


def test_hostile_names_are_escaped_everywhere(world, client):
    """A display name and description with markup come out as text in
    pages, feeds and JSON."""
    hostile = '<script>alert("x")</script>'
    mirror = official(world, "hostile", display_name=hostile,
                      description=hostile)
    mirror.whiteboard = hostile
    world.store.commit()
    client.login("adam")
    for path in ("/ubuntu/+archivemirrors", "/ubuntu/+mirror/hostile",
                 "/ubuntu/+mirror/hostile/+edit",
                 "/ubuntu/+mirror/hostile/+review"):
        text = client.get(path).text
        assert "<script>" not in text, path
        assert "&lt;script&gt;" in text, path
    feed = client.get("/ubuntu/+archivemirrors-rss")
    assert b"<script>" not in feed.body
    titles = [i.findtext("title") for i in etree.fromstring(
        feed.body).iter("item")]
    assert hostile in titles
    found = client.get("/api/1/mirrors/hostile").json()["mirror"]
    assert found["title"] == hostile


def test_pages_carry_security_headers(client):
    """Pages forbid framing, sniffing and inline scripts."""
    headers = client.get("/").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in headers["content-security-policy"]


def test_unknown_addresses_and_methods(client):
    """Unknown pages and mirrors are 404, a wrong method 405."""
    assert client.get("/nowhere").status == 404
    assert client.get("/ubuntu/+mirror/nope").status == 404
    assert client.get("/ubuntu/+nothing").status == 404
    assert client.request("POST", "/api/1/status", {}).status == 405


def test_registration_form_shows_errors_and_keeps_what_was_typed(
        world, client, store):
    """A registration the model refuses shows the form again with the
    message and the values typed, and registers nothing."""
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", {
        "name": "copycat", "http_base_url": "http://valid-mirror.example.org"
        "/ubuntu/", "display_name": "Copy Cat", "country": "BR",
        "speed": "S1G", "content": "ARCHIVE", "pulse_type": "PULL"})
    assert response.status == 400
    assert "already registered for the mirror valid-mirror" in response.text
    assert 'value="Copy Cat"' in response.text
    store.rollback()
    assert DistributionMirrorSet(store).getByName("copycat") is None


def test_registered_mirror_waits_disabled_and_review_records_who_and_when(
        world, client, store):
    """A registered mirror is its registrant's, PENDING_REVIEW and
    disabled; a review sets its status and whiteboard and records the
    reviewer and the date."""
    client.login("olive")
    response = client.post("/ubuntu/+newmirror", {
        "name": "fresh-start", "https_base_url": "https://fs.example.org/",
        "country": "PT", "speed": "S10G", "content": "ARCHIVE",
        "pulse_type": "PUSH", "official_candidate": "on"})
    assert response.headers["location"] == "/ubuntu/+mirror/fresh-start"
    store.rollback()
    mirror = DistributionMirrorSet(store)["fresh-start"]
    assert (mirror.owner.name, mirror.status, mirror.enabled) == (
        "olive", MirrorStatus.PENDING_REVIEW, False)
    client.login("adam")
    client.post("/ubuntu/+mirror/fresh-start/+review", {
        "status": "OFFICIAL", "whiteboard": "Checked the sync."})
    store.rollback()
    assert mirror.status is MirrorStatus.OFFICIAL
    assert mirror.whiteboard == "Checked the sync."
    assert mirror.reviewer.name == "adam"
    assert (utcnow() - mirror.date_reviewed) < timedelta(minutes=1)
