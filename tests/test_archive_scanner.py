"""The master archive scanner over real archives (dpkg-deb, dpkg-source,
apt-ftparchive, gpg, createrepo_c), on SQLite and PostgreSQL."""

import gzip
import hashlib
import logging
import os
from datetime import datetime, timedelta

import pytest
from zope.interface.verify import verifyObject

from mirrorkeeper.archive.scanner import ArchiveScanner, split_suite
from mirrorkeeper.enums import (
    BinaryPackageFileType, MirrorContent, MirrorFreshness, MirrorPulseType,
    MirrorSpeed, PackagePublishingPocket as Pocket, PackagePublishingStatus,
    SeriesStatus, SourcePackageFileType)
from mirrorkeeper.interfaces.archive import (
    IArchiveScanner, IMasterFileDetail, IMasterFileDetailSet,
    IRPMRepository, IRPMRepositorySet, ITraceFileTimestamp,
    ITraceFileTimestampSet)
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distroseries import ComponentSet
from mirrorkeeper.model.masterarchive import (
    MasterFileDetailSet, MasterReleaseIndex, RPMRepositorySet,
    TraceFileTimestampSet, consistency_files)
from mirrorkeeper.model.publishing import PublishingSet
from tests.archive_builder import (
    DebianArchive, build_rpm_repository, make_signing_key,
    testix_distribution)

LOG = logging.getLogger("mirrorkeeper.test-scanner")

FIRST_SCAN = datetime(2024, 6, 1, 12, 0)
RESCAN = datetime(2024, 6, 2, 12, 0)
HELLO_TIME = datetime(2024, 1, 10, 8, 30)
SOURCE_TIME = datetime(2024, 1, 9, 7, 0)

# Every table the scanner may write, for "nothing changed" comparisons.
TABLES = [
    "distro_series", "distro_arch_series", "component",
    "distro_series_component", "source_package_release",
    "source_package_file", "source_package_publishing_history",
    "binary_package_release", "binary_package_file",
    "binary_package_publishing_history", "master_file_detail",
    "rpm_repository", "trace_file_timestamp", "archive_scan_state"]


def snapshot(store):
    store.rollback()
    rows = {table: sorted(store.execute("SELECT * FROM %s" % table),
                          key=repr) for table in TABLES}
    store.rollback()
    return rows


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    return make_signing_key(str(tmp_path_factory.mktemp("gnupg")))


@pytest.fixture
def distribution(store):
    return testix_distribution(store)


@pytest.fixture
def archive(tmp_path, signing_key):
    """noble (release pocket) with hello for two architectures, a udeb and
    a source; noble-updates with a newer hello; two components."""
    archive = DebianArchive(tmp_path / "master")
    archive.add_binary("noble", "hello", "1.0-1", source="hello-src",
                       mtime=HELLO_TIME)
    archive.add_binary("noble", "hello", "1.0-1", arch="arm64",
                       source="hello-src", mtime=HELLO_TIME)
    archive.add_binary("noble", "bye", "2.0", mtime=HELLO_TIME)
    archive.add_binary("noble", "hello-udeb", "1.0-1", source="hello-src",
                       udeb=True, mtime=HELLO_TIME)
    archive.add_source("noble", "hello-src", "1.0", mtime=SOURCE_TIME)
    archive.add_binary("noble", "extra", "0.1", component="universe",
                       mtime=HELLO_TIME)
    archive.add_binary("noble-updates", "hello", "1.0-2",
                       source="hello-src", mtime=HELLO_TIME)
    archive.publish_all = lambda: [
        archive.publish("noble", version="24.04", sign_with=signing_key,
                        components=("main", "universe")),
        archive.publish("noble-updates", version="24.04",
                        components=("main", "universe"))]
    archive.publish_all()
    return archive


def scan(store, distribution, archive, when=FIRST_SCAN):
    return ArchiveScanner(store, distribution, archive.root, LOG,
                          when).scan()


def binaries(store, distribution, series="noble", arch="amd64",
             component="main", pocket=Pocket.RELEASE, status=None):
    arch_series = distribution.getSeries(series).getArch(arch)
    return list(PublishingSet(store).getBinaryPublications(
        arch_series, ComponentSet(store)[component], pocket, status))


def test_scanner_provides_its_interface(store, distribution, archive):
    """The scanner and the history sets provide their interfaces."""
    verifyObject(IArchiveScanner, ArchiveScanner(
        store, distribution, archive.root, LOG))
    verifyObject(IMasterFileDetailSet, MasterFileDetailSet(store))
    verifyObject(IRPMRepositorySet, RPMRepositorySet(store))
    verifyObject(ITraceFileTimestampSet, TraceFileTimestampSet(store))


