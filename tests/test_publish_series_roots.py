"""Files of a series under a root of its own (issue 17): a real Debian
master with a released series at its root and a series in development
under its development root, scanned into the database on both backends;
mirrors of it on loopback (one fresh, one two days behind that lacks the
series in development), the snapshot built from the database and the real
mirror list daemon in a process of its own.  curl follows the redirects
for the series' files at its development root, and again at its release
root after `mirrorkeeper release move-to-release`: it is never sent to a
mirror that lacks the file."""

import hashlib
import logging
import os
import shutil
from datetime import timedelta

import pytest
from lxml import etree

from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness as F, MirrorPulseType, MirrorSpeed,
    PackagePublishingPocket as P, SeriesLocation, SeriesStatus)
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distroseries import ComponentSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.publish.formats import METALINK4_NS
from mirrorkeeper.publish.poolfacts import write_master_pool_facts
from mirrorkeeper.publish.snapshot import build_snapshot, write_snapshot
from mirrorkeeper.scripts.cli import main
from mirrorkeeper.timeutil import utcnow
from tests.archive_builder import DebianArchive, set_mtime
from tests.debian_clients import (
    LoggingMirror, apt_root, client, start_daemon)
from tests.test_publish_daemon_process import fetch

LOG = logging.getLogger("mirrorkeeper.test-series-roots")
DEB = "pool/main/h/hello/hello_2.0-1_amd64.deb"
PACKAGES = "dists/forky/main/binary-amd64/Packages.gz"


def publish(archive, suite, when):
    archive.publish(suite, architectures=("amd64",))
    for directory, _, names in os.walk(os.path.join(archive.root, "dists")):
        for name in names:
            set_mtime(os.path.join(directory, name), when)


