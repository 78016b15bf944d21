"""The prober cronscript, run as cron runs it, against real mirrors on
loopback, on both database backends."""

import json
import fcntl
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from mirrorkeeper.database.store import open_store
from mirrorkeeper.enums import (
    MirrorFreshness, PackagePublishingPocket, ProbeRecordState,
    SourcePackageFileType)
from mirrorkeeper.model import register_utilities
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.publishing import PublishingSet
from mirrorkeeper.sampledata import load_sample_data
from mirrorkeeper.timeutil import utcnow
from tests.mirror_servers import MirrorServer, write_archive

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBER = os.path.join(ROOT, "cronscripts", "distributionmirror-prober.py")


CD_IMAGES = [
    ("ubuntu", "warty", "warty/ubuntu-4.10-install-i386.iso"),
    ("ubuntu", "warty", "warty/ubuntu-4.10-live-i386.iso"),
    ("kubuntu", "hoary", "hoary/kubuntu-5.04-install-i386.iso"),
    ("ubuntu", "breezy", "breezy/ubuntu-5.10-install-i386.iso"),
]


def put_images(root, paths):
    for path in paths:
        full = os.path.join(root, *path.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b"iso image")


def closed_port():
    """A loopback port nothing listens on: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class World:
    """Sample data whose mirrors are real servers: valid-mirror carries the
    whole archive but the newest upload, archive-404-mirror carries nothing,
    unreachable-mirror refuses connections."""

    def __init__(self, uri, tmp_path, smtp_server):
        self.uri = uri
        self.tmp_path = tmp_path
        self.smtp_server = smtp_server
        self.full_root = str(tmp_path / "full")
        self.empty_root = str(tmp_path / "empty")
        self.cd_root = str(tmp_path / "cd")
        os.makedirs(self.empty_root)
        os.makedirs(self.cd_root)
        self.servers = [MirrorServer(self.full_root),
                        MirrorServer(self.empty_root),
                        MirrorServer(self.cd_root)]
        full, empty, cd = self.servers
        store = self.store()
        ubuntu = load_sample_data(store, base_urls={
            "valid-mirror": {"http": full.url},
            "invalid-mirror": {"http": cd.url},
            "archive-404-mirror": {"http": empty.url},
            "unreachable-mirror": {
                "http": "http://127.0.0.1:%d/" % closed_port()},
        })
        warty = ubuntu.getSeries("warty")
        main = warty.components[0]
        now = utcnow()
        for version, age in [("1.0-1", timedelta(hours=30)),
                             ("1.1-1", timedelta(hours=3))]:
            PublishingSet(store).publishSource(
                warty, main, PackagePublishingPocket.RELEASE, "hello",
                version, [("hello_%s.dsc" % version,
                           SourcePackageFileType.DSC)], now - age)
        store.commit()
        write_archive(self.full_root, store, leave_out=["hello_1.1-1"])
        store.close()
        # The CD image manifest, as the master publishes it.
        with open(os.path.join(self.full_root, "cdimage.manifest"), "w") as f:
            for flavour, series, path in CD_IMAGES:
                f.write("%s\t%s\t%s\t%d\n" % (flavour, series, path, 9))
        self.manifest_url = full.url + "cdimage.manifest"
        self.config = str(tmp_path / "mirrorkeeper.conf")
        with open(self.config, "w") as f:
            f.write("[database]\nuri = %s\n[mail]\nsmtp_host = %s\n"
                    "smtp_port = %d\n[prober]\nallowed_networks = "
                    "127.0.0.0/8 ::1/128\ntimeout = 5\nworkers = 1\n"
                    "lock_file = %s\n"
                    "cdimage_manifest_url = %s\n" % (
                        uri, smtp_server.host, smtp_server.port,
                        tmp_path / "prober.lock", self.manifest_url))
        self.lock_file = str(tmp_path / "prober.lock")

    def store(self):
        store = open_store(self.uri)
        register_utilities(store)
        return store

    def mirror(self, name):
        store = self.store()
        return store, DistributionMirrorSet(store)[name]

    def run(self, *args):
        process = subprocess.run(
            [sys.executable, PROBER, "--config", self.config] + list(args),
            capture_output=True, text=True, timeout=120, cwd=ROOT)
        return process

    def stop(self):
        for server in self.servers:
            server.stop()


@pytest.fixture
def world(database_uri, tmp_path, smtp_server):
    smtp_server.clear()
    world = World(database_uri, tmp_path, smtp_server)
    yield world
    world.stop()


def test_run_records_content_and_freshness(world):
    """A run finds what valid-mirror carries and how fresh each part is,
    and its record says when the freshness bands were told."""
    from mirrorkeeper.timeutil import utcnow

    started = utcnow()
    process = world.run()
    ended = utcnow()
    assert process.returncode == 0, process.stderr
    assert "INFO    Probing Distribution Mirrors" in process.stderr
    assert "INFO    Probed 2 mirrors." in process.stderr
    assert process.stderr.rstrip().endswith("INFO    Done.")
    assert process.stdout == ""
    store, mirror = world.mirror("valid-mirror")
    sources = {(r.distro_series.name, r.pocket.name, r.component.name):
               r.freshness for r in mirror.source_series}
    # The newest hello upload (3 hours old) is missing, the one of 30 hours
    # ago there: the mirror is behind since the newer one, 3 hours.
    assert sources[("warty", "RELEASE", "main")] is \
        MirrorFreshness.SIXHOURSBEHIND
    # Every expected place is carried, since the tree has every index.
    assert len(sources) == len(mirror.guessSourcesPaths())
    assert mirror.arch_series.count() == len(mirror.guessPackagesPaths())
    assert mirror.enabled
    # Which IP families answered, for mirror lists by IP family.
    assert (mirror.has_ipv4, mirror.has_ipv6) == (True, False)
    log = mirror.last_probe_record.log
    assert "HEAD %sdists/warty/main/source/Sources.gz" % mirror.base_url \
        in log
    assert "Carries warty source main RELEASE: SIXHOURSBEHIND" in log
    told = json.loads(mirror.last_probe_record.findings)["bands_as_of"]
    assert started <= datetime.strptime(told, "%Y-%m-%dT%H:%M:%S.%fZ") \
        <= ended
    assert log.splitlines()[1].endswith(
        " Freshness is judged by the uploads the master had published as"
        " of %s" % (told,))
    store.close()


def test_mirror_carrying_nothing_is_disabled_and_owner_emailed(world):
    """archive-404-mirror loses its records, is disabled, and its owner and
    the mirror admins each get one message."""
    process = world.run()
    assert process.returncode == 0, process.stderr
    assert "Disabled archive-404-mirror and notified its owner" in \
        process.stderr
    store, mirror = world.mirror("archive-404-mirror")
    assert not mirror.enabled
    assert mirror.arch_series.is_empty() and mirror.source_series.is_empty()
    assert "404" in mirror.last_probe_record.log
    store.close()
    received = world.smtp_server.wait_for(2)
    recipients = sorted(m.message["To"] for m in received)
    assert recipients == ["Foo Bar <foo.bar@example.com>",
                          "Mark Shuttleworth <mark@example.com>"]
    assert all("archive-404-mirror has been disabled" in m.message["Subject"]
               for m in received)
    assert "404" in received[0].message.get_content()


def test_second_run_within_a_day_probes_nothing(world):
    """Mirrors probed in the last day are left alone unless forced."""
    assert world.run().returncode == 0
    process = world.run()
    assert "No mirrors to probe." in process.stderr
    assert "Probed 0 mirrors." in process.stderr
    forced = world.run("--force")
    assert "Probed 3 mirrors." in forced.stderr


def test_disabled_mirror_is_told_once_and_enabled_on_recovery(world):
    """A forced second run does not mail again; once the mirror carries
    the archive it is enabled again."""
    assert world.run().returncode == 0
    world.smtp_server.wait_for(2)
    world.smtp_server.clear()
    store = world.store()
    write_archive(world.empty_root, store)
    store.close()
    process = world.run("--force")
    assert "Enabled archive-404-mirror again" in process.stderr
    store, mirror = world.mirror("archive-404-mirror")
    assert mirror.enabled and mirror.date_disabled_notified is None
    assert not mirror.arch_series.is_empty()
    store.close()
    # Nobody heard about archive-404-mirror a second time.
    subjects = [m.message["Subject"] for m in world.smtp_server.messages]
    assert not any("archive-404-mirror" in subject for subject in subjects)


def test_dry_run_writes_nothing(world):
    """--dry-run probes and logs, and leaves the database as it was."""
    process = world.run("--dry-run")
    assert process.returncode == 0, process.stderr
    assert "Dry run: nothing recorded." in process.stderr
    store, mirror = world.mirror("archive-404-mirror")
    assert mirror.enabled and mirror.probe_records.is_empty()
    store.close()


def test_no_owner_notification(world):
    """--no-owner-notification disables without sending mail."""
    process = world.run("--no-owner-notification")
    assert "Disabled archive-404-mirror" in process.stderr
    store, mirror = world.mirror("archive-404-mirror")
    assert not mirror.enabled
    store.close()
    assert world.smtp_server.messages == []


def test_unreachable_mirror_and_max_mirrors(world):
    """A refused connection fails at once and is logged; the mirror is
    unreachable, and disabled once it is so in two runs in a row;
    --max-mirrors caps the run."""
    process = world.run("--force", "--max-mirrors", "1")
    assert "Probed 1 mirrors." in process.stderr
    # Never-probed mirrors come first, then in the order registered.
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    assert mirrors["valid-mirror"].last_probe_record is not None
    assert mirrors["archive-404-mirror"].last_probe_record is None
    store.close()
    world.run("--force")
    store, mirror = world.mirror("unreachable-mirror")
    assert "refused" in mirror.last_probe_record.log.lower()
    assert mirror.enabled and mirror.unreachable
    assert mirror.failed_runs == 1
    store.close()
    world.run("--force")
    store, mirror = world.mirror("unreachable-mirror")
    assert not mirror.enabled and mirror.failed_runs == 2
    store.close()


def test_concurrent_runs_are_refused(world):
    """While a run holds the lock, another exits with an error."""
    with open(world.lock_file, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        process = world.run()
    assert process.returncode == 1
    assert "another run holds the lock" in process.stderr


def test_mass_failure_disables_nobody(world, tmp_path):
    """When every mirror is unreachable, the run changes nothing it
    learnt: no record deleted, nobody disabled or mailed; each probe
    record says the run was distrusted, and the run fails saying why."""
    store = world.store()
    for mirror in DistributionMirrorSet(store):
        if mirror.http_base_url:
            mirror.setURL("http", "http://127.0.0.1:%d/%s/" % (
                closed_port(), mirror.name))
    # Five mirrors are needed before a mass failure can be told apart.
    ubuntu = DistributionSet(store)["ubuntu"]
    owner = ubuntu.owner
    for number in range(3):
        extra = ubuntu.newMirror(
            owner, "extra-%d" % number, DistributionMirrorSet(store)[
                "valid-mirror"].speed, ubuntu.mirrors[0].country,
            ubuntu.mirrors[0].content, ubuntu.mirrors[0].pulse_type,
            http_base_url="http://127.0.0.1:%d/extra%d/" % (
                closed_port(), number), enabled=True)
        extra.status = DistributionMirrorSet(store)["valid-mirror"].status
    valid = DistributionMirrorSet(store)["valid-mirror"]
    valid.ensureMirrorDistroSeriesSource(
        valid.guessSourcesPaths()[0][0], valid.guessSourcesPaths()[0][1],
        valid.guessSourcesPaths()[0][2]).freshness = MirrorFreshness.UP
    store.commit()
    store.close()
    process = world.run("--force")
    assert process.returncode != 0
    assert "Changing nothing, disabling nobody, sending no mail: every one " \
        "of the 6 mirrors probed failed at the network level" in process.stderr
    store, mirror = world.mirror("valid-mirror")
    assert mirror.enabled and not mirror.unreachable
    assert mirror.source_series.count() == 1
    assert mirror.source_series.one().freshness is MirrorFreshness.UP
    record = mirror.last_probe_record
    assert record.state is ProbeRecordState.DISTRUSTED
    assert record.log.splitlines()[0].endswith(
        "This run was distrusted, so nothing it found took effect: every "
        "one of the 6 mirrors probed failed at the network level: the "
        "prober cannot trust its view of the network.")
    store.close()
    assert world.smtp_server.messages == []
    # Not having been applied, the run does not count as a probe: the next
    # run probes the mirror again, forced or not.
    assert "No mirrors to probe." not in world.run().stderr
    store, mirror = world.mirror("valid-mirror")
    assert mirror.probe_records.count() == 2
    store.close()


def test_cdimage_mirror_missing_images_is_disabled_then_recovers(world):
    """A CD image mirror lacking one flavour's images of a series loses
    that record and is disabled; with every image it is enabled again."""
    put_images(world.cd_root, [CD_IMAGES[0][2], CD_IMAGES[1][2]])
    process = world.run("--content-type", "cdimage")
    assert process.returncode == 0, process.stderr
    assert "Probed 1 mirrors." in process.stderr
    store, mirror = world.mirror("invalid-mirror")
    carried = sorted((r.distro_series.name, r.flavour)
                     for r in mirror.cdimage_series)
    # breezy is not a series of the distribution: ignored.
    assert carried == [("warty", "ubuntu")]
    assert not mirror.enabled
    assert "Lacks 1 of the 1 kubuntu images of hoary" in \
        mirror.last_probe_record.log
    store.close()
    assert len(world.smtp_server.wait_for(2)) == 2

    put_images(world.cd_root, [CD_IMAGES[2][2]])
    process = world.run("--content-type", "cdimage", "--force")
    assert "Enabled invalid-mirror again" in process.stderr
    store, mirror = world.mirror("invalid-mirror")
    assert mirror.enabled and mirror.cdimage_series.count() == 2
    store.close()


def test_unreadable_manifest_fails_the_run_and_changes_nothing(world):
    """Without its manifest a CD image run exits non-zero, disabling
    nobody."""
    os.remove(os.path.join(world.full_root, "cdimage.manifest"))
    process = world.run("--content-type", "cdimage")
    assert process.returncode == 1
    assert "cannot fetch the CD image manifest" in process.stderr
    store, mirror = world.mirror("invalid-mirror")
    assert mirror.enabled and mirror.probe_records.is_empty()
    store.close()


def write_config(world, **prober):
    """Rewrite the world's configuration with other [prober] settings."""
    # One process, as the farm's tests: sharing a run is
    # tests/test_prober_workers.py's subject.
    settings = {"allowed_networks": "127.0.0.0/8 ::1/128", "timeout": "5",
                "workers": "1", "lock_file": world.lock_file,
                "cdimage_manifest_url": world.manifest_url}
    settings.update(prober)
    with open(world.config, "w") as f:
        f.write("[database]\nuri = %s\n[mail]\nsmtp_host = %s\n"
                "smtp_port = %d\n[prober]\n" % (
                    world.uri, world.smtp_server.host,
                    world.smtp_server.port))
        for key, value in settings.items():
            f.write("%s = %s\n" % (key, value))


