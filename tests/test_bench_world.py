"""The benchmark harness's own parts: the seeded world, the farm serving it,
and the lower-bound arithmetic.  No timing is asserted here."""

import http.client
import socket
from datetime import datetime

import pytest

from bench.farm import Farm
from bench.world import (
    ARCHIVE_SHAPE, BASE_PATH, World, build_database, generate_world,
    lower_bound)
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.prober.plan import plan_archive_mirrors

NOW = datetime(2026, 3, 1, 12, 0, 0)


def world_of(mirrors=20, seed=3, port=8080):
    return generate_world("quick", mirrors=mirrors, seed=seed, port=port,
                          now=NOW)


def test_same_seed_same_world():
    assert world_of().to_json() == world_of().to_json()
    assert world_of(seed=4).to_json() != world_of().to_json()


def test_first_mirrors_of_a_bigger_world_are_the_same_mirrors():
    assert world_of(200).mirrors[:20] == world_of(20).mirrors


def test_world_round_trips_through_json():
    world = world_of()
    assert World.from_json(world.to_json()).description == world.description


def test_every_behaviour_occurs_in_a_large_world():
    behaviours = {m["behaviour"] for m in world_of(500).mirrors}
    assert behaviours == {"fresh", "behind", "partial", "slow", "flaky",
                          "redirecting", "empty", "refusing", "dead"}


def test_mirror_has_its_own_loopback_address_and_details():
    world = world_of(300)
    addresses = [m["address"] for m in world.mirrors]
    assert len(set(addresses)) == len(addresses)
    assert all(a.startswith("127.") for a in addresses)
    for mirror in world.mirrors:
        assert mirror["netblocks"] and mirror["asn"] > 0
        assert mirror["bandwidth_mbps"] > 0 and mirror["latency"] > 0
        if mirror["behaviour"] == "redirecting":
            moved = world.mirror(mirror["name"] + "-moved")
            assert moved["behaviour"] == "fresh"
            assert moved["address"] == mirror["moved_to"]
            assert moved["address"] not in addresses


def by_behaviour(world, behaviour):
    return next(m for m in world.mirrors if m["behaviour"] == behaviour)


def test_expected_records_follow_the_behaviour():
    world = world_of(200)
    places = world.probed_places()
    fresh = world.expected_records(by_behaviour(world, "fresh"), NOW)
    assert set(fresh) == set(places)
    redirecting = by_behaviour(world, "redirecting")
    assert world.expected_records(redirecting, NOW) == fresh
    for behaviour in ("empty", "refusing", "dead"):
        assert world.expected_records(by_behaviour(world, behaviour),
                                      NOW) == {}
    partial = world.expected_records(by_behaviour(world, "partial"), NOW)
    assert 0 < len(partial) < len(places)
    # A mirror far behind carries every index but none of the uploads
    # checked: each place with uploads is a week or more behind, and only
    # a place without any is of unknown freshness.
    far_behind = dict(by_behaviour(world, "fresh"), lag_hours=1000)
    assert world.expected_records(far_behind, NOW) == {
        place: "ONEWEEKBEHIND" if any(
            published <= NOW for published, _ in
            world.place_uploads.get(place, ())) else "UNKNOWN"
        for place in places}


def test_the_prober_plans_what_the_world_describes(store):
    """The plans made from the database ask exactly for the index files of
    the world's probed places and the uploads that tell their freshness."""
    # Two days of history keep the database small.
    world = generate_world("quick", mirrors=5, seed=3, now=NOW,
                           shape=dict(ARCHIVE_SHAPE, weeks=2 / 7))
    build_database(world, store)
    mirrors = DistributionMirrorSet(store)
    plans = plan_archive_mirrors(store, [mirrors[m["name"]]
                                         for m in world.mirrors], when=NOW)
    assert len(plans) == 5
    plan, mirror = plans[0], world.mirrors[0]
    assert plan.base_url == world.base_url(mirror)
    base = world.base_url(mirror)
    assert {check.control_url for check in plan.content_checks} == {
        base + world.index_path(place) for place in world.probed_places()}
    freshness = {url for check in plan.content_checks
                 for url in check.freshness_urls.values()}
    assert freshness
    assert all(url[len(base):] in world.pool_files for url in freshness)


def head(address, port, target, connection=None):
    connection = connection or http.client.HTTPConnection(address, port,
                                                          timeout=5)
    connection.request("HEAD", target)
    response = connection.getresponse()
    response.read()
    return connection, response


