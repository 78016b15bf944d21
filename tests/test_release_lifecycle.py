"""The release lifecycle (issue 17 section 4): a new series found by the
master scan, the mirrors expected to carry it and the mail to the others'
owners (delivered to a real SMTP server), and the moves of a series to its
release and archive locations, over real archives, on both backends."""

import logging
import os
import signal
import subprocess
import sys
from datetime import datetime

import pytest

from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, PackagePublishingPocket,
    SeriesLocation, SeriesStatus)
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.mail.delivery import SMTPMailDelivery
from mirrorkeeper.mail.notifications import MailSettings
from mirrorkeeper.mail.outbox import OutboxMessage, deliver_pending
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distroseries import valid_root
from mirrorkeeper.model.mirrorcontent import binary_paths_to_check
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.prober.plan import plan_archive_mirrors
from mirrorkeeper.scripts.cli import main
from tests.archive_builder import DebianArchive

LOG = logging.getLogger("mirrorkeeper.test-release")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_SCAN = datetime(2025, 6, 1, 12, 0)
SETTINGS = MailSettings(sender="Testix mirrors <mirrors@example.org>",
                        site_name="Testix mirrors")


@pytest.fixture
def testix(store):
    """Testix, with a master holding 'bookworm'; the mirrors auto (picks
    up new series, owned by Ann), manual and other (both Bob's) and
    manual2 (Carol's), and cd (CD images, Carol's)."""
    people = PersonSet(store)
    ann = people.new("ann", "Ann Auto", "ann@example.com")
    bob = people.new("bob", "Bob Manual", "bob@example.com")
    carol = people.new("carol", "Carol Careful", "carol@example.com")
    admins = people.newTeam("testix-admins", "Testix Admins", members=[ann])
    testix = DistributionSet(store).new("testix", "Testix", "Testix Linux",
                                        ann, admins)
    germany = CountrySet(store)["DE"]
    for name, owner, content in [("auto", ann, MirrorContent.ARCHIVE),
                                 ("manual", bob, MirrorContent.ARCHIVE),
                                 ("other", bob, MirrorContent.ARCHIVE),
                                 ("manual2", carol, MirrorContent.ARCHIVE),
                                 ("cd", carol, MirrorContent.RELEASE)]:
        mirror = testix.newMirror(
            owner, name, MirrorSpeed.S1G, germany, content,
            MirrorPulseType.PULL,
            http_base_url="http://%s.example.org/testix/" % name)
        mirror.picks_up_new_series = name == "auto"
    store.commit()
    return testix


@pytest.fixture
def master(tmp_path):
    archive = DebianArchive(tmp_path / "master")
    archive.add_binary("bookworm", "hello", "1.0-1")
    archive.publish("bookworm", version="12")
    return archive


def scan(store, distribution, master, when=FIRST_SCAN):
    report = ArchiveScanner(store, distribution, master.root, LOG, when,
                            config=SETTINGS).scan()
    assert report.problems == []
    return report


def add_trixie(master):
    master.add_binary("trixie", "hello", "2.0-1")
    master.publish("trixie", version="13")


def outbox(store):
    store.rollback()
    return sorted((message.as_message()["To"],
                   message.as_message()["Subject"])
                  for message in store.find(OutboxMessage))


def expected_suites(mirror):
    return sorted({arch.distro_series.suite(pocket) for arch, pocket, _, _
                   in mirror.guessPackagesPaths()
                   if pocket is PackagePublishingPocket.RELEASE})


def mirror(distribution, name):
    [found] = [m for m in distribution.mirrors if m.name == name]
    return found


# Roots.

@pytest.mark.parametrize("given, root", [
    ("", ""), ("releases/40", "releases/40/"), ("archive/", "archive/"),
    (" archive//debian/ ", "archive/debian/")])
def test_valid_root(given, root):
    """A root is a relative directory ending in '/', or '' for the
    archive's own root."""
    assert valid_root(given) == root


