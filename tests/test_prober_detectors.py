"""Freshness detectors: trace files, control file checksums, sync markers;
the pure judgement, then the prober cronscript using them."""

import os
from datetime import datetime, timedelta

import pytest

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.freshness import band_for_lag, lag_by_history, lag_by_time
from mirrorkeeper.prober.detectors import DetectorCheck, judge
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.result import ProbeResult
from tests.test_prober_script import world  # noqa: F401 (a fixture)

NOW = datetime(2026, 11, 24, 12, 0)
HOUR = timedelta(hours=1)


def fetched(body, outcome=ProbeOutcome.FOUND):
    return ProbeResult(url="http://mirror.example.org/x", outcome=outcome,
                       status=200 if outcome is ProbeOutcome.FOUND else 404,
                       body=body, method="GET")


def test_band_for_lag_uses_the_band_thresholds():
    """A lag falls in the first band whose threshold it does not pass."""
    assert band_for_lag(timedelta(0)) is MirrorFreshness.UP
    assert band_for_lag(0.5 * HOUR) is MirrorFreshness.UP
    assert band_for_lag(0.6 * HOUR) is MirrorFreshness.ONEHOURBEHIND
    assert band_for_lag(24.5 * HOUR) is MirrorFreshness.ONEDAYBEHIND
    assert band_for_lag(30 * 24 * HOUR) is MirrorFreshness.ONEWEEKBEHIND


def test_lag_by_history_counts_from_the_next_newer_version():
    """A mirror with an older version is behind since the master moved past
    it; with the newest it is not behind; an unknown version is None."""
    history = [("c", NOW - HOUR), ("b", NOW - 5 * HOUR),
               ("a", NOW - 50 * HOUR)]
    assert lag_by_history(history, "c", NOW) == timedelta(0)
    assert lag_by_history(history, "b", NOW) == HOUR
    assert lag_by_history(history, "a", NOW) == 5 * HOUR
    assert lag_by_history(history, "zz", NOW) is None


# (the mirror's time, hours before NOW; the master's history, hours before
# NOW, newest first; the lag in hours)
LAG_BY_TIME = [
    (3, (), 3),              # no history: the file's own age
    (0, (), 0),
    (-1, (), 0),             # a clock ahead of ours is not ahead of time
    (1, (1, 10), 0),         # the master's newest: not behind
    (10, (1, 10), 9),        # nine hours older than the master's newest
    (20, (1, 10), 19),       # older than all the history: still its date
    (60, (1,), 59),          # a new deployment knows one master trace
    (40, (20, 40), 20),
    (0.5, (1,), 0),          # newer than the master's newest recorded
    (30, (26, 3, 1), 29),    # the newest master time counts, in any order
]


@pytest.mark.parametrize("mirror_age, history_ages, lag", LAG_BY_TIME)
def test_lag_by_time_reads_the_date_inside_the_file(mirror_age, history_ages,
                                                    lag):
    """A time file's lag is how much older its date is than the master's
    newest (its own age when there is no history), never below zero, and
    however short the history."""
    history = [(NOW - age * HOUR, NOW - age * HOUR) for age in history_ages]
    assert lag_by_time(history, NOW - mirror_age * HOUR, NOW) == lag * HOUR


def test_lag_by_time_uses_the_version_not_the_date_recorded():
    """For planted timestamps the version (the stamp inside the file) and
    the date it was planted differ: the stamp is what is compared."""
    history = [(NOW - 2 * HOUR, NOW - HOUR)]
    assert lag_by_time(history, NOW - 12 * HOUR, NOW) == 10 * HOUR


def test_judge_trace_file():
    """A trace a day behind the master's newest sync judges ONEDAYBEHIND
    and says why."""
    check = DetectorCheck("trace", "project/trace/master", "u", "time",
                          ((NOW - 20 * HOUR, NOW - 20 * HOUR),
                           (NOW - 40 * HOUR, NOW - 40 * HOUR)))
    body = (NOW - 40 * HOUR).strftime("%a %b %d %H:%M:%S UTC %Y\n").encode()
    finding = judge(check, fetched(body), NOW)
    assert finding.freshness is MirrorFreshness.ONEDAYBEHIND
    assert "20.0 hours behind the master" in finding.note


