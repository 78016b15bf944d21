"""A redirect for a pool file offers only mirrors that synced after the file
was published on the master, whatever the list's freshness threshold: the
snapshot's pool (built on both backends), the rule, and curl following the
daemon's redirects to real mirrors on loopback."""

import os
import random
import time
from datetime import timedelta

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web import server, static
from zope.component import getUtility

from mirrorkeeper.enums import (
    BinaryPackageFileType, MirrorFreshness as F, PackagePublishingPocket as P)
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet)
from mirrorkeeper.model.publishing import PublishingSet
from mirrorkeeper.publish.selection import (
    Client, Request, file_requirement, index_snapshot, select)
from mirrorkeeper.publish.geoip import parse_address
from mirrorkeeper.publish.poolfacts import (
    PoolFacts, pool_facts_path, write_pool_facts)
from mirrorkeeper.publish.snapshot import POOL_WINDOW, build_snapshot
from mirrorkeeper.timeutil import utcnow
from tests.mirrorlist_daemon import DaemonTestMixin, header
from tests.mirrorlist_snapshots import mirror as any_mirror, snapshot
from tests.test_publish_snapshot import add_mirror
from tests.test_publish_clients import run

NEW = "pool/main/h/hello/hello_1.0-3_amd64.deb"
OLD = "pool/main/h/hello/hello_1.0-1_amd64.deb"
DAY = 24 * 3600


def mirror(name, country, **fields):
    """A mirror of the one place of these snapshots: stable/amd64."""
    return any_mirror(name, country, places=[0], repositories=(), **fields)


def test_snapshot_carries_pool_files_and_when_mirrors_were_probed(
        sample_store):
    """The snapshot lists a file first published an hour ago with its places;
    not one first published 20 days ago, even if published again since; and
    each probed mirror's probe time and measured lag."""
    store = sample_store
    now = utcnow()
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    warty = ubuntu.getSeries("warty")
    i386 = warty.getArch("i386")
    main = getUtility(IComponentSet)["main"]
    de = add_mirror(ubuntu, "de-mirror")
    de.ensureMirrorDistroArchSeries(i386, P.RELEASE, main).freshness = F.UP
    de.ensureMirrorDistroArchSeries(i386, P.UPDATES, main).freshness = F.UP
    add_mirror(ubuntu, "unprobed").ensureMirrorDistroArchSeries(
        i386, P.RELEASE, main).freshness = F.UP
    publishing = PublishingSet(store)

    def publish(version, pocket, age):
        publishing.publishBinary(
            i386, main, pocket, "hello", version,
            [("hello_%s_amd64.deb" % version, BinaryPackageFileType.DEB,
              100, "0" * 64)], now - age)

    publish("1.0-3", P.RELEASE, timedelta(hours=1))
    publish("1.0-3", P.UPDATES, timedelta(minutes=10))
    publish("1.0-1", P.RELEASE, timedelta(days=20))
    publish("1.0-1", P.UPDATES, timedelta(hours=2))
    store.flush()
    probed = now - timedelta(minutes=5)
    store.execute("INSERT INTO mirror_probe_record (distribution_mirror, "
                  "log, date_created) VALUES (?, ?, ?)", (de.id, "", probed))
    store.execute("INSERT INTO mirror_freshness_check (distribution_mirror, "
                  "detector, label, freshness, lag_seconds, note, "
                  "date_checked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (de.id, "trace", "project/trace/master",
                   F.ONEHOURBEHIND.value, 4000, "", probed))
    store.commit()
    built = build_snapshot(store, ubuntu, now=now)
    places = [tuple(place) for place in built["places"]]
    published, where = built["pool"][NEW]
    assert abs(published - (time.time() - 3600)) < 120
    assert sorted(places[i] for i in where) == [
        ("warty", "i386", "main", "release"),
        ("warty", "i386", "main", "updates")]
    assert OLD not in built["pool"]
    assert abs(built["pool_since"] - (time.time() - POOL_WINDOW)) < 120
    mirrors = {m["name"]: m for m in built["mirrors"]}
    assert abs(mirrors["de-mirror"]["probed"] - (time.time() - 300)) < 120
    assert mirrors["de-mirror"]["lag"] == 4000
    assert "probed" not in mirrors["unprobed"]


def pool_world(now):
    """A fresh mirror, one two days behind, one up to date but probed
    before the new file was published, and one never probed."""
    return snapshot([
        mirror("fresh", "DE", freshness=F.UP.value, probed=now - 60),
        mirror("behind", "DE", freshness=F.TWODAYSBEHIND.value,
               probed=now - 60),
        mirror("early", "DE", freshness=F.UP.value, probed=now - 2 * 3600),
        mirror("unprobed", "DE", freshness=F.UP.value)],
        places=[["stable", "amd64", "main", "release"]]) | {
        "pool": {NEW: [now - 3600, [0]]}, "pool_since": now - 8 * DAY}


def test_only_mirrors_synced_after_the_file_are_offered():
    """At a week's threshold a file published an hour ago is offered by the
    mirror up to date at its probe a minute ago only; an older file by every
    mirror whose worst lag is known; other paths by all."""
    now = int(time.time())
    index = index_snapshot(pool_world(now), F.ONEWEEKBEHIND)
    german = Client(parse_address("192.0.2.1"), "DE")

    def offered(path):
        return sorted(c.mirror.name for c in select(
            index, german, Request(("archive",),
                                   since=file_requirement(index, path)),
            random.Random(0)))

    assert offered(NEW) == ["fresh"]
    assert offered(OLD) == ["behind", "early", "fresh"]
    assert offered("dists/stable/Release") == [
        "behind", "early", "fresh", "unprobed"]
    # A detector's measured lag counts over the place's band.
    world = pool_world(now)
    world["mirrors"][0]["lag"] = 2 * 3600
    index = index_snapshot(world, F.ONEWEEKBEHIND)
    assert offered(NEW) == []
    # A snapshot without a pool does not filter.
    world = pool_world(now)
    del world["pool"]
    index = index_snapshot(world, F.ONEWEEKBEHIND)
    assert file_requirement(index, NEW) is None


