"""How long a probe took: measured by the prober, recorded with the probe,
and read by the web; records from before it was measured get it from their
log's timestamps once, at `db upgrade`, and the web never reads a log."""

from datetime import timedelta
from types import SimpleNamespace

import attrs
from twisted.internet.task import Clock

from mirrorkeeper.enums import (
    MirrorContent, MirrorStatus, PackagePublishingPocket)
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.prober.plan import ContentCheck, MirrorPlan
from mirrorkeeper.prober.record import upgrade_older_records, write_report
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.result import format_timestamp
from mirrorkeeper.prober.run import logged_duration, probe_mirror
from mirrorkeeper.timeutil import utcnow
from tests.web_harness import InProcessClient


class SlowClient:
    """Answers 'not found' to every URL, each after `seconds` on `clock`."""

    def __init__(self, clock, seconds):
        self.clock = clock
        self.seconds = seconds

    def probe_then(self, url, callback, *args):
        self.clock.advance(self.seconds)
        callback(SimpleNamespace(
            url=url, found=False, outcome=ProbeOutcome.NOT_FOUND,
            log=[(self.clock.seconds(), "HEAD %s: 404" % (url,))]), *args)

    def address_families(self, host):
        return None

    def forget(self, urls):
        pass


def plan(mirror_id=1, name="slow-mirror"):
    checks = tuple(ContentCheck(
        "binary", (1, PackagePublishingPocket.RELEASE, 1),
        "warty/i386 main %d" % number,
        "http://slow.example.org/ubuntu/control-%d" % number, {})
        for number in range(3))
    return MirrorPlan(mirror_id, name, "http://slow.example.org/ubuntu/",
                      MirrorContent.ARCHIVE, True, checks)


def probe(seconds, started=1700000000.0007):
    clock = Clock()
    clock.advance(started)
    reports = []
    probe_mirror(SlowClient(clock, seconds), plan(), clock).addCallback(
        reports.append)
    return reports[0]


def test_report_duration_is_what_its_log_says():
    """A probe's report carries the seconds between its log's first and
    last timestamps, to the millisecond as the log has them."""
    report = probe(1.2345)
    lines = report.log.splitlines()
    assert lines[0].startswith(format_timestamp(1700000000.0007))
    assert lines[-1].startswith(format_timestamp(1700000000.0007 + 4.938))
    # Four probes, one after the other: the file that cannot exist, then
    # the three index files.
    assert round(report.duration_seconds, 3) == 4.938


def test_clock_going_backwards_gives_no_duration():
    """A probe during which the clock went backwards has no duration, as
    its log would give none."""
    assert logged_duration(1000.0, 999.5) is None
    assert logged_duration(1000.0004, 1000.0009) == 0.0


def test_recorded_probe_keeps_its_duration(sample_store):
    """The report's duration is written with its probe record."""
    mirror = DistributionMirrorSet(sample_store)["valid-mirror"]
    report = attrs.evolve(probe(0.5), plan=plan(mirror.id, mirror.name))
    write_report(sample_store, report)
    record = mirror.last_probe_record
    assert record.duration_seconds == report.duration_seconds == 2.0
    assert record.log == report.log


def test_web_reads_the_recorded_duration(sample_store):
    """The API gives the recorded duration of a probe, and none for a
    record without one, whatever its log says."""
    mirrors = DistributionMirrorSet(sample_store)
    measured, older = mirrors["valid-mirror"], mirrors["new-mirror"]
    for mirror in (measured, older):
        mirror.status = MirrorStatus.OFFICIAL
    log = ("2025-01-05T10:00:00.000Z Probing\n"
           "2025-01-05T10:00:02.500Z Done: 2 requests\n")
    measured.newProbeRecord(log, utcnow() - timedelta(hours=1),
                            duration_seconds=7.25)
    older.newProbeRecord(log, utcnow() - timedelta(hours=1))
    sample_store.commit()
    client = InProcessClient(sample_store)
    status = {entry["name"]: entry
              for entry in client.get("/api/1/status").json()["mirrors"]}
    assert status["valid-mirror"]["last_probe_duration_seconds"] == 7.25
    assert status["new-mirror"]["last_probe_duration_seconds"] is None
    one = client.get("/api/1/mirrors/valid-mirror").json()["mirror"]
    assert one["last_probe_duration_seconds"] == 7.25


def test_upgrade_times_older_records_from_their_logs(sample_store):
    """`db upgrade` gives a record written before durations were measured
    the seconds between its log's first and last timestamps, once; a log
    without them leaves the record untimed, and a recorded duration
    stays."""
    mirrors = DistributionMirrorSet(sample_store)
    mirror = mirrors["valid-mirror"]
    older = mirror.newProbeRecord(
        "2025-01-05T10:00:00.000Z Probing\n"
        "2025-01-05T10:00:00.120Z Carries warty/i386 main RELEASE: UP\n"
        "2025-01-05T10:00:02.500Z Done: 2 requests\n")
    garbage = mirror.newProbeRecord("no timestamps\nat all\n")
    empty = mirror.newProbeRecord("")
    backwards = mirror.newProbeRecord(
        "2025-01-05T10:00:02.000Z Probing\n"
        "2025-01-05T10:00:01.000Z Done: 2 requests\n")
    measured = mirror.newProbeRecord(
        "2025-01-05T10:00:00.000Z Probing\n"
        "2025-01-05T10:00:09.000Z Done\n", duration_seconds=1.5)
    sample_store.commit()
    assert upgrade_older_records(sample_store) == (0, 1)
    assert older.duration_seconds == 2.5
    assert garbage.duration_seconds is None
    assert empty.duration_seconds is None
    assert backwards.duration_seconds is None
    assert measured.duration_seconds == 1.5
    assert upgrade_older_records(sample_store) == (0, 0)