def test_judge_trace_of_a_mirror_older_than_the_history():
    """A new deployment knows only the master's trace of an hour ago; a
    mirror whose trace is 60 hours old is 59 hours behind it, not one."""
    check = DetectorCheck("trace", "project/trace/master", "u", "time",
                          ((NOW - HOUR, NOW - HOUR),))
    body = (NOW - 60 * HOUR).strftime("%a %b %d %H:%M:%S UTC %Y\n").encode()
    finding = judge(check, fetched(body), NOW)
    assert finding.lag == 59 * HOUR
    assert finding.freshness is MirrorFreshness.ONEWEEKBEHIND
    assert "59.0 hours behind the master, ONEWEEKBEHIND" in finding.note
    same = judge(check, fetched(
        (NOW - HOUR).strftime("%a %b %d %H:%M:%S UTC %Y\n").encode()), NOW)
    assert same.lag == timedelta(0) and same.freshness is MirrorFreshness.UP


# Which detectors a distribution gets: (its own [freshness] entry, the
# default entry, whether its master has an RPM repository, the detectors).
DETECTORS_FOR = [
    (None, ("publishing",), False, ("publishing",)),
    (None, ("publishing",), True, ("publishing", "checksum")),
    (None, ("publishing", "checksum"), True, ("publishing", "checksum")),
    (None, ("trace",), True, ("trace", "checksum")),
    (None, None, True, ("checksum",)),
    (None, None, False, ()),
    # An entry of its own is the admin's choice, RPM repositories or not.
    (("publishing",), ("publishing", "checksum"), True, ("publishing",)),
    (("trace",), ("publishing",), False, ("trace",)),
    (("publishing", "checksum"), None, False, ("publishing", "checksum")),
]


@pytest.mark.parametrize("own, default, rpm, expected", DETECTORS_FOR)
def test_detectors_for(sample_store, own, default, rpm, expected):
    """The default detectors follow what the master carries: a master with
    RPM repositories adds the checksum detector, unless the distribution
    has a [freshness] entry of its own; a removed repository does not
    count."""
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.model.masterarchive import RPMRepositorySet
    from mirrorkeeper.prober.plan import detectors_for
    ubuntu = DistributionSet(sample_store)["ubuntu"]
    repositories = RPMRepositorySet(sample_store)
    removed = repositories.ensure(ubuntu, "rpms/39/x86_64", "x86_64", "39",
                                  NOW)
    removed.date_removed = NOW
    if rpm:
        repositories.ensure(ubuntu, "rpms/40/x86_64", "x86_64", "40", NOW)
    configured = {}
    if own is not None:
        configured["ubuntu"] = own
    if default is not None:
        configured["*"] = default
    configured["otherdistro"] = ("timestamp",)
    assert detectors_for(sample_store, ubuntu, configured) == expected


def test_judge_garbage_and_missing_files():
    """A garbage or missing file gives no freshness, and the note says
    what was wrong."""
    check = DetectorCheck("trace", "project/trace/master", "u", "time", ())
    garbage = judge(check, fetched(b"<html>oops</html>\n"), NOW)
    assert garbage.freshness is None and "unreadable" in garbage.note
    missing = judge(check, fetched(None, ProbeOutcome.NOT_FOUND), NOW)
    assert missing.freshness is None and not missing.found
    assert "not there" in missing.note.lower() or "404" in missing.note


def test_judge_checksum_and_unknown_copy():
    """A control file matching an older master version is as old as the
    next one; a copy the history does not know is ONEWEEKBEHIND."""
    import hashlib
    old, new = b"Suite: warty\nDate: old\n", b"Suite: warty\nDate: new\n"
    check = DetectorCheck("checksum", "dists/warty/Release", "u", "sha256", (
        (hashlib.sha256(new).hexdigest(), NOW - 2 * HOUR),
        (hashlib.sha256(old).hexdigest(), NOW - 30 * HOUR)))
    assert judge(check, fetched(new), NOW).freshness is MirrorFreshness.UP
    assert judge(check, fetched(old), NOW).freshness is \
        MirrorFreshness.TWOHOURSBEHIND
    stranger = judge(check, fetched(b"something else"), NOW)
    assert stranger.freshness is MirrorFreshness.ONEWEEKBEHIND
    assert "older than the master's history" in stranger.note