@pytest.mark.parametrize("given", [
    "/srv/archive/", "../archive/", "archive/../..", "a/./b", "a\\b",
    "a?b", "a#b", "a%2fb", "a\nb", None, 3])
def test_invalid_root_is_a_clear_error(given):
    """An absolute root, one that climbs out or holds characters a URL
    would read otherwise is refused, saying what to give."""
    with pytest.raises(InvalidValueError, match="relative"):
        valid_root(given)


# New series found by the scan.

def test_first_scan_series_are_expected_of_every_mirror(store, testix,
                                                        master):
    """The series of a distribution's first scan are its series: expected
    of every archive mirror, and nobody is told of them."""
    report = scan(store, testix, master)
    assert report.new_series == []
    bookworm = testix.getSeries("bookworm")
    assert bookworm.every_mirror and bookworm.date_announced is None
    for name in ("auto", "manual", "other", "manual2"):
        assert expected_suites(mirror(testix, name)) == ["bookworm"]
    assert outbox(store) == []


def test_new_series_expected_of_mirrors_that_pick_it_up(store, testix,
                                                        master):
    """A series a later scan finds is expected at once of the mirrors that
    pick up new series, not of the others."""
    scan(store, testix, master)
    add_trixie(master)
    report = scan(store, testix, master, datetime(2025, 6, 2))
    assert report.new_series == ["trixie"]
    trixie = testix.getSeries("trixie")
    assert not trixie.every_mirror
    assert trixie.location is SeriesLocation.RELEASE
    assert expected_suites(mirror(testix, "auto")) == ["bookworm", "trixie"]
    for name in ("manual", "other", "manual2"):
        assert expected_suites(mirror(testix, name)) == ["bookworm"]


def test_owners_of_the_other_mirrors_are_told_once(store, testix, master,
                                                   smtp_server):
    """Each owner of an archive mirror that does not pick up new series
    gets one message naming all their mirrors; a rescan sends nothing
    more."""
    smtp_server.clear()
    scan(store, testix, master)
    add_trixie(master)
    scan(store, testix, master, datetime(2025, 6, 2))
    assert outbox(store) == [
        ("Bob Manual <bob@example.com>",
         "Testix mirrors: Testix has a new series, trixie"),
        ("Carol Careful <carol@example.com>",
         "Testix mirrors: Testix has a new series, trixie")]
    assert testix.getSeries("trixie").date_announced is not None
    # The master changes again; the series is known and told of already.
    master.add_binary("trixie", "hello", "2.0-2")
    master.publish("trixie", version="13")
    scan(store, testix, master, datetime(2025, 6, 3))
    assert len(outbox(store)) == 2
    sent, failed = deliver_pending(
        store, SMTPMailDelivery(smtp_server.host, smtp_server.port))
    assert (sent, failed) == (2, 0)
    received = {m.message["To"]: m for m in smtp_server.wait_for(2)}
    bob = received["Bob Manual <bob@example.com>"]
    assert bob.message["From"] == "Testix mirrors <mirrors@example.org>"
    assert bob.message["X-Mirrorkeeper-Series"] == "trixie"
    body = bob.body
    assert all(len(line) <= 72 for line in body.splitlines()
               if not line.startswith("    "))
    assert "    manual  http://manual.example.org/testix/\n" in body
    assert "    other  http://other.example.org/testix/\n" in body
    body = " ".join(body.split())
    assert "a new series, trixie (13), under dists/trixie*" in body
    assert "auto" not in body and "manual2" not in body
    carol = received["Carol Careful <carol@example.com>"].body
    assert "manual2" in carol and "cd.example.org" not in carol


