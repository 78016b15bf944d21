"""The cache of the mirror listings and /api/1/status: what it serves,
and what makes it compute the answer again."""

from datetime import timedelta

import pytest
from twisted.internet import defer

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
def client(store, world):
    return InProcessClient(store, WebSettings(cache_seconds=5))


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


def test_status_is_served_from_the_cache_while_nothing_changes(world,
                                                               client):
    """An answer is computed once and served again while the mirrors are
    as they were."""
    official(world, "cached-mirror")
    first = client.get("/api/1/status").json()
    assert client.get("/api/1/status").json() == first
    assert (client.app.answers.misses, client.app.answers.hits) == (1, 1)


def test_a_change_of_a_record_refreshes_the_status_at_once(world, client):
    """A content record changed in the database, with no probe record
    and not through the site, is in the next answer."""
    _, record = official(world, "changed-mirror")
    assert freshness(client, "changed-mirror") == "up"
    record.freshness = MirrorFreshness.ONEDAYBEHIND
    world.store.commit()
    assert freshness(client, "changed-mirror") == "onedaybehind"


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
    cache = AnswerCache()
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
    cache = AnswerCache()
    failed = cache.answer("key", 1, lambda: defer.fail(NotFoundError("no")))
    failed.addErrback(lambda failure: failure.trap(NotFoundError))
    assert cache.answer("key", 1, lambda: b"found").result == b"found"


def test_configuration_sets_what_shared_caches_are_told(tmp_path, store):
    """[web] cache_seconds is the max-age of the API's answers, 5 by
    default."""
    assert WebSettings.from_config(load_config(None)).cache_seconds == 5
    path = tmp_path / "mirrorkeeper.conf"
    path.write_text("[web]\ncache_seconds = 0.5\n")
    settings = WebSettings.from_config(load_config(str(path)))
    assert settings.cache_seconds == 0.5
    response = InProcessClient(store, settings).get("/api/1/status")
    assert response.headers["cache-control"] == "public, max-age=0"