@pytest.fixture(scope="module")
def running_farm(tmp_path_factory):
    """The farm of one mirror of each behaviour, started once for the
    module's farm tests (they share one xdist worker)."""
    tmp_path = tmp_path_factory.mktemp("bench-farm")
    world = world_of(9, port=_free_port())
    kinds = ["fresh", "behind", "partial", "slow", "flaky", "redirecting",
             "empty", "refusing", "dead"]
    for mirror, kind in zip(world.mirrors, kinds):
        mirror["behaviour"] = kind
        mirror["latency"] = 0.001
        mirror.pop("carries", None)
        mirror.pop("moved_to", None)
        mirror.pop("lag_hours", None)
    world.mirrors[1]["lag_hours"] = 30.0
    world.mirrors[2]["carries"] = {
        "series": [s["name"] for s in world.series],
        "architectures": ["amd64", "source"], "components": ["main"]}
    world.mirrors[5]["moved_to"] = "127.78.0.6"
    world = World(world.description)
    path = tmp_path / "world.json"
    path.write_text(world.to_json())
    with Farm(str(path), workers=2, log_dir=str(tmp_path)) as running:
        yield world, running


@pytest.fixture
def farm(running_farm):
    """The running farm, its counters at zero."""
    world, running = running_farm
    running.reset()
    return world, running


# The farm tests share the module's farm: one worker runs them all.
on_the_farm = pytest.mark.xdist_group("bench-farm")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.77.0.1", 0))
        return s.getsockname()[1]


@on_the_farm
def test_farm_answers_head_from_the_behaviour_table(farm):
    world, running = farm
    targets = [BASE_PATH + world.index_path(place)
               for place in world.probed_places()[:12]]
    targets += [BASE_PATH + path for path in list(world.pool_files)[::97]]
    targets += [BASE_PATH + "no/such/file", "/elsewhere"]
    for mirror in world.mirrors:
        if mirror["behaviour"] in ("refusing", "dead"):
            continue
        connection = None
        for target in targets:
            connection, response = head(mirror["address"], world.port,
                                        target, connection)
            status, location = world.answer(mirror, target)
            assert response.status == status, (mirror["behaviour"], target)
            assert response.getheader("Location") == location
        connection.close()
    stats = running.stats()
    fresh = stats["mirrors"][world.mirrors[0]["name"]]
    # One connection carried every request: the farm keeps connections
    # alive.
    assert fresh == [len(targets), len(targets), 0, 1]


@on_the_farm
def test_farm_statuses_differ_by_behaviour(farm):
    world, _ = farm
    fresh, behind, partial, slow, flaky, redirecting, empty = \
        world.mirrors[:7]
    index = BASE_PATH + "dists/%s/universe/binary-arm64/Packages.gz" % (
        world.series[-1]["name"])
    assert head(fresh["address"], world.port, index)[1].status == 200
    assert head(partial["address"], world.port, index)[1].status == 404
    assert head(empty["address"], world.port, index)[1].status == 404
    moved = head(redirecting["address"], world.port, index)[1]
    assert moved.status == 302
    assert moved.getheader("Location") == "http://127.78.0.6:%d%s" % (
        world.port, index)
    assert head("127.78.0.6", world.port, index)[1].status == 200
    newest = min(world.pool_files.items(), key=lambda i: NOW - i[1][1])[0]
    assert head(fresh["address"], world.port,
                BASE_PATH + newest)[1].status == 200
    assert head(behind["address"], world.port,
                BASE_PATH + newest)[1].status == 404
    statuses = {head(flaky["address"], world.port,
                     BASE_PATH + path)[1].status
                for path in list(world.pool_files)[:60]}
    assert 503 in statuses


@on_the_farm
def test_farm_refuses_and_hangs(farm):
    world, running = farm
    refusing, dead = world.mirrors[7], world.mirrors[8]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((refusing["address"], world.port),
                                 timeout=5)
    with socket.create_connection((dead["address"], world.port),
                                  timeout=5) as s:
        s.sendall(b"HEAD /ubuntu/ HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(0.3)
        with pytest.raises(socket.timeout):
            s.recv(100)
        assert running.stats()["mirrors"][dead["name"]][:3] == [1, 0, 1]


def test_lower_bound_arithmetic():
    hosts = {
        # 10 answers of 0.1 s, two at a time: 5 rounds, 0.5 s.
        "a": (10, 0.1, 0, 1.0),
        # 3 answers of 0.2 s: 2 rounds, 0.4 s; 3 hung: 2 timeouts, 2 s.
        "b": (3, 0.2, 3, 1.0),
    }
    bound = lower_bound(hosts, max_parallel=100, per_host=2)
    assert bound["host"] == pytest.approx(2.4)
    assert bound["slowest_host"] == "b"
    # All request time (1.0 + 0.6 + 3.0 s) over 100 in flight.
    assert bound["global"] == pytest.approx(0.046)
    assert bound["seconds"] == pytest.approx(2.4)
    # With one request in flight at a time the global bound wins.
    assert lower_bound(hosts, max_parallel=1, per_host=2)["seconds"] == \
        pytest.approx(4.6)
