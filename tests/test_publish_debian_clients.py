"""No client ever gets a 404 or a hash mismatch for a file the master has
(issue 17): a real Debian master archive, scanned into the database on
both backends, mirrors of it on loopback (one fresh, one two days behind
that lacks the newest pool file, one serving a corrupted copy), the
snapshot built from the database and the real mirror list daemon in a
process of its own; then curl, apt-get (through mirror+http:// and
through the redirector) and aria2c (through the Debian metalinks) fetch
every file of the master."""

import filecmp
import hashlib
import logging
import os
import re
import shutil
from datetime import timedelta

import pytest
from lxml import etree

from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness as F, MirrorPulseType, MirrorSpeed,
    PackagePublishingPocket as P)
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distroseries import ComponentSet
from mirrorkeeper.model.masterarchive import RPMRepositorySet
from mirrorkeeper.publish.formats import METALINK4_NS
from mirrorkeeper.publish.poolfacts import write_master_pool_facts
from mirrorkeeper.publish.snapshot import build_snapshot, write_snapshot
from mirrorkeeper.timeutil import utcnow
from tests.archive_builder import (
    DebianArchive, build_rpm_repository, make_signing_key, run, set_mtime,
    testix_distribution)
from tests.debian_clients import (
    LoggingMirror, apt_root, client, dnf_makecache, start_daemon)
from tests.test_publish_daemon_process import fetch

LOG = logging.getLogger("mirrorkeeper.test-debian-clients")
SUITE = "stable"
OLD = "pool/main/h/hello/hello_1.0-1_amd64.deb"
NEW = "pool/main/h/hello/hello_1.1-1_amd64.deb"
INDEXES = ["dists/stable/main/binary-amd64/Packages.gz",
           "dists/stable/main/binary-amd64/Packages.xz",
           "dists/stable/main/source/Sources.xz"]
REPO = "releases/40/Everything/x86_64/os"
METALINK = "/metalink?repo=releases-40-everything&arch=x86_64"

def build_master(root, now, gnupghome):
    """The master: stable/amd64 with hello 1.0-1 three days old, its
    InRelease signed with a key made in `gnupghome`, and an RPM
    repository; then (returned as a function) hello 1.1-1 published an
    hour ago and the repository's next revision."""
    archive = DebianArchive(root)
    make_signing_key(gnupghome)
    archive.add_binary(SUITE, "hello", "1.0-1", mtime=now - timedelta(days=3))

    def publish(age):
        archive.publish(SUITE, architectures=("amd64",),
                        compressions=("gz", "xz"), sign_with=gnupghome)
        for directory, _, names in os.walk(os.path.join(root, "dists")):
            for name in names:
                set_mtime(os.path.join(directory, name), now - age)

    publish(timedelta(days=3))
    build_rpm_repository(os.path.join(root, REPO))

    def add_new():
        archive.add_binary(SUITE, "hello", "1.1-1",
                           mtime=now - timedelta(hours=1))
        publish(timedelta(hours=1))
        run(["createrepo_c", "--quiet", "--no-database", "--revision", "2",
             os.path.join(root, REPO)])
    return add_new


def master_files(root):
    """Every file of the master, relative to its root."""
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            found.append(os.path.relpath(os.path.join(directory, name),
                                         root))
    return sorted(found)


