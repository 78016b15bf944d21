"""The files of a suite come only from mirrors whose copy of its InRelease
agrees with the master's (issue 17, section 1), end to end: a real signed
Debian master with by-hash indexes and an RPM repository, scanned on both
backends; three mirrors on loopback (one with the current copy, one with
the previous InRelease and its by-hash indexes, one whose InRelease,
Release and repomd.xml are corrupt); the prober cronscript run over them;
the snapshot built from what it saw; the mirror list daemon in a process
of its own; then curl, apt-get (mirror+http:// and the redirector, by
hash) and dnf fetch through it, with no 404 and no hash mismatch."""

import logging
import os
import re
import shutil
from datetime import timedelta

import pytest

from mirrorkeeper.archive.debian import parse_release
from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.model.probefindings import control_file_copies
from mirrorkeeper.publish.poolfacts import write_master_pool_facts
from mirrorkeeper.publish.snapshot import build_snapshot, write_snapshot
from mirrorkeeper.timeutil import utcnow
from tests.archive_builder import (
    DebianArchive, build_rpm_repository, make_signing_key, run, set_mtime,
    testix_distribution)
from tests.farm.testing import ProberWorld
from tests.debian_clients import (
    LoggingMirror, apt_root, client, dnf_makecache)
from tests.test_publish_daemon_process import fetch
from tests.test_publish_debian_clients import (
    METALINK, NEW, REPO, SUITE, World, corrupt, master_files)

LOG = logging.getLogger("mirrorkeeper.test-release-copies")
SUITE_DIR = "dists/%s/" % (SUITE,)


def publish(archive, root, gnupghome, age, now):
    """Publish the suite with Acquire-By-Hash, its indexes also under
    by-hash/SHA256/ (those of earlier publications stay, as on a Debian
    master), signed; every file of dists/ dated `age` ago.  Its Release
    lists MD5 and SHA-256 sums, as Debian's do (apt asks by the strongest
    hash a Release lists)."""
    archive.publish(SUITE, architectures=("amd64",),
                    compressions=("gz", "xz"))
    suite_dir = os.path.join(root, SUITE_DIR)
    release_path = os.path.join(suite_dir, "Release")
    with open(release_path, "rb") as f:
        release = f.read()
    release = re.sub(rb"\n(SHA1|SHA512):\n( [^\n]*\n)*", b"\n", release)
    release = release.replace(b"\nArchitectures:",
                              b"\nAcquire-By-Hash: yes\nArchitectures:", 1)
    with open(release_path, "wb") as f:
        f.write(release)
    archive.sign(SUITE, gnupghome)
    for name, entry in parse_release(release, release_path).files.items():
        path = os.path.join(suite_dir, name)
        if entry.sha256 and os.path.isfile(path):
            by_hash = os.path.join(os.path.dirname(path), "by-hash",
                                   "SHA256")
            os.makedirs(by_hash, exist_ok=True)
            shutil.copyfile(path, os.path.join(by_hash, entry.sha256))
    for directory, _, names in os.walk(os.path.join(root, "dists")):
        for name in names:
            set_mtime(os.path.join(directory, name), now - age)