class World:
    """The master, two mirrors, the snapshot and the daemon."""

    def __init__(self, store, database_uri, folder):
        self.store, self.database_uri = store, database_uri
        self.folder = folder
        self.now = now = utcnow()
        self.master_root = os.path.join(folder, "master")
        released = DebianArchive(self.master_root)
        released.add_binary("stable", "hello", "1.0-1",
                            mtime=now - timedelta(days=3))
        publish(released, "stable", now - timedelta(days=3))
        people = PersonSet(store)
        owner = people.new("owner", "Owner", "owner@example.com")
        admins = people.newTeam("testix-mirror-admins", "Mirror Admins",
                                members=[owner])
        self.distribution = DistributionSet(store).new(
            "testix", "Testix", "Testix Linux", owner, admins)
        self.distribution.setDevelopmentRoot("development/")
        store.commit()
        self.scan(now - timedelta(days=3))
        behind = os.path.join(folder, "behind")
        shutil.copytree(self.master_root, behind)
        development = DebianArchive(os.path.join(self.master_root,
                                                 "development"))
        development.add_binary("forky", "hello", "2.0-1",
                               mtime=now - timedelta(hours=6))
        publish(development, "forky", now - timedelta(hours=6))
        self.scan(now - timedelta(hours=6))
        fresh = os.path.join(folder, "fresh")
        shutil.copytree(self.master_root, fresh)
        self.servers = {"master": LoggingMirror(self.master_root),
                        "fresh": LoggingMirror(fresh),
                        "behind": LoggingMirror(behind)}
        forky = self.distribution.getSeries("forky")
        amd64, main = forky.getArch("amd64"), ComponentSet(store)["main"]
        self.mirrors = {}
        for name, freshness in [("fresh", F.UP), ("behind", F.TWODAYSBEHIND)]:
            mirror = self.mirrors[name] = self.distribution.newMirror(
                owner, name, MirrorSpeed.S1G, CountrySet(store)["DE"],
                MirrorContent.ARCHIVE, MirrorPulseType.PULL,
                http_base_url=self.servers[name].url,
                official_candidate=True, enabled=True)
            mirror.status = mirror.status.OFFICIAL
            mirror.has_ipv4 = True
            mirror.ensureMirrorDistroArchSeries(
                amd64, P.RELEASE, main).freshness = freshness
            store.flush()
            self.probed(mirror, now - timedelta(hours=5))
        store.commit()
        self.daemon = None
        self.serial = 0
        self.publish()

    def scan(self, when):
        report = ArchiveScanner(self.store, self.distribution,
                                self.master_root, LOG, when).scan()
        assert report.problems == [], report.problems
        return report

    def probed(self, mirror, when):
        """An applied probe of `mirror` at `when`, which saw its copies of
        the suites' Release and InRelease as they are now (as the prober
        records them: tests/test_publish_release_copies.py)."""
        self.store.execute(
            "INSERT INTO mirror_probe_record (distribution_mirror, log, "
            "date_created) VALUES (?, ?, ?)", (mirror.id, "", when))
        [(record_id,)] = self.store.execute(
            "SELECT MAX(id) FROM mirror_probe_record WHERE "
            "distribution_mirror = ?", (mirror.id,))
        root = self.servers[mirror.name].root
        for directory, _, names in os.walk(root):
            for name in set(names) & {"InRelease", "Release"}:
                path = os.path.join(directory, name)
                with open(path, "rb") as f:
                    seen = hashlib.sha256(f.read()).hexdigest()
                self.store.execute(
                    "INSERT INTO mirror_probe_place (probe_record, kind, "
                    "label, found, sha256) VALUES (?, 'release', ?, ?, ?)",
                    (record_id, os.path.relpath(path, root), True, seen))

    def publish(self):
        """A new snapshot from the database, and the daemon serving it."""
        self.serial += 1
        snapshot = build_snapshot(self.store, self.distribution,
                                  serial=self.serial)
        path = os.path.join(self.folder, "snapshot.json")
        write_master_pool_facts(self.store, self.distribution, path,
                                self.serial)
        write_snapshot(snapshot, path)
        self.store.rollback()
        self.stop_daemon()
        self.daemon, self.base_url = start_daemon(
            self.folder, path, self.servers["master"].url)

    def stop_daemon(self):
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            self.daemon.wait(10)

    def stop(self):
        self.stop_daemon()
        for server in self.servers.values():
            server.stop()

    def redirected_to(self, path):
        """Where the redirect for `path` sends curl, and Link's mirrors."""
        code, output = client("/usr/bin/curl", "-sS", "-o", os.devnull,
                              "-D", "-", self.base_url + "/redirect/" + path)
        assert code == 0, output
        lines = output.splitlines()
        location = [line.split(":", 1)[1].strip() for line in lines
                    if line.lower().startswith("location:")]
        return location[0], [line for line in lines
                             if line.lower().startswith("link:")]

    def fetched(self, path):
        """curl follows the redirect for `path` and gets the master's."""
        target = os.path.join(self.folder, "got")
        code, output = client("/usr/bin/curl", "-sSfL", "-o", target,
                              self.base_url + "/redirect/" + path)
        assert code == 0, (path, output)
        with open(target, "rb") as f, \
                open(os.path.join(self.master_root, path), "rb") as master:
            assert f.read() == master.read(), path


@pytest.fixture
def world(store, database_uri, tmp_path):
    made = World(store, database_uri, str(tmp_path))
    yield made
    made.stop()


def test_a_new_series_under_the_development_root(world):
    """The scan records the series it finds under the development root at
    its development location, with that root."""
    forky = world.distribution.getSeries("forky")
    assert (forky.status, forky.location, forky.root) == (
        SeriesStatus.DEVELOPMENT, SeriesLocation.DEVELOPMENT,
        "development/")
    assert not forky.every_mirror
    stable = world.distribution.getSeries("stable")
    assert (stable.location, stable.root) == (SeriesLocation.RELEASE, "")