def corrupt(path):
    """Flip one byte in the middle of `path`: same size, other hash."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[len(data) // 2] ^= 0xFF
        f.seek(0)
        f.write(data)


class World:
    """The master, its mirrors, the database's snapshot and the daemon."""

    def __init__(self, store, folder, mirrors):
        self.folder = folder
        self.now = now = utcnow()
        self.master_root = os.path.join(folder, "master")
        add_new = build_master(self.master_root, now,
                               os.path.join(folder, "gnupg"))
        distribution = testix_distribution(store)
        ArchiveScanner(store, distribution, self.master_root, LOG,
                       now - timedelta(days=3)).scan()
        behind = os.path.join(folder, "behind")
        shutil.copytree(self.master_root, behind)
        add_new()
        report = ArchiveScanner(store, distribution, self.master_root, LOG,
                                now - timedelta(hours=1)).scan()
        assert report.problems == [], report.problems
        self.servers = {"master": LoggingMirror(self.master_root)}
        amd64 = distribution.getSeries(SUITE).getArch("amd64")
        [repository] = RPMRepositorySet(store).getByDistribution(
            distribution)
        main = ComponentSet(store)["main"]
        for name, (country, freshness, damage) in mirrors.items():
            root = os.path.join(folder, name)
            if not os.path.exists(root):
                shutil.copytree(self.master_root, root)
            if damage:
                corrupt(os.path.join(root, damage))
            server = self.servers[name] = LoggingMirror(root)
            mirror = distribution.newMirror(
                distribution.owner, name, MirrorSpeed.S1G,
                CountrySet(store)[country],
                MirrorContent.ARCHIVE, MirrorPulseType.PULL,
                http_base_url=server.url, official_candidate=True,
                enabled=True)
            mirror.status = mirror.status.OFFICIAL
            mirror.has_ipv4 = True
            mirror.ensureMirrorDistroArchSeries(
                amd64, P.RELEASE, main).freshness = freshness
            store.flush()
            store.execute(
                "INSERT INTO mirror_rpm_repository (distribution_mirror, "
                "rpm_repository, freshness) VALUES (?, ?, ?)",
                (mirror.id, repository.id, freshness.value))
            store.execute(
                "INSERT INTO mirror_probe_record (distribution_mirror, log, "
                "date_created) VALUES (?, ?, ?)",
                (mirror.id, "", now - timedelta(minutes=1)))
            # What the prober sees of its copies of the control files
            # (tests/test_publish_release_copies.py runs the prober).
            [(record_id,)] = store.execute(
                "SELECT id FROM mirror_probe_record WHERE "
                "distribution_mirror = ?", (mirror.id,))
            for path in ("dists/stable/InRelease",
                         REPO + "/repodata/repomd.xml"):
                with open(os.path.join(root, path), "rb") as f:
                    seen = hashlib.sha256(f.read()).hexdigest()
                store.execute(
                    "INSERT INTO mirror_probe_place (probe_record, kind, "
                    "label, found, sha256) VALUES (?, 'release', ?, ?, ?)",
                    (record_id, path, True, seen))
        store.commit()
        self.snapshot = build_snapshot(store, distribution)
        self.snapshot_path = os.path.join(folder, "snapshot.json")
        write_master_pool_facts(store, distribution, self.snapshot_path,
                                self.snapshot["serial"])
        write_snapshot(self.snapshot, self.snapshot_path)
        self.start_daemon()

    def start_daemon(self):
        self.daemon, self.base_url = start_daemon(
            self.folder, self.snapshot_path, self.servers["master"].url)

    def stop(self):
        if self.daemon.poll() is None:
            self.daemon.terminate()
            self.daemon.wait(10)
        for server in self.servers.values():
            server.stop()

    def master_file(self, path):
        with open(os.path.join(self.master_root, path), "rb") as f:
            return f.read()

    def failures(self):
        """{server: [(path, status)]} of every request a mirror or the
        master answered with an error."""
        return {name: server.failures()
                for name, server in self.servers.items()
                if server.failures()}


@pytest.fixture
def world(store, tmp_path):
    """A fresh mirror and one two days behind, lacking the newest pool
    file and holding the old Release and indexes."""
    made = World(store, str(tmp_path), {
        "fresh": ("DE", F.UP, None),
        "behind": ("DE", F.TWODAYSBEHIND, None)})
    yield made
    made.stop()


def test_the_behind_mirror_is_listed_and_lacks_the_new_file(world):
    """What the tests guard against: the mirror two days behind is in the lists
    at this threshold, and answers 404 for the newest pool file and serves
    another Release."""
    _, body = fetch(world.base_url + "/mirrors.txt?series=stable")
    assert world.servers["behind"].url in body
    code, _ = client("/usr/bin/curl", "-sSf", "-o", os.devnull,
                     world.servers["behind"].url + NEW)
    assert code != 0
    assert not filecmp.cmp(os.path.join(world.master_root,
                                        "dists/stable/Release"),
                           os.path.join(world.folder,
                                        "behind/dists/stable/Release"),
                           shallow=False)


def test_curl_gets_every_master_file_through_the_redirect(world):
    """curl following the redirect gets every Debian file of the master,
    several times each, as the master has it."""
    for path in master_files(world.master_root):
        if not path.startswith(("dists/", "pool/")):
            continue  # The RPM repository: see the dnf test.
        for _ in range(3):
            target = os.path.join(world.folder, "got")
            code, output = client("/usr/bin/curl", "-sSfL", "-o", target,
                                  world.base_url + "/redirect/" + path)
            assert code == 0, (path, output)
            with open(target, "rb") as f:
                assert f.read() == world.master_file(path), path
    assert world.failures() == {}


def apt_fetches_the_newest_hello(world, source):
    """apt-get update then apt-get download of hello through `source`:
    whatever mirrors it is given, it gets the master's newest."""
    root, options = apt_root(world.folder, source, SUITE)
    code, output = client("/usr/bin/apt-get", "update", *options)
    assert code == 0, output
    assert "Hash Sum mismatch" not in output, output
    # (Not "404" anywhere: "4042 B/s" has it.)
    assert not re.search(r"\b404\b", output), output
    work = os.path.join(root, "download")
    os.makedirs(work)
    code, output = client("/usr/bin/apt-get", "download", "hello",
                          *options, cwd=work)
    assert code == 0, output
    [name] = os.listdir(work)
    return name, output


def test_apt_through_the_redirector(world):
    """apt-get whose source is the daemon's redirector updates and downloads
    hello 1.1-1, never sent to the mirror behind for the suite's files or the
    new package."""
    for _ in range(3):
        name, _ = apt_fetches_the_newest_hello(
            world, world.base_url + "/redirect/")
        assert name == os.path.basename(NEW)
    assert world.failures() == {}
    assert not any(path.startswith(("/dists/", "/" + NEW)) for path, _ in
                   world.servers["behind"].answered)