class CopiesWorld:
    """The master, its three mirrors as the prober saw them, the snapshot
    and the daemon.  `freshness` is the [freshness] entry of the
    distribution, or None for the default (with which the checksum
    detector fetches the control files, and the prober reuses what it
    fetched)."""

    def __init__(self, prober_world, store, folder, freshness=None):
        self.folder = folder
        self.now = now = utcnow()
        self.master_root = root = os.path.join(folder, "master")
        gnupghome = make_signing_key(os.path.join(folder, "gnupg"))
        archive = DebianArchive(root)
        archive.add_binary(SUITE, "hello", "1.0-1",
                           mtime=now - timedelta(days=3))
        publish(archive, root, gnupghome, timedelta(days=3), now)
        build_rpm_repository(os.path.join(root, REPO))
        distribution = testix_distribution(store)
        ArchiveScanner(store, distribution, root, LOG,
                       now - timedelta(days=3)).scan()
        # The previous copy: its InRelease, indexes and by-hash files.
        shutil.copytree(root, os.path.join(folder, "previous"))
        archive.add_binary(SUITE, "hello", "1.1-1",
                           mtime=now - timedelta(hours=1))
        publish(archive, root, gnupghome, timedelta(hours=1), now)
        run(["createrepo_c", "--quiet", "--no-database", "--revision", "2",
             os.path.join(root, REPO)])
        report = ArchiveScanner(store, distribution, root, LOG,
                                now - timedelta(hours=1)).scan()
        assert report.problems == [], report.problems
        shutil.copytree(root, os.path.join(folder, "current"))
        shutil.copytree(root, os.path.join(folder, "corrupt"))
        for path in ("InRelease", "Release"):
            corrupt(os.path.join(folder, "corrupt", SUITE_DIR, path))
        corrupt(os.path.join(folder, "corrupt", REPO, "repodata",
                             "repomd.xml"))
        self.servers = {"master": LoggingMirror(root)}
        for name in ("current", "previous", "corrupt"):
            server = self.servers[name] = LoggingMirror(
                os.path.join(folder, name))
            prober_world.add_mirror(store, distribution, name,
                                    http=server.url).has_ipv4 = True
        store.commit()
        sections = {"freshness": {"testix": freshness}} if freshness else {}
        done = prober_world.run(config=prober_world.write_config(
            **sections))
        assert done.returncode == 0, done.stdout + done.stderr
        store.rollback()
        self.mirror_ids = {mirror.name: mirror.id
                           for mirror in distribution.mirrors}
        self.seen = control_file_copies(store, list(
            self.mirror_ids.values()))
        self.kinds = {kind for (kind,) in store.execute(
            "SELECT DISTINCT kind FROM mirror_probe_place "
            "WHERE sha256 IS NOT NULL")}
        self.snapshot = build_snapshot(store, distribution)
        self.snapshot_path = os.path.join(folder, "snapshot.json")
        write_master_pool_facts(store, distribution, self.snapshot_path,
                                self.snapshot["serial"])
        write_snapshot(self.snapshot, self.snapshot_path)
        # What the prober asked is not what the clients will.
        for server in self.servers.values():
            del server.answered[:]
        World.start_daemon(self)

    def url(self, name, path=""):
        return self.servers[name].url + path

    def master_file(self, path):
        with open(os.path.join(self.master_root, path), "rb") as f:
            return f.read()

    def listed(self, name):
        """{index path: SHA-256} of the InRelease of the mirror `name`."""
        path = os.path.join(self.folder, name, SUITE_DIR, "InRelease")
        with open(path, "rb") as f:
            release = parse_release(f.read(), path)
        return {listed: entry.sha256
                for listed, entry in release.files.items()}

    def failures(self):
        return World.failures(self)

    def stop(self):
        World.stop(self)


# One world for each backend and kind of copy, shared by the module's
# tests (each costs a prober run): they only read it, and each sees only
# the requests made during it.
pytestmark = pytest.mark.xdist_group("release-copies")


@pytest.fixture(scope="module", params=[None, "publishing"],
                ids=["checksum", "release"])
def shared_world(request, module_databases, tmp_path_factory, smtp_server):
    """The world, its copies seen by the checksum detector's fetches or,
    with publishing history only, by the prober's own."""
    folder = tmp_path_factory.mktemp("copies")
    prober_world = ProberWorld(module_databases(), folder, smtp_server)
    store = prober_world.store()
    made = CopiesWorld(prober_world, store, str(folder / "world"),
                       request.param)
    # Each file is fetched once: by the detector when it fetches it.
    assert made.kinds == ({"release"} if request.param else {"detector"})
    yield made
    made.stop()
    store.close()


@pytest.fixture
def world(shared_world):
    for server in shared_world.servers.values():
        del server.answered[:]
    return shared_world