def test_a_pool_file_the_snapshot_never_knew_goes_to_the_fallback(
        tmp_path):
    """A pool file in neither the snapshot's pool nor its facts was
    published after the snapshot was built (or never): no mirror can be
    known to have it, so none is offered, and the redirect goes to the
    fallback.  An older file the facts know goes to every mirror synced
    in the pool's window; facts that cannot be read leave the window to
    decide."""
    now = int(time.time())
    index = index_snapshot(pool_world(now), F.ONEWEEKBEHIND)
    german = Client(parse_address("192.0.2.1"), "DE")
    newest = "pool/main/h/hello/hello_1.0-4_amd64.deb"
    path = str(tmp_path / "snapshot.json")
    write_pool_facts(path, index.serial, "ubuntu",
                     [(NEW, 10, "a" * 64), (OLD, 10, "b" * 64)])
    index.pool_facts = PoolFacts.open(path, index.serial, "ubuntu")

    def offered(path):
        return sorted(c.mirror.name for c in select(
            index, german, Request(("archive",),
                                   since=file_requirement(index, path)),
            random.Random(0)))

    assert offered(newest) == []
    assert offered(OLD) == ["behind", "early", "fresh"]
    assert offered(NEW) == ["fresh"]
    os.unlink(pool_facts_path(path, index.serial))
    index.pool_facts = PoolFacts.open(path, index.serial, "ubuntu")
    assert index.pool_facts.problem is not None
    assert offered(newest) == ["behind", "early", "fresh"]


class CurlPoolFileTests(DaemonTestMixin, unittest.TestCase):
    """curl against the daemon, with mirrors and a master on loopback."""

    timeout = 30

    def serve(self, name, files):
        folder = os.path.join(self.www, name)
        for path in files:
            os.makedirs(os.path.dirname(os.path.join(folder, path)),
                        exist_ok=True)
            with open(os.path.join(folder, path), "wb") as f:
                f.write(b"the contents of %s\n" % path.encode())
        port = reactor.listenTCP(0, server.Site(static.File(folder)),
                                 interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return "http://127.0.0.1:%d/" % (port.getHost().port,)

    def setUp(self):
        self.www = os.path.abspath(self.mktemp())
        self.fresh = self.serve("fresh", [NEW, OLD])
        self.behind = self.serve("behind", [OLD])
        self.master = self.serve("master", [NEW, OLD])
        self.now = int(time.time())

    def world(self, with_fresh=True):
        now = self.now
        mirrors = [mirror("behind", "DE", freshness=F.TWODAYSBEHIND.value,
                          probed=now - 60, urls={"http": self.behind})]
        if with_fresh:
            mirrors.append(mirror("fresh", "DE", freshness=F.UP.value,
                                  probed=now - 60,
                                  urls={"http": self.fresh}))
        return snapshot(mirrors, places=[
            ["stable", "amd64", "main", "release"]]) | {
            "pool": {NEW: [now - 3600, [0]]}, "pool_since": now - 8 * DAY}

    def start(self, **world):
        return self.start_daemon(
            self.world(**world), fallback=self.master,
            extra_config="freshness_threshold = oneweekbehind\n")

    @defer.inlineCallbacks
    def curl(self, path):
        target = self.mktemp()
        code, output = yield run("/usr/bin/curl", "-sSfL", "-o", target,
                                 self.base_url + "/redirect/" + path)
        return code, output, target

    @defer.inlineCallbacks
    def test_new_file_from_the_fresh_mirror_only(self):
        """curl gets a file published an hour ago from the fresh mirror on
        every try, with no Link to the mirror two days behind (which would
        answer 404); an old file may come from either."""
        yield self.start()
        # What the test guards against: the mirror behind lacks the file.
        code, _ = yield run("/usr/bin/curl", "-sSf", "-o", os.devnull,
                            self.behind + NEW)
        self.assertNotEqual(code, 0)
        _, body = yield self.get("/mirrors.txt")
        self.assertIn(self.behind.encode(), body)
        for _ in range(5):
            code, output, target = yield self.curl(NEW)
            self.assertEqual(code, 0, output)
            with open(target, "rb") as f:
                self.assertEqual(f.read(), b"the contents of %s\n"
                                 % NEW.encode())
            response, _ = yield self.get("/redirect/" + NEW)
            self.assertEqual(header(response, b"location"),
                             (self.fresh + NEW).encode())
            self.assertIsNone(response.headers.getRawHeaders(b"link"))
        response, _ = yield self.get("/redirect/" + OLD)
        offered = [header(response, b"location")] + \
            (response.headers.getRawHeaders(b"link") or [])
        self.assertEqual(len(offered), 2)
        self.assertTrue(any(self.behind.encode() in value
                            for value in offered))

    @defer.inlineCallbacks
    def test_master_when_no_mirror_synced_after_the_file(self):
        """With only the mirror two days behind, curl is sent to the master for
        the new file, and to the mirror for the old one."""
        yield self.start(with_fresh=False)
        response, _ = yield self.get("/redirect/" + NEW)
        self.assertEqual(header(response, b"location"),
                         (self.master + NEW).encode())
        code, output, target = yield self.curl(NEW)
        self.assertEqual(code, 0, output)
        response, _ = yield self.get("/redirect/" + OLD)
        self.assertEqual(header(response, b"location"),
                         (self.behind + OLD).encode())