def test_a_suite_that_fails_tells_nobody_until_it_is_read(store, testix,
                                                          master, tmp_path):
    """A new suite whose indexes cannot be read records no series and
    queues no mail (one transaction); once it reads well, the owners are
    told, once."""
    scan(store, testix, master)
    add_trixie(master)
    packages = os.path.join(master.root, "dists", "trixie", "main",
                            "binary-amd64", "Packages.gz")
    good = open(packages, "rb").read()
    with open(packages, "wb") as f:
        f.write(b"not gzip at all")
    report = ArchiveScanner(store, testix, master.root, LOG,
                            datetime(2025, 6, 2), config=SETTINGS).scan()
    assert report.problems and report.new_series == []
    store.rollback()
    assert [s.name for s in testix.series] == ["bookworm"]
    assert outbox(store) == []
    with open(packages, "wb") as f:
        f.write(good)
    scan(store, testix, master, datetime(2025, 6, 3))
    assert len(outbox(store)) == 2


SCAN_CHILD = """
import os, signal, sys
sys.path.insert(0, os.path.join(sys.argv[3], "lib"))
from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.database.store import open_store
from mirrorkeeper.mail.notifications import MailSettings
from mirrorkeeper.model import register_utilities
from mirrorkeeper.model.distribution import DistributionSet
import logging
store = open_store(sys.argv[1])
register_utilities(store)

def progress(done, total, label):
    if label == "dists/trixie":
        os.kill(os.getpid(), signal.SIGKILL)

ArchiveScanner(store, DistributionSet(store)["testix"], sys.argv[2],
               logging.getLogger("child"), progress=progress,
               config=MailSettings()).scan()
"""