def test_failed_canary_disables_nobody(world):
    """When the canary URL fails, the probe records are kept, marked
    distrusted, and nothing else changes: nobody is disabled or mailed."""
    write_config(world, canary_url="http://127.0.0.1:%d/" % closed_port())
    process = world.run()
    assert process.returncode != 0
    assert "Changing nothing, disabling nobody, sending no mail: the " \
        "canary" in process.stderr
    store, mirror = world.mirror("archive-404-mirror")
    assert mirror.enabled
    assert mirror.last_probe_record.state is ProbeRecordState.DISTRUSTED
    assert "the canary" in mirror.last_probe_record.log.splitlines()[0]
    store.close()
    assert world.smtp_server.messages == []


def test_private_addresses_refused_unless_allowed(world):
    """A prober whose allowed_networks leave out loopback refuses loopback
    mirrors and says so in their log, naming the setting that would allow
    them."""
    write_config(world, allowed_networks="")
    process = world.run()
    # The run itself says which setting allows them, and fails: it probed
    # nothing.
    assert process.returncode == 1, process.stderr
    assert "refused by the address policy" in process.stderr
    assert "[prober] allowed_networks" in process.stderr
    store, mirror = world.mirror("valid-mirror")
    log = mirror.last_probe_record.log
    assert "FORBIDDEN_ADDRESS" in log and "loopback" in log
    assert "[prober] allowed_networks" in log
    assert mirror.arch_series.is_empty()
    store.close()


