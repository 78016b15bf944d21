"""The short-lived cache of the mirror listings and /api/1/status: what
it serves, and what makes it compute the answer again."""

from datetime import timedelta

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from mirrorkeeper.config import load_config
from mirrorkeeper.enums import (
    MirrorFreshness, MirrorStatus, PackagePublishingPocket)
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web.answers import AnswerCache
from mirrorkeeper.web.app import WebSettings
from tests.web_harness import InProcessClient, World


@pytest.fixture
def world(store):
    return World(store)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(store, world, clock):
    client = InProcessClient(store, WebSettings(cache_seconds=5))
    client.app.answers.clock = clock
    return client


def official(world, name):
    """An official archive mirror carrying warty/i386 main, up to date."""
    mirror = world.mirror(name, status=MirrorStatus.OFFICIAL, enabled=True)
    series = world.ubuntu.getSeries("warty")
    record = mirror.ensureMirrorDistroArchSeries(
        series.getArch("i386"), PackagePublishingPocket.RELEASE,
        series.components[0])
    record.freshness = MirrorFreshness.UP
    world.store.commit()
    return mirror, record


def freshness(client, name):
    return {entry["name"]: entry["freshness"] for entry in client.get(
        "/api/1/status").json()["mirrors"]}[name]


def test_status_is_served_from_the_cache_until_it_expires(world, client,
                                                          clock):
    """A change no probe record shows is served stale until the cache's
    seconds have passed, then computed again."""
    _, record = official(world, "cached-mirror")
    assert freshness(client, "cached-mirror") == "up"
    record.freshness = MirrorFreshness.ONEDAYBEHIND
    world.store.commit()
    assert freshness(client, "cached-mirror") == "up"
    assert client.app.answers.hits == 1
    clock.advance(5)
    assert freshness(client, "cached-mirror") == "onedaybehind"


def test_a_recorded_probe_refreshes_the_answers_at_once(world, client):
    """A new probe record makes the status and the listing computed again
    before the cache's seconds are up."""
    mirror, record = official(world, "probed-mirror")
    assert freshness(client, "probed-mirror") == "up"
    assert "Up to date" in client.get("/ubuntu/+archivemirrors").text
    record.freshness = MirrorFreshness.ONEWEEKBEHIND
    mirror.newProbeRecord("a probe\n", utcnow() - timedelta(minutes=1))
    world.store.commit()
    assert freshness(client, "probed-mirror") == "oneweekbehind"
    listing = client.get("/ubuntu/+archivemirrors").text
    assert "More than two days behind" in listing and "Up to date" not in \
        listing.split("</p>", 2)[-1]


def test_a_new_mirror_refreshes_the_listing(world, client):
    """A mirror added since the listing was computed is in it at once."""
    official(world, "first-mirror")
    assert "second-mirror" not in client.get("/ubuntu/+archivemirrors").text
    official(world, "second-mirror")
    assert "second-mirror" in client.get("/ubuntu/+archivemirrors").text


def test_a_change_made_through_the_site_clears_the_cache(world, client):
    """A mirror paused by its owner through the site leaves the cached
    listing at once."""
    official(world, "paused-mirror")
    assert "paused-mirror" in client.get("/ubuntu/+archivemirrors").text
    client.login("olive")
    response = client.post("/ubuntu/+mirror/paused-mirror/+pause",
                           {"paused": "1"})
    assert response.status == 303
    assert "paused-mirror" not in \
        client.get("/ubuntu/+archivemirrors").text


def test_each_filter_has_its_own_answer(world, client):
    """?mirror= and ?distribution= are cached apart, and other parameters
    share the answer of the filters they go with."""
    official(world, "one-mirror")
    official(world, "two-mirror")
    one = client.get("/api/1/status?mirror=one-mirror").json()
    two = client.get("/api/1/status?mirror=two-mirror").json()
    assert [m["name"] for m in one["mirrors"]] == ["one-mirror"]
    assert [m["name"] for m in two["mirrors"]] == ["two-mirror"]
    again = client.get("/api/1/status?mirror=one-mirror&x=1").json()
    assert again == one
    assert client.get("/api/1/status?mirror=nothing").status == 404
    assert client.get("/api/1/status?distribution=nothing").status == 404


def test_cached_pages_are_the_uncached_pages(world, client, store):
    """A listing and the status served from the cache are byte for byte
    what the site computes without it."""
    official(world, "same-mirror")
    uncached = InProcessClient(store)
    for path in ("/ubuntu/+archivemirrors", "/ubuntu/+cdmirrors",
                 "/api/1/status?distribution=ubuntu"):
        client.get(path)
        cached, fresh = client.get(path), uncached.get(path)
        assert cached.status == fresh.status == 200
        if path.startswith("/api"):
            cached, fresh = cached.json(), fresh.json()
            cached.pop("generated"), fresh.pop("generated")
            assert cached == fresh
        else:
            assert cached.body == fresh.body
    assert client.app.answers.hits == 3


def test_admin_listing_is_refused_before_the_cache_is_asked(world, client):
    """A listing for mirror admins is refused to others even when an
    admin's request has it cached."""
    admin = InProcessClient(world.store, WebSettings(cache_seconds=5))
    admin.login("adam")
    assert admin.get("/ubuntu/+pendingreviewmirrors").status == 200
    assert client.get("/ubuntu/+pendingreviewmirrors").status in (403, 303)