def sha256_of(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_the_prober_saw_each_copy_and_the_snapshot_refers_to_it(world):
    """The prober recorded the SHA-256 of each mirror's InRelease and
    repomd.xml; the snapshot has the master's current and previous
    InRelease, with the by-hash indexes each lists, and gives the mirror
    with the current copy version 0, the one behind version 1, and the
    corrupt one none."""
    inrelease = SUITE_DIR + "InRelease"
    repomd = REPO + "/repodata/repomd.xml"
    for name in ("current", "previous", "corrupt"):
        seen = world.seen[world.mirror_ids[name]]
        assert seen[inrelease] == sha256_of(os.path.join(
            world.folder, name, inrelease)), name
        assert seen[repomd] == sha256_of(os.path.join(
            world.folder, name, repomd)), name
    copies = world.snapshot["copies"]
    assert [entry["dir"] for entry in copies] == [SUITE_DIR[:-1], REPO]
    assert len(copies[1]["versions"]) == 1  # A repository's current only.
    suite = copies[0]
    assert [version for version, _ in suite["versions"]] == [
        sha256_of(os.path.join(world.folder, name, inrelease))
        for name in ("current", "previous")]
    for (_, indexes), name in zip(suite["versions"],
                                  ("current", "previous")):
        assert {suite["hashes"][i] for i in indexes} == set(
            world.listed(name).values())
    held = {mirror["name"]: mirror.get("copies", {})
            for mirror in world.snapshot["mirrors"]}
    assert held == {"current": {"0": 0, "1": 0}, "previous": {"0": 1},
                    "corrupt": {}}


def carries_the_repository(world):
    """Whether the mirrors carry the RPM repository: not with publishing
    history only, where no detector reads repomd.xml."""
    return any(mirror["repositories"] for mirror in world.snapshot["mirrors"])


def redirected(world, path):
    code, output = client("/usr/bin/curl", "-sS", "-o", os.devnull,
                          "-w", "%{http_code} %{redirect_url}",
                          world.base_url + "/redirect/" + path)
    assert code == 0, output
    status, location = output.split(" ", 1)
    assert status == "302", (path, output)
    return location


def test_curl_redirects_by_the_copy_each_mirror_holds(world):
    """The suite's InRelease, Release and indexes redirect to the mirror
    with the current copy only; an index by hash to the mirrors whose copy
    lists it (the previous one's to the mirror behind); a hash no version
    lists to the master; the corrupt mirror never."""
    current, previous = world.listed("current"), world.listed("previous")
    for _ in range(5):
        for name in ("InRelease", "Release", "main/binary-amd64/Packages.xz",
                     "main/source/Sources.xz"):
            assert redirected(world, SUITE_DIR + name) == world.url(
                "current", SUITE_DIR + name)
        index = "main/binary-amd64/Packages.xz"
        assert current[index] != previous[index]
        for listed, holder in ((current[index], "current"),
                               (previous[index], "previous"),
                               ("0" * 64, "master")):
            path = SUITE_DIR + "main/binary-amd64/by-hash/SHA256/" + listed
            assert redirected(world, path) == world.url(holder, path)
        path = REPO + "/repodata/repomd.xml"
        assert redirected(world, path) == world.url(
            "current" if carries_the_repository(world) else "master", path)


def test_curl_gets_every_dists_file_as_the_master_has_it(world):
    """curl following the redirect gets every file of dists/, by-hash ones
    included, as the master has it, from no server answering a 404."""
    for path in master_files(world.master_root):
        if not path.startswith(("dists/", REPO + "/repodata/")):
            continue
        target = os.path.join(world.folder, "got")
        code, output = client("/usr/bin/curl", "-sSfL", "-o", target,
                              world.base_url + "/redirect/" + path)
        assert code == 0, (path, output)
        with open(target, "rb") as f:
            assert f.read() == world.master_file(path), path
    assert world.failures() == {}
    assert not any(path.startswith(("/dists/", "/" + REPO + "/repodata"))
                   for path, _ in world.servers["corrupt"].answered)


def apt_by_hash(world, source):
    """apt-get update and download of hello through `source`, asking for
    indexes by hash: the newest hello, with no 404 and no mismatch."""
    root, options = apt_root(world.folder, source, SUITE)
    options += ["-o", "Acquire::By-Hash=force"]
    code, output = client("/usr/bin/apt-get", "update", *options)
    assert code == 0, output
    assert "Hash Sum mismatch" not in output, output
    assert not re.search(r"\b404\b", output), output
    assert world.failures() == {}, output
    work = os.path.join(root, "download")
    os.makedirs(work)
    code, output = client("/usr/bin/apt-get", "download", "hello",
                          *options, cwd=work)
    assert code == 0, output
    assert os.listdir(work) == [os.path.basename(NEW)]


def test_apt_by_hash_through_the_mirror_list_and_the_redirector(world):
    """apt-get through mirror+http:// (the consistent mirror first, marked
    priority:1) and through the redirector, asking for indexes by hash,
    gets hello 1.1-1 with no 404 and no hash mismatch, and asks the
    corrupt mirror for no file of dists/."""
    _, body = fetch(world.base_url + "/mirrors.txt?series=" + SUITE)
    lines = body.splitlines()
    assert lines[0] == world.url("current") + "\tpriority:1"
    assert sorted(lines[1:]) == sorted(
        world.url(name) for name in ("previous", "corrupt"))
    for _ in range(3):
        apt_by_hash(world, "mirror+%s/mirrors.txt?series=%s" % (
            world.base_url, SUITE))
        apt_by_hash(world, world.base_url + "/redirect/")
    assert world.failures() == {}
    asked = [path for path, _ in world.servers["current"].answered]
    assert any(re.search("/by-hash/SHA256/[0-9a-f]{64}$", path)
               for path in asked), asked
    assert not any(path.startswith("/dists/")
                   for path, _ in world.servers["corrupt"].answered)


def test_dnf_through_the_metalink_reads_a_consistent_copy(world):
    """dnf's metalink lists first the mirror whose repomd.xml is the
    master's; dnf makes its cache with no 404 and no checksum error."""
    if not carries_the_repository(world):
        pytest.skip("with publishing history only, no detector reads "
                    "repomd.xml, so no mirror carries the repository")
    _, body = fetch(world.base_url + METALINK)
    urls = re.findall(r"<url[^>]*>([^<]*)</url>", body)
    assert urls[0] == world.url("current", REPO + "/repodata/repomd.xml")
    code, output = dnf_makecache(world.folder, world.base_url + METALINK)
    assert code == 0, output
    assert "Metadata cache created" in output
    assert world.failures() == {}