def test_series_arches_and_components_are_created(store, distribution,
                                                  archive):
    """A first scan creates the series, its architectures and components
    from the Release files."""
    report = scan(store, distribution, archive)
    assert report.problems == []
    assert report.suites_scanned == ["noble", "noble-updates"]
    [noble] = distribution.series
    assert (noble.name, noble.version, noble.status) == (
        "noble", "24.04", SeriesStatus.SUPPORTED)
    assert [arch.architecture_tag for arch in noble.architectures] == [
        "amd64", "arm64"]
    assert [c.name for c in noble.components] == ["main", "universe"]


def test_binary_publications_and_files(store, distribution, archive):
    """Each binary becomes a PUBLISHED record per arch series and pocket,
    with its file's pool path, type, size and SHA256."""
    scan(store, distribution, archive)
    found = {(p.name, p.version): p for p in binaries(store, distribution)}
    assert sorted(found) == [("bye", "2.0"), ("hello", "1.0-1"),
                             ("hello-udeb", "1.0-1")]
    hello = found[("hello", "1.0-1")]
    assert hello.status is PackagePublishingStatus.PUBLISHED
    [package_file] = hello.files
    path = "pool/main/h/hello-src/hello_1.0-1_amd64.deb"
    assert (package_file.filename, package_file.path,
            package_file.filetype) == (
        "hello_1.0-1_amd64.deb", path, BinaryPackageFileType.DEB)
    assert package_file.size == os.path.getsize(
        os.path.join(archive.root, path))
    assert len(package_file.sha256) == 64
    [udeb_file] = found[("hello-udeb", "1.0-1")].files
    assert udeb_file.filetype is BinaryPackageFileType.UDEB
    assert [(p.name, p.version) for p in binaries(
        store, distribution, arch="arm64")] == [("hello", "1.0-1")]
    assert [(p.name, p.version) for p in binaries(
        store, distribution, pocket=Pocket.UPDATES)] == [("hello", "1.0-2")]
    assert [(p.name, p.version) for p in binaries(
        store, distribution, component="universe")] == [("extra", "0.1")]


def test_source_publications_and_files(store, distribution, archive):
    """Each source becomes a PUBLISHED record of the series with its .dsc
    and tarball in the pool."""
    scan(store, distribution, archive)
    [source] = PublishingSet(store).getSourcePublications(
        distribution.getSeries("noble"), ComponentSet(store)["main"],
        Pocket.RELEASE)
    assert (source.name, source.version) == ("hello-src", "1.0")
    assert [(f.path, f.filetype) for f in source.files] == [
        ("pool/main/h/hello-src/hello-src_1.0.dsc",
         SourcePackageFileType.DSC),
        ("pool/main/h/hello-src/hello-src_1.0.tar.xz",
         SourcePackageFileType.NATIVE_TARBALL)]


def test_first_scan_dates_by_pool_file_time(store, distribution, archive):
    """On the first scan a package is dated by its pool file's modification
    time."""
    scan(store, distribution, archive)
    for publication in binaries(store, distribution):
        assert publication.date_published == HELLO_TIME
    [source] = PublishingSet(store).getSourcePublications(
        distribution.getSeries("noble"), ComponentSet(store)["main"],
        Pocket.RELEASE)
    assert source.date_published == SOURCE_TIME


def test_later_scans_date_by_scan_time_and_retire(store, distribution,
                                                  archive):
    """A rescan dates new packages by its own time, marks a replaced
    version SUPERSEDED and a vanished package DELETED, keeping both."""
    scan(store, distribution, archive)
    archive.remove("noble", "pool/main/b/bye/bye_2.0_amd64.deb")
    archive.remove("noble", "pool/main/h/hello-src/hello_1.0-1_amd64.deb")
    archive.add_binary("noble", "hello", "1.1-1", source="hello-src",
                       mtime=HELLO_TIME)
    archive.publish_all()
    report = scan(store, distribution, archive, RESCAN)
    assert report.problems == []
    assert (report.published, report.superseded, report.deleted) == (
        1, 1, 1)
    found = {(p.name, p.version): p for p in binaries(store, distribution)}
    assert found[("hello", "1.1-1")].date_published == RESCAN
    assert found[("hello", "1.1-1")].status is \
        PackagePublishingStatus.PUBLISHED
    old = found[("hello", "1.0-1")]
    assert (old.status, old.date_removed) == (
        PackagePublishingStatus.SUPERSEDED, RESCAN)
    bye = found[("bye", "2.0")]
    assert (bye.status, bye.date_removed) == (
        PackagePublishingStatus.DELETED, RESCAN)
    assert found[("hello-udeb", "1.0-1")].date_removed is None