def test_old_allow_private_addresses_setting_refused(world):
    """A configuration that still sets allow_private_addresses is refused
    with one line naming the setting that replaced it; nothing is
    probed."""
    write_config(world, allow_private_addresses="true")
    process = world.run()
    assert process.returncode != 0
    assert "allow_private_addresses" in process.stderr
    assert "[prober] allowed_networks" in process.stderr
    assert "Traceback" not in process.stderr
    store, mirror = world.mirror("valid-mirror")
    assert mirror.last_probe_record is None
    store.close()


def test_allowed_networks_not_a_network(world):
    """A part of allowed_networks that is not a network is named."""
    write_config(world, allowed_networks="127.0.0.0/8, loopback")
    process = world.run()
    assert process.returncode != 0
    assert "[prober] allowed_networks: 'loopback' is not a network" in \
        process.stderr
    assert "Traceback" not in process.stderr


def test_mirror_that_never_worked_is_reported_once(world):
    """A reviewed mirror that was never enabled and carries nothing has its
    owner told once, not on every run."""
    store, mirror = world.mirror("archive-404-mirror")
    mirror.enabled = False
    store.commit()
    store.close()
    process = world.run()
    assert "Disabled archive-404-mirror and notified its owner" in \
        process.stderr
    assert len(world.smtp_server.wait_for(2)) == 2
    world.smtp_server.clear()
    process = world.run("--force")
    assert "archive-404-mirror" not in process.stderr
    subjects = [m.message["Subject"] for m in world.smtp_server.messages]
    assert not any("archive-404-mirror" in subject for subject in subjects)