def test_concurrent_misses_compute_once():
    """Requests that miss while an answer is being computed wait for that
    computation instead of starting their own."""
    cache = AnswerCache(5, Clock())
    computing = defer.Deferred()
    calls = []

    def compute():
        calls.append(1)
        return computing
    first = cache.answer("key", 1, compute)
    second = cache.answer("key", 1, compute)
    computing.callback(b"answer")
    assert [first.result, second.result] == [b"answer", b"answer"]
    assert cache.answer("key", 1, compute).result == b"answer"
    assert len(calls) == 1


def test_failures_are_not_kept():
    """A computation that fails is tried again by the next request."""
    cache = AnswerCache(5, Clock())
    failed = cache.answer("key", 1, lambda: defer.fail(NotFoundError("no")))
    failed.addErrback(lambda failure: failure.trap(NotFoundError))
    assert cache.answer("key", 1, lambda: b"found").result == b"found"


def test_a_clear_during_a_computation_keeps_nothing():
    """An answer whose computation began before the cache was cleared is
    given to its requests but not kept."""
    cache = AnswerCache(5, Clock())
    computing = defer.Deferred()
    first = cache.answer("key", 1, lambda: computing)
    cache.clear()
    computing.callback(b"old")
    assert first.result == b"old"
    assert cache.answer("key", 1, lambda: b"new").result == b"new"


def test_zero_seconds_keeps_nothing():
    """With cache_seconds 0 every request computes its answer."""
    cache = AnswerCache(0, Clock())
    assert cache.answer("key", 1, lambda: b"one").result == b"one"
    assert cache.answer("key", 1, lambda: b"two").result == b"two"


def test_configuration_sets_the_seconds(tmp_path):
    """[web] cache_seconds sets the cache's seconds, 5 by default."""
    assert WebSettings.from_config(load_config(None)).cache_seconds == 5
    path = tmp_path / "mirrorkeeper.conf"
    path.write_text("[web]\ncache_seconds = 0.5\n")
    assert WebSettings.from_config(load_config(str(path))).cache_seconds \
        == 0.5


def summary(name, title, url, **changes):
    from datetime import datetime
    from mirrorkeeper.enums import MirrorContent, MirrorSpeed
    from mirrorkeeper.web.queries import MirrorSummary
    values = dict(
        id=1, name=name, title=title, display_name=title,
        distribution="ubu&ntu", content=MirrorContent.ARCHIVE,
        status=MirrorStatus.OFFICIAL, official_candidate=True,
        enabled=True, owner_paused=False, owner="olive",
        country_code="BR", country_name="Bra<zil>", continent_code="SA",
        continent_name="South \"America\"", http_url=url, https_url=None,
        ftp_url="ftp://x.example.org/a&b", rsync_url=None, speed="1 Gbps",
        speed_item=MirrorSpeed.S1G,
        bandwidth_mbps=1000, freshness=MirrorFreshness.TWODAYSBEHIND,
        last_probe=datetime(2025, 1, 5, 10, 0), date_created=datetime(
            2024, 1, 1))
    values.update(changes)
    return MirrorSummary(**values)


def test_a_kept_listing_is_the_listing_rendered_from_its_tags():
    """A listing body kept as Flattened and put in a page is byte for byte
    the page rendered from the listing's tags, hostile names and URLs
    escaped."""
    from mirrorkeeper.web import listing_pages
    from mirrorkeeper.web.layout import Flattened, html_page
    from mirrorkeeper.web.policy import Viewer
    summaries = [
        summary("plain", "Plain mirror", "http://plain.example.org/"),
        summary("ho&stile",
                "<script>alert(\"x\")</script> & 'co' \u00e9\u2603",
                'http://h.example.org/?a="b"&c=<d>', enabled=False,
                owner_paused=True, last_probe=None, country_name="Chile"),
        summary("none", "", None, ftp_url=None, status=MirrorStatus.BROKEN),
    ]
    for groups in (summaries, []):
        for show_status in (False, True):
            body = listing_pages.listing(
                "Ubuntu <&>", "Archive mirrors", "/u/+archivemirrors",
                groups, listing_pages.ListingView(), show_status)
            page = html_page("<title>", Viewer(), "token", *body)
            assert html_page("<title>", Viewer(), "token",
                             Flattened(body)) == page
            assert b"<script>" not in page
            if groups:
                assert b"&lt;script&gt;alert" in page
                assert b'href="http://h.example.org/?a=&quot;b&quot;&amp;' \
                    b'c=&lt;d&gt;"' in page


def test_a_listing_is_served_as_kept_until_the_seconds_pass(world, client,
                                                            clock):
    """A change the cache's version does not see (a mirror renamed by
    another process) leaves the listing's bytes as they were until the
    cache's seconds have passed; then the listing shows it."""
    mirror, _ = official(world, "renamed-mirror")
    mirror.display_name = "Before the change"
    world.store.commit()
    first = client.get("/ubuntu/+archivemirrors")
    assert "Before the change" in first.text
    mirror.display_name = "After the change"
    world.store.commit()
    clock.advance(4.9)
    assert client.get("/ubuntu/+archivemirrors").body == first.body
    clock.advance(0.1)
    later = client.get("/ubuntu/+archivemirrors").text
    assert "After the change" in later and "Before the change" not in later
