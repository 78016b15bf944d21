"""The pool files' facts beside the snapshot (issue 17 section 3, issue 15):
the generator writes them to the SQLite file of the snapshot's serial, not
to its JSON; the daemon, as its own process, answers pool file metalinks
from that file, and when the file is missing, corrupt or of another
snapshot answers them 503 with a log line saying why while everything else
serves."""

import os
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from lxml import etree
from zope.component import getUtility

from mirrorkeeper.enums import BinaryPackageFileType, PackagePublishingPocket
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet)
from mirrorkeeper.model.publishing import PublishingSet
from mirrorkeeper.publish.formats import METALINK4_NS
from mirrorkeeper.publish.poolfacts import (
    PoolFacts, PoolFactsError, pool_facts_path, write_master_pool_facts,
    write_pool_facts)
from mirrorkeeper.publish.snapshot import build_snapshot, write_snapshot
from mirrorkeeper.timeutil import utcnow
from tests.mirrorlist_snapshots import mirror, snapshot
from tests.test_publish_daemon_process import BIN, free_port

NEW = "pool/main/h/hello/hello_1.0-3_amd64.deb"
OLD = "pool/main/h/hello/hello_1.0-1_amd64.deb"
RELEASE = "dists/noble/Release"
FACTS = [(NEW, 1234, "a" * 64), (OLD, 1200, "b" * 64)]


def test_facts_written_and_read(tmp_path):
    """The facts file holds each path once (the first given), is found by the
    snapshot's path and serial, and answers a look-up per path."""
    path = str(tmp_path / "snapshot.json")
    count = write_pool_facts(path, 4, "ubuntu",
                             FACTS + [(NEW, 1, "c" * 64)])
    assert count == 2
    assert os.path.exists(path + ".pool-4.sqlite")
    facts = PoolFacts.open(path, 4, "ubuntu")
    assert facts.problem is None
    assert facts.versions(NEW) == [{"size": 1234, "sha256": "a" * 64}]
    assert facts.versions("pool/main/o/other.deb") is None
    # No temporary file is left beside it.
    assert sorted(os.listdir(tmp_path)) == ["snapshot.json.pool-4.sqlite"]


def test_older_facts_are_removed(tmp_path):
    """Writing serial N keeps N and N - 1 (daemons may still serve it) and
    removes older ones; another snapshot's facts are left alone."""
    path = str(tmp_path / "snapshot.json")
    other = str(tmp_path / "other.json")
    write_pool_facts(other, 1, "debian", FACTS)
    for serial in (1, 2, 3):
        write_pool_facts(path, serial, "ubuntu", FACTS)
    assert sorted(os.listdir(tmp_path)) == [
        "other.json.pool-1.sqlite", "snapshot.json.pool-2.sqlite",
        "snapshot.json.pool-3.sqlite"]


def test_a_failed_write_leaves_nothing(tmp_path):
    """Facts whose rows fail half way leave no file, temporary or final, and
    the previous serial's facts untouched."""
    path = str(tmp_path / "snapshot.json")
    write_pool_facts(path, 1, "ubuntu", FACTS)

    def rows():
        yield FACTS[0]
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        write_pool_facts(path, 2, "ubuntu", rows())
    assert os.listdir(tmp_path) == ["snapshot.json.pool-1.sqlite"]


@pytest.mark.parametrize("damage, problem", [
    ("missing", "are missing"),
    ("garbage", "are corrupt"),
    ("truncated", "are corrupt"),
    ("other serial", "are of snapshot 1 of ubuntu, not of snapshot 2 of "
     "ubuntu"),
    ("other distribution", "are of snapshot 2 of debian, not of snapshot 2 "
     "of ubuntu"),
])
def test_unusable_facts_say_why(tmp_path, damage, problem):
    """Facts missing, not SQLite, truncated, or of another serial or
    distribution open as PoolFacts whose problem says so, and whose look-ups
    raise it."""
    path = str(tmp_path / "snapshot.json")
    damaged(path, damage)
    facts = PoolFacts.open(path, 2, "ubuntu")
    assert problem in facts.problem
    with pytest.raises(PoolFactsError) as raised:
        facts.versions(NEW)
    assert problem in str(raised.value)