def test_apt_through_a_mirror_source(world):
    """apt-get through mirror+http:// tries first the mirror its list marks as
    serving the suite's current InRelease, and updates and downloads hello
    1.1-1 with no 404 and no hash mismatch."""
    _, body = fetch(world.base_url + "/mirrors.txt?series=stable")
    assert body.splitlines() == [world.servers["fresh"].url + "\tpriority:1",
                                 world.servers["behind"].url]
    for _ in range(5):
        name, _ = apt_fetches_the_newest_hello(
            world, "mirror+%s/mirrors.txt?series=%s" % (world.base_url,
                                                       SUITE))
        assert name == os.path.basename(NEW)
    assert world.failures() == {}


def metalink_urls(body):
    ns = {"m": METALINK4_NS}
    element = etree.fromstring(body).find("m:file", ns)
    return element, [url.text for url in element.findall("m:url", ns)]


def test_metalinks_carry_the_master_facts_and_fresh_mirrors(world):
    """The Metalink 4 of the new pool file, of the suite's Release and of its
    indexes have the master's size and SHA-256 and offer the fresh mirror only;
    of the old pool file, both mirrors."""
    for path in [NEW, "dists/stable/Release",
                 "dists/stable/InRelease"] + INDEXES:
        code, body = client("/usr/bin/curl", "-sSf",
                            world.base_url + "/metalink/" + path)
        assert code == 0, body
        element, urls = metalink_urls(body.encode())
        data = world.master_file(path)
        ns = {"m": METALINK4_NS}
        assert element.findtext("m:size", None, ns) == str(len(data))
        assert element.findtext("m:hash[@type='sha-256']", None, ns) == \
            hashlib.sha256(data).hexdigest()
        assert urls == [world.servers["fresh"].url + path]
    _, body = client("/usr/bin/curl", "-sSf",
                     world.base_url + "/metalink/" + OLD)
    _, urls = metalink_urls(body.encode())
    assert sorted(urls) == sorted(world.servers[name].url + OLD
                                  for name in ("fresh", "behind"))


def aria2c(world, url, folder):
    return client("/usr/bin/aria2c", "--dir", folder, "--max-tries=1",
                  "--retry-wait=0", "--connect-timeout=5", "--timeout=10",
                  "--follow-metalink=mem", "--console-log-level=warn",
                  "--summary-interval=0", "--allow-overwrite=true", url)


def test_aria2c_verifies_every_master_file_through_metalinks(world):
    """aria2c fetches each pool file, Release and index through /metalink/PATH
    and through /redirect/PATH (whose answer to its Accept is the metalink),
    verifies the hash and saves the master's bytes."""
    paths = [OLD, NEW, "dists/stable/Release",
             "dists/stable/InRelease"] + INDEXES
    for endpoint in ("/metalink/", "/redirect/"):
        for path in paths:
            folder = os.path.join(world.folder, "aria2c")
            shutil.rmtree(folder, ignore_errors=True)
            code, output = aria2c(world, world.base_url + endpoint + path,
                                  folder)
            assert code == 0, (path, output)
            saved = os.path.join(folder, os.path.basename(path))
            with open(saved, "rb") as f:
                assert f.read() == world.master_file(path)
    assert world.failures() == {}


@pytest.fixture
def corrupt_world(store, tmp_path):
    """Two fresh mirrors; the German one serves a corrupted copy of the
    newest pool file."""
    made = World(store, str(tmp_path), {
        "corrupt": ("DE", F.UP, NEW), "good": ("FR", F.UP, None)})
    yield made
    made.stop()


def test_aria2c_never_saves_a_corrupted_copy(corrupt_world):
    """Sent first to the mirror with the corrupted copy, aria2c fails over to
    the good mirror or fails: it never leaves the corrupted bytes on disk."""
    world = corrupt_world
    wanted = world.master_file(NEW)
    for endpoint in ("/metalink/", "/redirect/"):
        folder = os.path.join(world.folder, "aria2c-" + endpoint.strip("/"))
        code, output = aria2c(world, world.base_url + endpoint + NEW +
                              "?country=DE", folder)
        saved = os.path.join(folder, os.path.basename(NEW))
        kept = b""
        if os.path.exists(saved):
            with open(saved, "rb") as f:
                kept = f.read()
        if code == 0:
            assert kept == wanted, output
        else:
            assert kept in (b"", wanted), output
    # The corrupted copy was offered first, and fetched.
    assert ("/" + NEW, 200) in world.servers["corrupt"].answered


def test_dnf_through_the_metalink(world):
    """dnf makes its cache through the repository's metalink, whichever mirror
    it takes (the one behind holds the previous repomd.xml, an alternate of the
    metalink), with no 404 and no checksum error."""
    code, output = dnf_makecache(world.folder, world.base_url + METALINK)
    assert code == 0, output
    assert "Metadata cache created" in output
    assert world.failures() == {}