def test_series_files_before_and_after_its_release(world):
    """At its development root, the series' new pool file and indexes are
    offered by the fresh mirror only, never by the one behind, which lacks
    them; its pool file's metalink has the master's hash.  Released to
    releases/14/, they are offered by no mirror until one is probed after
    the move (the master serves them), then by the fresh one again."""
    servers = world.servers
    # What the test guards against: the mirror behind lacks the files.
    code, _ = client("/usr/bin/curl", "-sSf", "-o", os.devnull,
                     servers["behind"].url + "development/" + DEB)
    assert code != 0
    _, body = fetch(world.base_url + "/mirrors.txt")
    assert servers["behind"].url in body
    for path in ("development/" + DEB, "development/" + PACKAGES):
        for _ in range(4):
            location, links = world.redirected_to(path)
            assert location == servers["fresh"].url + path
            assert not any(servers["behind"].url in link for link in links)
            world.fetched(path)
    _, body = fetch(world.base_url + "/metalink/development/" + DEB)
    metalink = etree.fromstring(body.encode("utf-8"))
    with open(os.path.join(world.master_root, "development", DEB),
              "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    assert metalink.findtext(".//{%s}hash" % METALINK4_NS) == sha256
    assert [url.text for url in metalink.iter("{%s}url" % METALINK4_NS)] \
        == [servers["fresh"].url + "development/" + DEB]

    # Released: the files are copied to releases/14/ on the master and
    # the fresh mirror, the series moved there two hours ago.
    for root in (world.master_root, os.path.join(world.folder, "fresh")):
        shutil.copytree(os.path.join(root, "development"),
                        os.path.join(root, "releases", "14"))
    assert main(["--database", world.database_uri, "release",
                 "move-to-release", "forky", "--root", "releases/14/"]) == 0
    world.store.rollback()
    world.store.execute("UPDATE distro_series SET date_moved = ? "
                        "WHERE name = 'forky'",
                        (world.now - timedelta(hours=2),))
    world.store.commit()
    world.scan(world.now)
    world.publish()
    released = ["releases/14/" + DEB, "releases/14/" + PACKAGES]
    for path in released:
        location, links = world.redirected_to(path)
        assert (location, links) == (servers["master"].url + path, [])
        world.fetched(path)
    # The fresh mirror is probed after the move.
    world.probed(world.mirrors["fresh"], utcnow() - timedelta(minutes=1))
    world.store.commit()
    world.publish()
    for path in released:
        for _ in range(4):
            location, links = world.redirected_to(path)
            assert location == servers["fresh"].url + path
            assert not any(servers["behind"].url in link for link in links)
            world.fetched(path)
    assert {name: server.failures() for name, server in servers.items()
            if name != "behind" and server.failures()} == {}


def test_rpm_repository_follows_its_series(store, database_uri, tmp_path):
    """An RPM repository under a series' root is named by the series: dnf
    asks for f42-everything at development/42/, and still after the
    series moved to releases/42/, where the snapshot then points; a mirror
    is offered for it there once the prober found it there."""
    from mirrorkeeper.model.masterarchive import RPMRepositorySet
    from mirrorkeeper.publish.selection import content_key, index_snapshot
    from tests.archive_builder import build_rpm_repository
    people = PersonSet(store)
    owner = people.new("owner", "Owner", "owner@example.com")
    admins = people.newTeam("fedix-admins", "Fedix Admins", members=[owner])
    fedix = DistributionSet(store).new("fedix", "Fedix", "Fedix Linux",
                                       owner, admins)
    mirror = fedix.newMirror(
        owner, "de", MirrorSpeed.S1G, CountrySet(store)["DE"],
        MirrorContent.ARCHIVE, MirrorPulseType.PULL,
        http_base_url="http://de.example.org/fedix/",
        official_candidate=True, enabled=True)
    mirror.status = mirror.status.OFFICIAL
    store.commit()
    assert main(["--database", database_uri, "series", "add", "fedix", "f42",
                 "42", "--root", "development/42/"]) == 0
    master = tmp_path / "master"
    build_rpm_repository(str(master / "development/42/Everything/x86_64/os"))
    build_rpm_repository(str(master / "releases/41/Everything/x86_64/os"))
    store.rollback()

    def scan():
        report = ArchiveScanner(store, fedix, str(master), LOG).scan()
        assert report.problems == []

    def carried():
        """{repository name: (path, mirrors carrying it)}."""
        snapshot = build_snapshot(store, fedix)
        index = index_snapshot(snapshot)
        store.rollback()
        return {repository["name"]: (
            repository["path"], sorted(index.mirrors[position].name
                                       for position in index.carriers[
                content_key(index, "repo", arch="x86_64",
                            repo=repository["name"])]))
            for repository in snapshot["repositories"]}

    def found_on(mirror):
        for repository in RPMRepositorySet(store).getByDistribution(fedix):
            store.execute(
                "INSERT INTO mirror_rpm_repository (distribution_mirror, "
                "rpm_repository, freshness) VALUES (?, ?, ?)",
                (mirror.id, repository.id, F.UP.value))
        store.commit()

    scan()
    found_on(mirror)
    assert carried() == {
        "f42-everything": ("development/42/Everything/x86_64/os", ["de"]),
        "releases-41-everything": ("releases/41/Everything/x86_64/os",
                                   ["de"])}
    assert main(["--database", database_uri, "release", "move-to-release",
                 "f42", "--distribution", "fedix", "--root",
                 "releases/42/"]) == 0
    shutil.move(str(master / "development/42"), str(master / "releases/42"))
    store.rollback()
    scan()
    assert carried() == {
        "f42-everything": ("releases/42/Everything/x86_64/os", []),
        "releases-41-everything": ("releases/41/Everything/x86_64/os",
                                   ["de"])}
    # The prober asks for the repository where it now lives only.
    from mirrorkeeper.prober.plan import plan_archive_mirrors
    [plan] = plan_archive_mirrors(store, [mirror],
                                  freshness={"*": ("checksum",)})
    assert sorted(url for url in plan.urls if "42" in url) == [
        "http://de.example.org/fedix/releases/42/Everything/x86_64/os/"
        "repodata/repomd.xml"]
    store.rollback()
    store.execute("DELETE FROM mirror_rpm_repository")
    found_on(mirror)
    assert carried()["f42-everything"] == (
        "releases/42/Everything/x86_64/os", ["de"])


def apt_downloads_hello(world, source, suite):
    """apt-get update, then download of hello, from `source` for `suite`;
    the name of the file it got."""
    root, options = apt_root(world.folder, source, suite)
    os.makedirs(os.path.join(root, "download"))
    code, output = client("/usr/bin/apt-get", "update", *options)
    # (Not "404", which a port number may hold.)
    assert code == 0 and "Not Found" not in output, output
    code, output = client("/usr/bin/apt-get", "download", "hello", *options,
                          cwd=os.path.join(root, "download"))
    assert code == 0, output
    return os.listdir(os.path.join(root, "download"))


def test_apt_lists_and_apt_for_a_series_under_its_root(world):
    """The apt list of a series under a root gives each mirror's URL of
    that root, the fresh mirror first; apt-get through it, and through
    the redirector, gets the series' hello with no 404."""
    servers = world.servers
    _, body = fetch(world.base_url + "/mirrors.txt?series=forky")
    assert body.splitlines() == [
        servers["fresh"].url + "development/\tpriority:1",
        servers["behind"].url + "development/"]
    _, body = fetch(world.base_url + "/mirrors.txt")
    assert sorted(body.splitlines()) == sorted([servers["behind"].url,
                                                servers["fresh"].url])
    for source in ("mirror+%s/mirrors.txt?series=forky" % world.base_url,
                   world.base_url + "/redirect/development/"):
        assert apt_downloads_hello(world, source, "forky") == [
            "hello_2.0-1_amd64.deb"]
    # No 404 for a file the master has (this master signs nothing).
    assert {name: failures for name, failures in (
        (name, [(path, code) for path, code in server.failures()
                if os.path.exists(world.master_root + path)])
        for name, server in servers.items()) if failures} == {}


def test_files_moved_to_the_archive_root_date_from_the_move():
    """A series moved from development/ to the archive's own root: its
    pool files no series had there before count as on the master since
    the move; a pool file another series had there all along does not.
    (Its suite's files go by the copy of its InRelease each mirror was
    seen to serve there, not by a date.)"""
    from mirrorkeeper.publish.selection import (
        file_requirement, index_snapshot)
    from tests.mirrorlist_snapshots import snapshot
    now = 1_800_000_000
    world = snapshot([], places=[["forky", "amd64", "main", "release"],
                                 ["stable", "amd64", "main", "release"]],
                     files={"dists/forky/Release": [{
                         "size": 1, "timestamp": now - 9000, "md5": "",
                         "sha1": "", "sha256": "", "sha512": ""}]}) | {
        "roots": {"forky": ["", now - 3600]},
        "pool": {"pool/main/h/hello/new.deb": [now - 7200, [0]],
                 "pool/main/h/hello/both.deb": [now - 7200, [0, 1]]},
        "pool_since": now - 8 * 86400}
    index = index_snapshot(world)
    assert file_requirement(index, "dists/forky/main/Packages.gz") is None
    assert file_requirement(index, "pool/main/h/hello/new.deb") == (
        now - 3600, (0,))
    assert file_requirement(index, "pool/main/h/hello/both.deb") == (
        now - 7200, (0, 1))
    assert file_requirement(index, "pool/main/o/old/old.deb") == (
        now - 8 * 86400, None)