def test_release_history_is_recorded(store, distribution, archive):
    """Release and InRelease are recorded with size, time and checksums,
    and a changed Release adds to their history."""
    scan(store, distribution, archive)
    details = MasterFileDetailSet(store)
    [inrelease] = details.getHistory(distribution, "dists/noble/InRelease")
    verifyObject(IMasterFileDetail, inrelease)
    path = os.path.join(archive.root, "dists/noble/InRelease")
    assert inrelease.size == os.path.getsize(path)
    assert (len(inrelease.md5), len(inrelease.sha1), len(inrelease.sha256),
            len(inrelease.sha512)) == (32, 40, 64, 128)
    assert inrelease.date_first_seen == FIRST_SCAN
    assert details.findBySHA256(distribution, inrelease.sha256) == [
        inrelease]
    archive.add_binary("noble", "new", "1", mtime=HELLO_TIME)
    archive.publish_all()
    os.utime(path, (1e9, 1e9))
    scan(store, distribution, archive, RESCAN)
    history = details.getHistory(distribution, "dists/noble/InRelease")
    assert [entry.date_first_seen for entry in history] == [RESCAN,
                                                            FIRST_SCAN]
    assert history[0].date_modified == datetime(2001, 9, 9, 1, 46, 40)


def listed_by(store, detail):
    return {index.path: (index.sha256, index.size) for index in store.find(
        MasterReleaseIndex, master_file_detail_id=detail.id)}


def test_release_versions_keep_what_they_list(store, distribution,
                                              archive):
    """Each new version of a suite's Release and InRelease keeps the index
    files it lists, with their SHA-256 and size, as the master wrote them;
    only the newest `release_versions` keep them."""
    for number, when in enumerate((FIRST_SCAN, RESCAN,
                                   RESCAN + timedelta(days=1))):
        if number:
            archive.add_binary("noble", "new%d" % number, "1",
                               mtime=HELLO_TIME)
            archive.publish_all()
        ArchiveScanner(store, distribution, archive.root, LOG, when,
                       release_versions=2).scan()
    details = MasterFileDetailSet(store)
    for name in ("InRelease", "Release"):
        history = details.getHistory(distribution, "dists/noble/" + name)
        assert len(history) == 3
        assert [bool(listed_by(store, version)) for version in history] == [
            True, True, False]
    newest = listed_by(store, details.getHistory(
        distribution, "dists/noble/InRelease")[0])
    path = os.path.join(archive.root, "dists/noble/main/binary-amd64/"
                        "Packages.gz")
    with open(path, "rb") as f:
        data = f.read()
    assert newest["main/binary-amd64/Packages.gz"] == (
        hashlib.sha256(data).hexdigest(), len(data))


def test_the_copies_compared_are_inrelease_else_release():
    """Of a suite's control files a mirror's copy of its InRelease is
    compared, or of its Release when the master has no InRelease; of an
    RPM repository its repomd.xml; other files are none."""
    assert consistency_files([
        "dists/noble/InRelease", "dists/noble/Release",
        "dists/noble-updates/Release", "old/dists/warty/Release",
        "dists/noble/main/binary-amd64/Release",
        "dists/noble/main/binary-amd64/Packages.gz",
        "releases/40/os/repodata/repomd.xml", "repodata/repomd.xml"]) == {
        "dists/noble": "dists/noble/InRelease",
        "dists/noble-updates": "dists/noble-updates/Release",
        "old/dists/warty": "old/dists/warty/Release",
        "releases/40/os": "releases/40/os/repodata/repomd.xml",
        "": "repodata/repomd.xml"}


def test_no_change_rescan_writes_nothing(store, distribution, archive,
                                         tmp_path):
    """A rescan of an unchanged master skips every part and writes
    nothing."""
    build_rpm_repository(os.path.join(
        archive.root, "fedora/releases/40/Everything/x86_64/os"))
    trace = os.path.join(archive.root, "project", "trace")
    os.makedirs(trace)
    with open(os.path.join(trace, "master"), "w") as f:
        f.write("Sat Jan 20 21:29:35 UTC 2024\n")
    scan(store, distribution, archive)
    before = snapshot(store)
    report = scan(store, distribution, archive, RESCAN)
    assert report.problems == []
    assert report.suites_unchanged == ["noble", "noble-updates"]
    assert report.repositories_unchanged == [
        "fedora/releases/40/Everything/x86_64/os"]
    assert report.rows_written == 0
    assert snapshot(store) == before