def test_obsolete_series_probed_only_where_carried(world):
    """Once a series is obsolete, the prober asks only the mirrors that
    carried it, and forgets it where it is gone."""
    from mirrorkeeper.enums import SeriesStatus
    assert world.run().returncode == 0
    store = world.store()
    DistributionSet(store)["ubuntu"].getSeries("hoary").status = \
        SeriesStatus.OBSOLETE
    store.commit()
    store.close()
    import shutil
    shutil.rmtree(os.path.join(world.full_root, "dists", "hoary-updates"))
    assert world.run("--force").returncode == 0
    store, mirror = world.mirror("valid-mirror")
    suites = {r.distro_series.suite(r.pocket) for r in mirror.source_series}
    assert "hoary" in suites and "hoary-updates" not in suites
    log = mirror.last_probe_record.log
    assert "dists/hoary/main/source/Sources.gz" in log
    store.close()
    store, mirror = world.mirror("archive-404-mirror")
    assert "dists/hoary" not in mirror.last_probe_record.log
    store.close()


def test_old_probe_records_are_pruned(world):
    """Probe records older than the retention go, but each mirror keeps its
    newest."""
    from datetime import timedelta
    store, mirror = world.mirror("archive-404-mirror")
    for days in (40, 35):
        mirror.newProbeRecord("old probe\n", utcnow() - timedelta(days=days))
    store.commit()
    store.close()
    store, mirror = world.mirror("valid-mirror")
    mirror.newProbeRecord("old probe\n", utcnow() - timedelta(days=40))
    store.commit()
    store.close()
    # Only unreachable-mirror (probed an hour ago) is not due.
    process = world.run("--dry-run")
    assert "Deleted" not in process.stderr
    process = world.run()
    # Two of archive-404-mirror's, one of valid-mirror's.
    assert "Deleted 3 probe records older than 30 days" in process.stderr
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    assert mirrors["archive-404-mirror"].probe_records.count() == 1
    assert mirrors["valid-mirror"].probe_records.count() == 1
    assert mirrors["unreachable-mirror"].probe_records.count() == 1
    store.close()