def test_a_scan_killed_and_rerun_tells_once(store, testix, master,
                                            database_uri):
    """A scan killed (SIGKILL) just after it recorded the new series and
    a rerun queue one message per owner, not two."""
    scan(store, testix, master)
    add_trixie(master)
    store.commit()
    child = subprocess.run(
        [sys.executable, "-c", SCAN_CHILD, database_uri, master.root, ROOT],
        capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(outbox(store)) == 2
    scan(store, testix, master, datetime(2025, 6, 3))
    assert len(outbox(store)) == 2
    assert testix.getSeries("trixie").date_announced is not None


def test_mirror_that_takes_a_new_series_on(store, testix, master):
    """A mirror that does not pick up new series carries one it takes on;
    a mirror of another distribution cannot."""
    scan(store, testix, master)
    add_trixie(master)
    scan(store, testix, master, datetime(2025, 6, 2))
    trixie = testix.getSeries("trixie")
    trixie.takeOn(mirror(testix, "manual"))
    trixie.takeOn(mirror(testix, "manual"))
    store.commit()
    assert expected_suites(mirror(testix, "manual")) == [
        "bookworm", "trixie"]
    assert expected_suites(mirror(testix, "other")) == ["bookworm"]
    people = PersonSet(store)
    other = DistributionSet(store).new(
        "othix", "Othix", "Othix", people["ann"], people["testix-admins"])
    stranger = other.newMirror(
        people["ann"], "stranger", MirrorSpeed.S1G, CountrySet(store)["DE"],
        MirrorContent.ARCHIVE, MirrorPulseType.PULL,
        http_base_url="http://stranger.example.org/")
    with pytest.raises(InvalidValueError, match="not of testix"):
        trixie.takeOn(stranger)


# Moving a series through its life.

def test_move_to_release_and_to_archive(store, testix, master):
    """A development series moves to its release location and becomes the
    current release; at end of life it moves to the archive location,
    becomes obsolete and leaves what mirrors are expected to carry."""
    scan(store, testix, master)
    add_trixie(master)
    scan(store, testix, master, datetime(2025, 6, 2))
    bookworm = testix.getSeries("bookworm")
    forky = testix.newSeries("forky", "14", SeriesStatus.DEVELOPMENT)
    forky.newArch("amd64")
    forky.addComponent(bookworm.components[0])
    bookworm.status = SeriesStatus.CURRENT
    assert forky.location is SeriesLocation.DEVELOPMENT
    auto = mirror(testix, "auto")
    assert "forky" in expected_suites(auto)
    forky.moveToRelease("releases/14")
    assert (forky.status, forky.location, forky.root) == (
        SeriesStatus.CURRENT, SeriesLocation.RELEASE, "releases/14/")
    assert bookworm.status is SeriesStatus.SUPPORTED
    [path] = [path for arch, pocket, component, path
              in auto.guessPackagesPaths()
              if arch.distro_series is forky and
              pocket is PackagePublishingPocket.RELEASE]
    assert path == "releases/14/dists/forky/main/binary-amd64/Packages.gz"
    with pytest.raises(InvalidValueError, match="not in development"):
        forky.moveToRelease()
    bookworm.moveToArchive("archive")
    assert (bookworm.status, bookworm.location, bookworm.root) == (
        SeriesStatus.OBSOLETE, SeriesLocation.ARCHIVE, "archive/")
    assert expected_suites(auto) == ["forky", "trixie"]
    assert expected_suites(mirror(testix, "manual")) == ["forky"]
    with pytest.raises(InvalidValueError, match="already"):
        bookworm.moveToArchive("archive/")


def test_a_bad_move_changes_nothing(store, testix, master):
    """A move to a bad root is refused before anything changes."""
    scan(store, testix, master)
    forky = testix.newSeries("forky", "14", SeriesStatus.DEVELOPMENT)
    bookworm = testix.getSeries("bookworm")
    bookworm.status = SeriesStatus.CURRENT
    with pytest.raises(InvalidValueError):
        forky.moveToRelease("/srv/releases/14")
    assert (forky.status, forky.location, forky.root) == (
        SeriesStatus.DEVELOPMENT, SeriesLocation.DEVELOPMENT, "")
    assert bookworm.status is SeriesStatus.CURRENT
    with pytest.raises(InvalidValueError):
        bookworm.moveToArchive("../archive")
    assert (bookworm.status, bookworm.location) == (
        SeriesStatus.CURRENT, SeriesLocation.RELEASE)


def test_archived_series_is_probed_at_the_archive_only(store, testix,
                                                       master):
    """A mirror that has records of a series now obsolete is asked for it
    at the archive location, indexes and pool files alike; a mirror
    without them is not asked for it at all."""
    scan(store, testix, master)
    bookworm = testix.getSeries("bookworm")
    auto, manual = mirror(testix, "auto"), mirror(testix, "manual")
    amd64 = bookworm.getArch("amd64")
    main_component = bookworm.components[0]
    auto.ensureMirrorDistroArchSeries(
        amd64, PackagePublishingPocket.RELEASE, main_component)
    bookworm.moveToArchive("archive/")
    store.commit()
    [freshness_path] = set(binary_paths_to_check(
        store, amd64.id, main_component.id,
        PackagePublishingPocket.RELEASE).values())
    assert freshness_path == \
        "archive/pool/main/h/hello/hello_1.0-1_amd64.deb"
    plans = {plan.name: plan for plan in plan_archive_mirrors(
        store, [auto, manual])}
    urls = set(plans["auto"].urls)
    base = "http://auto.example.org/testix/"
    assert base + "archive/dists/bookworm/main/binary-amd64/Packages.gz" \
        in urls
    assert base + freshness_path in urls
    assert not any(url.startswith(base + "dists/") for url in urls)
    assert list(plans["manual"].urls) == []


# The command line.

def run(capsys, uri, *args):
    status = main(["--database", uri] + list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_release_commands(store, testix, master, database_uri, capsys):
    """`mirrorkeeper release` moves series, takes new ones on, sets a
    mirror's auto pickup, lists each series' life, and refuses bad input
    with a clear error and exit status 1."""
    scan(store, testix, master)
    add_trixie(master)
    scan(store, testix, master, datetime(2025, 6, 2))
    store.commit()
    status, out, err = run(capsys, database_uri, "release", "take-on",
                           "trixie", "manual", "--distribution", "testix")
    assert (status, out) == (0, "manual is expected to carry trixie.\n")
    status, out, _ = run(capsys, database_uri, "release", "auto-pickup",
                         "manual2")
    assert (status, out) == (0, "manual2 picks up new series by itself.\n")
    status, out, _ = run(capsys, database_uri, "release", "move-to-archive",
                         "bookworm", "--root", "archive/")
    assert status == 0 and "archive/ only" in out
    status, out, _ = run(capsys, database_uri, "release", "list")
    assert status == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines[0][:5] == ["SERIES", "VERSION", "STATUS", "LOCATION",
                            "ROOT"]
    assert lines[1][:5] == ["trixie", "13", "supported", "release", "(root)"]
    assert " ".join(lines[1][5:9]) == "3 of 4 mirrors"
    assert lines[2][:7] == ["bookworm", "12", "obsolete", "archive",
                            "archive/", "none", "(obsolete)"]
    status, _, err = run(capsys, database_uri, "release", "move-to-archive",
                         "trixie", "--root", "/abs/")
    assert status == 1 and "invalid root" in err
    status, _, err = run(capsys, database_uri, "release", "take-on",
                         "trixie", "cd")
    assert status == 1 and "CD images" in err
    status, _, err = run(capsys, database_uri, "release", "move-to-release",
                         "nosuch")
    assert status == 1 and "nosuch" in err
    store.rollback()
    assert testix.getSeries("trixie").status is SeriesStatus.SUPPORTED


def test_series_under_a_root_is_scanned_there(store, testix, master):
    """A series moved to a root of its own is scanned there, its pool
    paths asked for under that root; the copy the main dists/ may still
    hold is passed by."""
    scan(store, testix, master)
    testix.getSeries("bookworm").moveToArchive("archive/")
    store.commit()
    archived = DebianArchive(os.path.join(master.root, "archive"))
    archived.add_binary("bookworm", "hello", "1.0-1")
    archived.add_binary("bookworm", "hello", "1.0-2")
    archived.publish("bookworm", version="12")
    report = scan(store, testix, master, datetime(2025, 6, 2))
    assert report.suites_scanned == ["bookworm"]
    bookworm = testix.getSeries("bookworm")
    amd64, main_component = bookworm.getArch("amd64"), \
        bookworm.components[0]
    paths = set(binary_paths_to_check(
        store, amd64.id, main_component.id,
        PackagePublishingPocket.RELEASE, datetime(2025, 6, 2, 1)).values())
    assert paths == {"archive/pool/main/h/hello/hello_1.0-2_amd64.deb"}
    # The main copy changes, and is still not scanned.
    master.add_binary("bookworm", "bye", "1.0")
    master.publish("bookworm", version="12")
    report = scan(store, testix, master, datetime(2025, 6, 3))
    assert report.suites_scanned == [] and \
        report.suites_unchanged == ["bookworm"]


# Series roots (issue 17): series add --root, the development root.

def test_series_add_at_a_root(store, testix, database_uri, capsys):
    """`series add --root` records the series there, at the location its
    status implies; a bad root is refused with a clear error, and nothing
    is added."""
    status, out, _ = run(capsys, database_uri, "series", "add", "testix",
                         "forky", "14", "--root", "development/14")
    assert (status, out) == (0, "Added the series forky 14 (development) "
                                "to testix at development/14/, with the "
                                "components: none yet.\n")
    for root in ("../up/", "/abs/", "a/%2e%2e/"):
        status, _, err = run(capsys, database_uri, "series", "add",
                             "testix", "sid", "15", "--root", root)
        assert status == 1 and "invalid root %r" % (root,) in err
    store.rollback()
    forky = testix.getSeries("forky")
    assert (forky.location, forky.root, forky.date_moved) == (
        SeriesLocation.DEVELOPMENT, "development/14/", None)
    assert [series.name for series in testix.series] == ["forky"]


def test_development_root_command(store, testix, database_uri, capsys):
    """`release development-root` says, sets and clears where new series
    in development are found; '' and bad roots are refused."""
    status, out, _ = run(capsys, database_uri, "release", "development-root")
    assert (status, out) == (0, "testix finds new series in development "
                                "nowhere (no development root).\n")
    status, out, _ = run(capsys, database_uri, "release", "development-root",
                         "pub/devel")
    assert (status, out) == (0, "testix finds new series in development "
                                "under pub/devel/.\n")
    for root in ("", "../devel/"):
        status, _, err = run(capsys, database_uri, "release",
                             "development-root", root)
        assert status == 1 and "invalid development root" in err or \
            "invalid root" in err
    status, _, err = run(capsys, database_uri, "release",
                         "development-root", "x/", "--none")
    assert status == 1 and "not both" in err
    store.rollback()
    assert testix.development_root == "pub/devel/"
    status, out, _ = run(capsys, database_uri, "release", "development-root",
                         "--none")
    assert status == 0 and "nowhere" in out
    store.rollback()
    assert testix.development_root is None


def test_new_series_found_under_the_development_root(store, testix, master):
    """A series the scan finds under the development root is recorded at
    its development location with that root, in development whatever its
    Release says, expected only of the mirrors that pick up new series;
    its pool paths are asked for under the root.  A suite there of a
    series the main dists/ has is passed by."""
    testix.setDevelopmentRoot("development/")
    store.commit()
    scan(store, testix, master)
    development = DebianArchive(os.path.join(master.root, "development"))
    development.add_binary("forky", "hello", "3.0-1",
                           mtime=datetime(2025, 6, 1, 18))
    development.publish("forky", version="14")
    development.add_binary("bookworm", "bye", "1.0")
    development.publish("bookworm", version="12")
    report = scan(store, testix, master, datetime(2025, 6, 2))
    assert report.new_series == ["forky"]
    assert report.suites_scanned == ["forky"]
    forky = testix.getSeries("forky")
    assert (forky.status, forky.location, forky.root, forky.every_mirror) \
        == (SeriesStatus.DEVELOPMENT, SeriesLocation.DEVELOPMENT,
            "development/", False)
    assert expected_suites(mirror(testix, "auto")) == ["bookworm", "forky"]
    assert expected_suites(mirror(testix, "manual")) == ["bookworm"]
    amd64 = forky.getArch("amd64")
    paths = set(binary_paths_to_check(
        store, amd64.id, forky.components[0].id,
        PackagePublishingPocket.RELEASE, datetime(2025, 6, 2, 1)).values())
    assert paths == {"development/pool/main/h/hello/hello_3.0-1_amd64.deb"}
    [plan] = plan_archive_mirrors(store, [mirror(testix, "auto")])
    assert "http://auto.example.org/testix/development/dists/forky/main/" \
        "binary-amd64/Packages.gz" in set(plan.urls)
    # Rescanned, it is scanned at its root, and found new no more.
    development.add_binary("forky", "hello", "3.0-2")
    development.publish("forky", version="14")
    report = scan(store, testix, master, datetime(2025, 6, 3))
    assert (report.new_series, report.suites_scanned) == ([], ["forky"])


def test_a_move_to_another_root_is_dated(store, testix, master):
    """Moving a series to another root records when; a move that keeps the
    root does not."""
    scan(store, testix, master)
    forky = testix.newSeries("forky", "14", SeriesStatus.DEVELOPMENT,
                             root="development/")
    forky.moveToRelease()
    assert (forky.root, forky.date_moved) == ("development/", None)
    testix.getSeries("bookworm").moveToArchive("archive/")
    assert testix.getSeries("bookworm").date_moved is not None
    store.commit()