def test_syncing_mirror_is_not_judged_stale():
    """While a mirror syncs, a stale answer is reported as syncing, not as
    a freshness."""
    check = DetectorCheck("trace", "project/trace/master", "u", "time",
                          ((NOW - HOUR, NOW - HOUR),))
    body = (NOW - 50 * HOUR).strftime("%a %b %d %H:%M:%S UTC %Y\n").encode()
    finding = judge(check, fetched(body), NOW, syncing=True)
    assert finding.freshness is None and finding.syncing
    assert "syncing" in finding.note


# Through the cronscript.

def test_prober_uses_trace_and_checksum_detectors(world):
    """With trace and checksum detectors configured, each mirror's trace
    file and Release are judged against the master's history, the mirror's
    freshness combines them, and a syncing mirror is reported as such."""
    import hashlib
    from mirrorkeeper.archive.files import FileDetails
    from mirrorkeeper.model.masterarchive import (
        MasterFileDetailSet, TraceFileTimestampSet)
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.timeutil import utcnow
    from tests.test_prober_script import write_config

    now = utcnow().replace(microsecond=0)
    store = world.store()
    ubuntu = DistributionSet(store)["ubuntu"]
    traces = TraceFileTimestampSet(store)
    for age in (10, 3):
        traces.record(ubuntu, "project/trace/master", now - age * HOUR,
                      now - age * HOUR)
    old, new = b"Suite: warty\nDate: old\n", b"Suite: warty\nDate: new\n"
    details = MasterFileDetailSet(store)
    for content, age in ((old, 30), (new, 2)):
        details.record(ubuntu, "dists/warty/Release", FileDetails(
            len(content), now, "m", "s", hashlib.sha256(content).hexdigest(),
            "x"), now - age * HOUR)
    store.commit()
    store.close()
    trace = (now - 10 * HOUR).strftime("%a %b %d %H:%M:%S UTC %Y\n")
    os.makedirs(os.path.join(world.full_root, "project", "trace"))
    with open(os.path.join(world.full_root, "project/trace/master"), "w") as f:
        f.write(trace)
    with open(os.path.join(world.full_root, "dists/warty/Release"), "wb") as f:
        f.write(old)
    write_config(world)
    with open(world.config, "a") as f:
        f.write("[freshness]\ndefault = publishing, trace, checksum\n")

    process = world.run()
    assert process.returncode == 0, process.stderr
    store, mirror = world.mirror("valid-mirror")
    checks = {(c.detector, c.label): c for c in mirror.freshness_checks}
    trace_check = checks[("trace", "project/trace/master")]
    # The mirror has the sync of 10 hours ago, seven hours older than the
    # master's newest, of 3 hours ago.
    assert trace_check.freshness is MirrorFreshness.ONEDAYBEHIND
    assert abs(trace_check.lag_seconds - 7 * 3600) < 120
    release = checks[("checksum", "dists/warty/Release")]
    assert release.freshness is MirrorFreshness.TWOHOURSBEHIND
    # Publishing history says SIXHOURSBEHIND (the hello of 3 hours ago is
    # missing, the one of 30 hours ago there); the worst known freshness,
    # the trace's, is the mirror's.
    [warty] = [record for record in mirror.source_series
               if record.distro_series.name == "warty"
               and record.pocket.name == "RELEASE"
               and record.component.name == "main"]
    assert warty.freshness is MirrorFreshness.SIXHOURSBEHIND
    assert mirror.getOverallFreshness() is MirrorFreshness.ONEDAYBEHIND
    # The lag is what the detectors measured: the trace's seven hours.
    assert abs(mirror.getLag() - 7 * 3600) < 120
    log = mirror.last_probe_record.log
    assert "trace detector: project/trace/master says" in log
    assert "checksum detector: dists/warty/Release has SHA-256" in log
    store.close()
    store, empty = world.mirror("archive-404-mirror")
    assert all(c.freshness is None for c in empty.freshness_checks)
    store.close()

    # Mid-sync: ftpsync's marker is on the mirror.
    with open(os.path.join(world.full_root,
                           "Archive-Update-in-Progress-127.0.0.1"), "w"):
        pass
    assert world.run("--force").returncode == 0
    store, mirror = world.mirror("valid-mirror")
    checks = {(c.detector, c.label): c for c in mirror.freshness_checks}
    assert checks[("trace", "project/trace/master")].syncing
    assert checks[("trace", "project/trace/master")].freshness is None
    assert "The mirror is syncing" in mirror.last_probe_record.log
    store.close()