@pytest.mark.parametrize("damage", ["truncated-gz", "checksum-mismatch",
                                    "malformed-stanza"])
def test_corrupt_index_leaves_the_database_unchanged(
        store, distribution, archive, damage):
    """A corrupt index is reported naming the file; its suite keeps what
    the database had, and the other suites are scanned."""
    scan(store, distribution, archive)
    before = snapshot(store)
    archive.add_binary("noble", "new", "1", mtime=HELLO_TIME)
    archive.add_binary("noble-updates", "newer", "1", mtime=HELLO_TIME)
    archive.publish_all()
    suite_dir = os.path.join(archive.root, "dists", "noble")
    index = os.path.join(suite_dir, "main", "binary-amd64", "Packages.gz")
    with open(index, "rb") as f:
        data = f.read()
    if damage == "truncated-gz":
        data = data[:len(data) // 2]
    elif damage == "checksum-mismatch":
        data = data[:-1] + bytes([data[-1] ^ 1])
    else:
        data = gzip.compress(gzip.decompress(data).replace(
            b"Package: new\n", b"Package new\n"))
    with open(index, "wb") as f:
        f.write(data)
    if damage == "malformed-stanza":
        archive.write_release("noble", "24.04", components=("main",
                                                            "universe"))
    report = scan(store, distribution, archive, RESCAN)
    [(path, problem)] = report.problems
    assert path == "dists/noble/main/binary-amd64/Packages.gz"
    expected = {"truncated-gz": "size", "checksum-mismatch": "SHA256",
                "malformed-stanza": "malformed field"}[damage]
    assert expected in problem
    assert report.suites_scanned == ["noble-updates"]
    after = snapshot(store)
    changed = [table for table in TABLES if after[table] != before[table]]
    # Only noble-updates' new package and its scan state were written.
    assert set(changed) <= {"binary_package_release", "binary_package_file",
                            "binary_package_publishing_history",
                            "archive_scan_state", "master_file_detail"}
    assert sorted((p.name, p.version) for p in binaries(
        store, distribution, pocket=Pocket.UPDATES)) == [
        ("hello", "1.0-2"), ("newer", "1")]
    assert "new" not in [p.name for p in binaries(store, distribution)]
    # Mended, the suite is scanned on the next run.
    archive.publish_all()
    report = scan(store, distribution, archive, RESCAN)
    assert report.problems == [] and "noble" in report.suites_scanned
    assert "new" in [p.name for p in binaries(store, distribution)]


def test_rpm_repositories_and_repomd_history(store, distribution, tmp_path):
    """A directory with repodata/repomd.xml is recorded with the arch and
    version its path tells, and its repomd.xml with its checksums."""
    root = tmp_path / "fedora"
    repomd = build_rpm_repository(str(
        root / "releases" / "40" / "Everything" / "x86_64" / "os"))
    build_rpm_repository(str(root / "updates" / "40" / "Everything" /
                             "source" / "tree"))
    report = ArchiveScanner(store, distribution, str(root), LOG,
                            FIRST_SCAN).scan()
    assert report.problems == []
    repositories = RPMRepositorySet(store).getByDistribution(distribution)
    for repository in repositories:
        verifyObject(IRPMRepository, repository)
    assert [(r.path, r.arch, r.version) for r in repositories] == [
        ("releases/40/Everything/x86_64/os", "x86_64", "40"),
        ("updates/40/Everything/source/tree", "source", "40")]
    [detail] = MasterFileDetailSet(store).getHistory(
        distribution,
        "releases/40/Everything/x86_64/os/repodata/repomd.xml")
    assert detail.size == os.path.getsize(repomd)


def test_broken_repomd_is_reported(store, distribution, tmp_path):
    """A repomd.xml that is not well-formed is reported naming it, and no
    repository is recorded for it."""
    root = tmp_path / "fedora"
    repomd = build_rpm_repository(str(root / "40" / "x86_64" / "os"))
    with open(repomd, "r+b") as f:
        f.truncate(100)
    report = ArchiveScanner(store, distribution, str(root), LOG,
                            FIRST_SCAN).scan()
    [(path, problem)] = report.problems
    assert path == "40/x86_64/os/repodata/repomd.xml"
    assert "not well-formed" in problem
    assert RPMRepositorySet(store).getByDistribution(distribution) == []


def test_trace_history(store, distribution, tmp_path):
    """Each new time a trace file tells is kept in its history; the same
    time read again adds nothing."""
    trace = tmp_path / "master" / "project" / "trace"
    trace.mkdir(parents=True)
    (trace / "master").write_text("Sat Jan 20 21:29:35 UTC 2024\n"
                                  "Used ftpsync version: 20180513\n")
    root = str(tmp_path / "master")
    ArchiveScanner(store, distribution, root, LOG, FIRST_SCAN).scan()
    ArchiveScanner(store, distribution, root, LOG, RESCAN).scan()
    (trace / "master").write_text("Sun Jan 21 03:29:35 UTC 2024\n")
    ArchiveScanner(store, distribution, root, LOG,
                   RESCAN + timedelta(hours=1)).scan()
    history = TraceFileTimestampSet(store).getHistory(
        distribution, "project/trace/master")
    verifyObject(ITraceFileTimestamp, history[0])
    assert [(h.date_trace, h.date_first_seen) for h in history] == [
        (datetime(2024, 1, 21, 3, 29, 35), RESCAN + timedelta(hours=1)),
        (datetime(2024, 1, 20, 21, 29, 35), FIRST_SCAN)]


def test_new_packages_become_the_mirrors_freshness_urls(
        store, distribution, archive):
    """After new packages are published and scanned, a mirror's
    getURLsToCheckUpdateness points at them."""
    scan(store, distribution, archive)
    mirror = distribution.newMirror(
        distribution.owner, "mirror", MirrorSpeed.S1G, CountrySet(store)[
            "DE"], MirrorContent.ARCHIVE, MirrorPulseType.PULL,
        http_base_url="http://mirror.example.org/testix/")
    record = mirror.ensureMirrorDistroArchSeries(
        distribution.getSeries("noble").getArch("amd64"), Pocket.RELEASE,
        ComponentSet(store)["main"])
    store.commit()
    base = "http://mirror.example.org/testix/pool/main/"
    urls = record.getURLsToCheckUpdateness(when=RESCAN)
    assert list(urls) == [MirrorFreshness.UP]
    assert urls[MirrorFreshness.UP] in {
        base + "b/bye/bye_2.0_amd64.deb",
        base + "h/hello-src/hello_1.0-1_amd64.deb"}

    archive.add_binary("noble", "hello", "1.1-1", source="hello-src",
                       mtime=HELLO_TIME)
    archive.publish_all()
    scan(store, distribution, archive, RESCAN)
    urls = record.getURLsToCheckUpdateness(when=RESCAN + timedelta(
        minutes=10))
    assert urls == {MirrorFreshness.UP:
                    base + "h/hello-src/hello_1.1-1_amd64.deb"}


@pytest.mark.parametrize("suite, expected", [
    ("noble", ("noble", Pocket.RELEASE)),
    ("noble-updates", ("noble", Pocket.UPDATES)),
    ("noble-security", ("noble", Pocket.SECURITY)),
    ("bookworm-proposed-updates", ("bookworm", Pocket.PROPOSED)),
    ("bookworm-backports", ("bookworm", Pocket.BACKPORTS)),
])
def test_suite_names(suite, expected):
    """A suite's name tells its series and pocket."""
    assert split_suite(suite) == expected


def test_progress_is_told_after_each_part(store, distribution, archive):
    """The scanner tells its progress callable after each part of the
    master, counting to the number of parts; on a terminal the script
    logs it at most once an interval, and not at all elsewhere."""
    from mirrorkeeper.scripts.archive import terminal_progress
    told = []
    ArchiveScanner(store, distribution, archive.root, LOG, when=FIRST_SCAN,
                   progress=lambda *args: told.append(args)).scan()
    assert told, "no progress was told"
    assert [done for done, _, _ in told] == list(range(1, len(told) + 1))
    assert {total for _, total, _ in told} == {len(told)}
    assert told[0][2].startswith("dists/")
    lines = []

    class Log:
        def info(self, text, *args):
            lines.append(text % args)
    now = [0.0]
    progress = terminal_progress(Log(), interval=5, clock=lambda: now[0],
                                 terminal=True)
    for second, done in ((1, 1), (6, 2), (7, 3), (12, 4)):
        now[0] = second
        progress(done, 4, "dists/noble")
    assert lines == [
        "Progress: 2 of 4 parts of the master scanned (dists/noble)",
        "Progress: 4 of 4 parts of the master scanned (dists/noble)"]
    assert terminal_progress(Log(), terminal=False) is None