def damaged(path, damage):
    """Make the facts of snapshot 2 at `path` missing or unusable."""
    target = pool_facts_path(path, 2)
    if damage == "garbage":
        with open(target, "wb") as f:
            f.write(b"not a database, " * 512)
    elif damage == "truncated":
        write_pool_facts(path, 2, "ubuntu", (
            ("pool/main/p/p%d/p%d_1_amd64.deb" % (n, n), n, "%064x" % n)
            for n in range(20000)))
        with open(target, "r+b") as f:
            f.truncate(os.path.getsize(target) // 2)
    elif damage == "other serial":
        write_pool_facts(path, 1, "ubuntu", FACTS)
        os.replace(pool_facts_path(path, 1), target)
    elif damage == "other distribution":
        write_pool_facts(path, 2, "debian", FACTS)


def test_generator_writes_pool_files_to_the_facts_only(sample_store,
                                                       tmp_path):
    """Of a distribution with published pool files the snapshot's JSON lists
    none, says it has pool facts, and the facts file of its serial has each
    with the size and SHA-256 the master's index gave."""
    store = sample_store
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    i386 = ubuntu.getSeries("warty").getArch("i386")
    main = getUtility(IComponentSet)["main"]
    publishing = PublishingSet(store)
    for version, size in (("1.0-1", 100), ("1.0-3", 300)):
        publishing.publishBinary(
            i386, main, PackagePublishingPocket.RELEASE, "hello", version,
            [("hello_%s_i386.deb" % version, BinaryPackageFileType.DEB,
              size, version[-1] * 64)], utcnow() - timedelta(hours=1))
    store.commit()
    built = build_snapshot(store, ubuntu, serial=3)
    path = str(tmp_path / "snapshot.json")
    assert write_master_pool_facts(store, ubuntu, path, 3) == 2
    write_snapshot(built, path)
    assert built["pool_facts"] is True
    assert not [name for name in built["files"] if name.startswith("pool/")]
    with open(path, "rb") as f:
        assert b"hello_1.0-3" not in f.read().split(b'"pool":')[0]
    facts = PoolFacts.open(path, 3, "ubuntu")
    [(name, _)] = [(n, v) for n, v in built["pool"].items()
                   if n.endswith("hello_1.0-3_i386.deb")]
    assert facts.versions(name) == [{"size": 300, "sha256": "3" * 64}]
    assert facts.versions(name.replace("1.0-3", "1.0-1")) == [
        {"size": 100, "sha256": "1" * 64}]


# The daemon as its own process.

def world(serial):
    """A German mirror; the master's Release in the JSON; pool facts
    expected beside it."""
    now = int(time.time())
    files = {RELEASE: [{"size": 900, "timestamp": now - 3600,
                        "md5": "c" * 32, "sha1": "d" * 40,
                        "sha256": "e" * 64, "sha512": "f" * 128}]}
    return snapshot([mirror("de", "DE")], serial=serial, files=files) | {
        "pool_facts": True}


class Daemon:
    """`mirrorkeeper mirrorlist-server` on a loopback port, its log in a
    file."""

    def __init__(self, folder):
        self.folder = folder
        self.path = os.path.join(folder, "snapshot.json")
        self.log_path = os.path.join(folder, "daemon.log")
        self.process = None

    def start(self):
        port = free_port()
        self.url = "http://127.0.0.1:%d" % port
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [os.path.join(BIN, "mirrorkeeper"), "mirrorlist-server",
                 "--listen", "tcp:%d:interface=127.0.0.1" % port,
                 "--snapshot", self.path,
                 "--statistics", os.path.join(self.folder, "stats"),
                 "--reload-interval", "3600"],
                cwd=self.folder, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.get("/mirrors.txt")
                return
            except OSError:
                if self.process.poll() is not None or \
                        time.monotonic() > deadline:
                    raise AssertionError("the daemon did not answer: "
                                         + self.log())
                time.sleep(0.05)

    def get(self, path):
        """(status, snapshot serial, body) of GET `path`, redirects not
        followed."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        request = urllib.request.Request(
            self.url + path, headers={"X-Forwarded-For": "192.0.2.1"})
        try:
            with opener.open(request, timeout=5) as response:
                status, headers, body = (response.status, response.headers,
                                         response.read())
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        serial = int(headers["X-Mirrorlist-Snapshot"].split()[0])
        return status, serial, body.decode()

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def daemon(tmp_path):
    started = Daemon(str(tmp_path))
    yield started
    started.stop()


def metalink_size(body):
    return etree.fromstring(body.encode()).findtext(
        "m:file/m:size", None, {"m": METALINK4_NS})


def test_daemon_answers_pool_metalinks_from_the_facts(daemon):
    """With the facts of its serial the daemon's pool metalinks give the
    master's size, an unknown pool file is a 404; a new snapshot's facts are
    used once it is loaded."""
    write_pool_facts(daemon.path, 1, "ubuntu", FACTS)
    write_snapshot(world(1), daemon.path)
    daemon.start()
    status, serial, body = daemon.get("/metalink/" + NEW)
    assert (status, serial, metalink_size(body)) == (200, 1, "1234")
    status, _, body = daemon.get("/metalink/pool/main/o/other.deb")
    assert status == 404 and "no size and hashes of" in body
    # Snapshot 2 has another version of NEW and no OLD.
    write_pool_facts(daemon.path, 2, "ubuntu", [(NEW, 4321, "9" * 64)])
    write_snapshot(world(2), daemon.path)
    daemon.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while daemon.get("/mirrors.txt")[1] != 2:
        assert time.monotonic() < deadline, daemon.log()
        time.sleep(0.05)
    status, serial, body = daemon.get("/metalink/" + NEW)
    assert (status, serial, metalink_size(body)) == (200, 2, "4321")
    assert daemon.get("/metalink/" + OLD)[0] == 404
    assert "pool file facts" not in daemon.log()


@pytest.mark.parametrize("damage, problem", [
    ("missing", "are missing"),
    ("garbage", "are corrupt"),
    ("truncated", "are corrupt"),
    ("other serial", "are of snapshot 1 of ubuntu, not of snapshot 2"),
])
def test_daemon_without_usable_facts(daemon, damage, problem):
    """Facts missing, corrupt or of another snapshot: pool metalinks are a 503
    saying the facts are not available, logged once with the reason; lists,
    redirects and the Release's metalink are served."""
    damaged(daemon.path, damage)
    write_snapshot(world(2), daemon.path)
    daemon.start()
    for _ in range(3):
        status, serial, body = daemon.get("/metalink/" + NEW)
        assert (status, serial) == (503, 2), body
        assert "size and hashes of %s are not available" % NEW in body
    assert daemon.get("/mirrors.txt") == (
        200, 2, "http://de.example/ubuntu/\n")
    status, _, body = daemon.get("/redirect/" + NEW)
    assert status == 302 and "http://de.example/ubuntu/" + NEW in body
    status, _, body = daemon.get("/metalink/" + RELEASE)
    assert (status, metalink_size(body)) == (200, "900")
    daemon.stop()
    log = daemon.log()
    assert log.count(problem) == 1, log
    assert pool_facts_path(daemon.path, 2) in log
    assert "metalinks of pool files answer 503" in log
    assert "Traceback" not in log


def test_facts_damaged_while_served(daemon):
    """A facts file overwritten in place while the daemon serves (it never
    should be) makes pool metalinks a 503 with one log line, not a crash."""
    write_pool_facts(daemon.path, 1, "ubuntu", (
        ("pool/main/p/p%d/p%d_1_amd64.deb" % (n, n), n, "%064x" % n)
        for n in range(20000)))
    write_snapshot(world(1), daemon.path)
    daemon.start()
    assert daemon.get("/metalink/pool/main/p/p7/p7_1_amd64.deb")[0] == 200
    facts = pool_facts_path(daemon.path, 1)
    size = os.path.getsize(facts)
    with open(facts, "r+b") as f:
        f.write(b"\xff" * size)
    statuses = {daemon.get("/metalink/pool/main/p/p%d/p%d_1_amd64.deb"
                           % (n, n))[0] for n in range(0, 20000, 997)}
    assert 503 in statuses and statuses <= {200, 503}, statuses
    assert daemon.get("/mirrors.txt")[0] == 200
    assert daemon.process.poll() is None
    daemon.stop()
    log = daemon.log()
    assert log.count("are corrupt") == 1, log
    assert "Traceback" not in log


def test_sqlite_copy_is_a_plain_database(tmp_path):
    """The facts file is an ordinary SQLite database with its two tables, for
    an operator to look into."""
    path = str(tmp_path / "snapshot.json")
    write_pool_facts(path, 5, "ubuntu", FACTS)
    copy = str(tmp_path / "copy.sqlite")
    shutil.copy(pool_facts_path(path, 5), copy)
    db = sqlite3.connect(copy)
    assert db.execute("SELECT serial, distribution FROM snapshot"
                      ).fetchall() == [(5, "ubuntu")]
    assert db.execute("SELECT path, size FROM pool_file ORDER BY path"
                      ).fetchall() == [(OLD, 1200), (NEW, 1234)]
    db.close()