def test_rpm_repositories_carried_are_recorded(world):
    """The checksum detector records which of the master's RPM repositories
    a mirror carries, judged by its repomd.xml, and forgets them when
    gone."""
    import hashlib
    from mirrorkeeper.archive.files import FileDetails
    from mirrorkeeper.model.masterarchive import (
        MasterFileDetailSet, RPMRepositorySet)
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.timeutil import utcnow
    from tests.test_prober_script import write_config

    now = utcnow().replace(microsecond=0)
    repomd = b"<repomd>revision 2</repomd>\n"
    store = world.store()
    ubuntu = DistributionSet(store)["ubuntu"]
    RPMRepositorySet(store).ensure(ubuntu, "rpms/40/x86_64", "x86_64", "40",
                                   now)
    MasterFileDetailSet(store).record(
        ubuntu, "rpms/40/x86_64/repodata/repomd.xml", FileDetails(
            len(repomd), now, "m", "s", hashlib.sha256(repomd).hexdigest(),
            "x"), now - 5 * HOUR)
    store.commit()
    store.close()
    path = os.path.join(world.full_root, "rpms/40/x86_64/repodata")
    os.makedirs(path)
    with open(os.path.join(path, "repomd.xml"), "wb") as f:
        f.write(repomd)
    write_config(world)
    with open(world.config, "a") as f:
        f.write("[freshness]\ndefault = publishing, checksum\n")
    assert world.run().returncode == 0
    store, mirror = world.mirror("valid-mirror")
    [carried] = list(mirror.rpm_repositories)
    assert carried.rpm_repository.path == "rpms/40/x86_64"
    assert carried.freshness is MirrorFreshness.UP
    store.close()
    store, empty = world.mirror("archive-404-mirror")
    assert empty.rpm_repositories.is_empty()
    store.close()
    os.remove(os.path.join(path, "repomd.xml"))
    assert world.run("--force").returncode == 0
    store, mirror = world.mirror("valid-mirror")
    assert mirror.rpm_repositories.is_empty()
    store.close()


def test_rpm_repositories_get_the_checksum_detector_unasked(world):
    """With no [freshness] section at all, a master with an RPM repository
    gets the checksum detector: the mirror that has the repository's
    repomd.xml is recorded as carrying it."""
    import hashlib
    from mirrorkeeper.archive.files import FileDetails
    from mirrorkeeper.model.masterarchive import (
        MasterFileDetailSet, RPMRepositorySet)
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.timeutil import utcnow
    from tests.test_prober_script import write_config

    now = utcnow().replace(microsecond=0)
    repomd = b"<repomd>revision 7</repomd>\n"
    store = world.store()
    ubuntu = DistributionSet(store)["ubuntu"]
    RPMRepositorySet(store).ensure(ubuntu, "rpms/41/aarch64", "aarch64",
                                   "41", now)
    MasterFileDetailSet(store).record(
        ubuntu, "rpms/41/aarch64/repodata/repomd.xml", FileDetails(
            len(repomd), now, "m", "s", hashlib.sha256(repomd).hexdigest(),
            "x"), now - HOUR)
    store.commit()
    store.close()
    path = os.path.join(world.full_root, "rpms/41/aarch64/repodata")
    os.makedirs(path)
    with open(os.path.join(path, "repomd.xml"), "wb") as f:
        f.write(repomd)
    write_config(world)
    with open(world.config) as f:
        assert "[freshness]" not in f.read()
    assert world.run().returncode == 0
    store, mirror = world.mirror("valid-mirror")
    [carried] = list(mirror.rpm_repositories)
    assert carried.rpm_repository.path == "rpms/41/aarch64"
    assert carried.freshness is MirrorFreshness.UP
    assert "checksum detector: rpms/41/aarch64/repodata/repomd.xml" in \
        mirror.last_probe_record.log
    store.close()