def test_manifest_without_known_series_judges_nobody(world):
    """A manifest listing no image of a current series fails the run
    instead of disabling every CD image mirror."""
    with open(os.path.join(world.full_root, "cdimage.manifest"), "w") as f:
        f.write("ubuntu\tbreezy\tbreezy/ubuntu-5.10-install-i386.iso\t9\n")
    process = world.run("--content-type", "cdimage")
    assert process.returncode == 1
    assert "lists no image of a current series" in process.stderr
    store, mirror = world.mirror("invalid-mirror")
    assert mirror.enabled and mirror.probe_records.is_empty()
    store.close()


def test_longest_probes_start_first():
    """Mirrors whose last probe took longest are probed first, those never
    timed before them."""
    from mirrorkeeper.prober.job import longest_first
    from mirrorkeeper.prober.plan import MirrorPlan
    from mirrorkeeper.enums import MirrorContent
    plans = [MirrorPlan(n, "m%d" % n, "http://m%d/" % n,
                        MirrorContent.ARCHIVE, True) for n in range(4)]
    ordered = longest_first(plans, {0: 2.0, 1: 30.0, 3: 0.5})
    assert [plan.mirror_id for plan in ordered] == [2, 1, 0, 3]


def test_durations_of_last_probes_are_read(world):
    """The durations the scheduler uses are those of each mirror's newest
    probe record."""
    from mirrorkeeper.prober.job import last_probe_durations
    assert world.run().returncode == 0
    store = world.store()
    mirrors = DistributionMirrorSet(store)
    ids = [mirrors[name].id for name in
           ("valid-mirror", "archive-404-mirror", "unreachable-mirror")]
    durations = last_probe_durations(store, ids)
    assert set(durations) == set(ids[:2])
    assert all(seconds >= 0 for seconds in durations.values())
    assert durations[ids[0]] == \
        mirrors["valid-mirror"].last_probe_record.duration_seconds
    store.close()


def test_json_summary(world):
    """--json prints the run's summary as one JSON object on stdout."""
    import json
    process = world.run("--json")
    assert process.returncode == 0, process.stderr
    (line,) = process.stdout.splitlines()
    summary = json.loads(line)
    assert summary["probed"] == 2 and summary["trusted"] is True
    assert summary["requests"] > 0
    assert summary["content_type"] == "archive" and summary["error"] is None
    assert isinstance(summary["failures"], dict)