def test_planted_timestamp_detector(world):
    """With the timestamp detector, a mirror's copy of the planted file is
    judged against the planting history (oVirt's mirrorchecker)."""
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.model.timestamps import PlantedTimestampSet
    from mirrorkeeper.timestampfile import timestamp_file_body
    from mirrorkeeper.timeutil import utcnow
    from tests.test_prober_script import write_config

    now = utcnow().replace(microsecond=0)
    store = world.store()
    ubuntu = DistributionSet(store)["ubuntu"]
    for age in (26, 1):
        PlantedTimestampSet(store).record(
            ubuntu, "local:/srv/master", now - age * HOUR, now - age * HOUR)
    store.commit()
    store.close()
    with open(os.path.join(world.full_root, "mirrorkeeper-timestamp"),
              "wb") as f:
        f.write(timestamp_file_body(now - 26 * HOUR))
    write_config(world)
    with open(world.config, "a") as f:
        f.write("[freshness]\ndefault = publishing, timestamp\n")
    assert world.run().returncode == 0
    store, mirror = world.mirror("valid-mirror")
    [check] = [c for c in mirror.freshness_checks if c.detector == "timestamp"]
    # The mirror has the stamp of 26 hours ago, 25 hours older than the
    # master's newest, of an hour ago.
    assert check.freshness is MirrorFreshness.TWODAYSBEHIND
    assert abs(check.lag_seconds - 25 * 3600) < 120
    assert check.label == "mirrorkeeper-timestamp"
    store.close()


def test_a_release_copy_is_known_only_from_an_answer():
    """A mirror's copy of a suite's InRelease is its SHA-256 when it served
    one; missing, or larger than a control file may be, it is no copy of
    the master's; when the network failed it is unknown (found None), not
    different."""
    import hashlib
    from mirrorkeeper.prober.plan import ReleaseCheck
    from mirrorkeeper.prober.run import release_finding
    body = b"Suite: stable\n"
    digest = hashlib.sha256(body).hexdigest()
    check = ReleaseCheck("dists/stable/InRelease",
                         "http://mirror.example.org/dists/stable/InRelease",
                         digest, 1024)
    got = release_finding(check, fetched(body))
    assert (got.found, got.sha256) == (True, digest)
    assert "the master's current one" in got.note
    got = release_finding(check, fetched(b"other"))
    assert (got.found, got.sha256) == (True, hashlib.sha256(
        b"other").hexdigest())
    assert "not the master's current one" in got.note
    for outcome, found in ((ProbeOutcome.NOT_FOUND, False),
                           (ProbeOutcome.TOO_LARGE, True),
                           (ProbeOutcome.TIMEOUT, None),
                           (ProbeOutcome.CONNECTION_REFUSED, None)):
        got = release_finding(check, fetched(None, outcome))
        assert (got.found, got.sha256, got.outcome) == (found, None,
                                                        outcome), outcome


def test_the_checksum_detector_keeps_the_copys_sha256():
    """The checksum detector's finding carries the SHA-256 of the copy it
    judged, so that the prober need not fetch the file again; a trace
    finding carries none."""
    import hashlib
    check = DetectorCheck("checksum", "dists/stable/InRelease", "x",
                          "sha256", (("a" * 64, NOW),))
    finding = judge(check, fetched(b"copy"), NOW)
    assert finding.sha256 == hashlib.sha256(b"copy").hexdigest()
    trace = DetectorCheck("trace", "project/trace/master", "x", "time",
                          ((NOW, NOW),))
    assert judge(trace, fetched(b"Mon Nov 24 12:00:00 UTC 2026\n"),
                 NOW).sha256 is None
