"""Planning a prober run: what depends only on a distribution (its
detectors, the files they fetch, the master's history of each, its
places and their freshness paths) is read once per distribution, however
many of its mirrors are probed and in however many batches."""

import hashlib
from datetime import datetime, timedelta

from mirrorkeeper.archive.files import FileDetails
from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.masterarchive import (
    MasterFileDetailSet, RPMRepositorySet, TraceFileTimestampSet)
from mirrorkeeper.model.timestamps import PlantedTimestampSet
from mirrorkeeper.prober.detectors import TRACE_PATH
from mirrorkeeper.prober.plan import ArchivePlanner, plan_archive_mirrors
from tests.statements import recorded_statements

NOW = datetime(2026, 11, 24, 12, 0)
HOUR = timedelta(hours=1)
# The tables the detectors' planning reads the master's history from.
MASTER_TABLES = ("planted_timestamp", "trace_file_timestamp",
                 "master_file_detail", "rpm_repository")

EVERY_DETECTOR = {"*": ("publishing", "trace", "timestamp", "checksum")}


def details(data, mtime):
    return FileDetails(len(data), mtime, "", "",
                       hashlib.sha256(data).hexdigest(), "")


def master_history(store, ubuntu):
    """Give the master of `ubuntu` a history for every detector."""
    TraceFileTimestampSet(store).record(ubuntu, TRACE_PATH, NOW - 3 * HOUR,
                                        NOW - 3 * HOUR)
    PlantedTimestampSet(store).record(ubuntu, "local:/srv/ubuntu",
                                      NOW - 2 * HOUR, NOW - 2 * HOUR)
    files = MasterFileDetailSet(store)
    for data, age in [(b"one", 9 * HOUR), (b"two", HOUR)]:
        files.record(ubuntu, "dists/warty/Release",
                     details(data, NOW - age), NOW - age)
    repository = RPMRepositorySet(store).ensure(
        ubuntu, "rpms/40/x86_64", "x86_64", "40", NOW)
    files.record(ubuntu, "rpms/40/x86_64/repodata/repomd.xml",
                 details(b"<repomd/>", NOW - HOUR), NOW - HOUR)
    store.flush()
    return repository


def archive_mirrors(distribution):
    """Every archive mirror of `distribution`, enabled or not."""
    return [mirror for mirror in distribution.mirrors
            if mirror.content is MirrorContent.ARCHIVE]


def planned(store, mirrors):
    """The plans of `mirrors` with every detector, and the statements that
    read the master's history while planning them."""
    with recorded_statements() as log:
        plans = plan_archive_mirrors(store, mirrors, when=NOW,
                                     freshness=EVERY_DETECTOR,
                                     timestamp_file="timestamp.txt")
    return plans, log.reading(*MASTER_TABLES)


def test_master_history_is_read_once_per_distribution(sample_store):
    """Planning every mirror of a distribution reads the master's history
    as often as planning one of them does."""
    store = sample_store
    ubuntu = DistributionSet(store)["ubuntu"]
    master_history(store, ubuntu)
    mirrors = archive_mirrors(ubuntu)
    assert len(mirrors) >= 3
    _, one = planned(store, mirrors[:1])
    plans, every = planned(store, mirrors)
    assert len(plans) == len(mirrors)
    assert one
    assert len(every) == len(one)


def test_every_mirror_gets_the_master_checks_at_its_own_url(sample_store):
    """Each mirror's detector checks are the distribution's, with the same
    master history, at the mirror's base URL."""
    store = sample_store
    ubuntu = DistributionSet(store)["ubuntu"]
    repository = master_history(store, ubuntu)
    mirrors = archive_mirrors(ubuntu)
    plans, _ = planned(store, mirrors)
    release = hashlib.sha256(b"two").hexdigest()
    for mirror, plan in zip(mirrors, plans):
        checks = {check.label: check for check in plan.detector_checks}
        assert sorted(checks) == sorted([
            "timestamp.txt", TRACE_PATH, "dists/warty/Release",
            "rpms/40/x86_64/repodata/repomd.xml"])
        for label, check in checks.items():
            assert check.url == mirror.base_url + label
        assert checks[TRACE_PATH].history == (
            (NOW - 3 * HOUR, NOW - 3 * HOUR),)
        assert checks["timestamp.txt"].history == (
            (NOW - 2 * HOUR, NOW - 2 * HOUR),)
        assert checks["dists/warty/Release"].history[0] == (
            release, NOW - HOUR)
        assert len(checks["dists/warty/Release"].history) == 2
        assert checks["rpms/40/x86_64/repodata/repomd.xml"] \
            .rpm_repository_id == repository.id
        assert checks["dists/warty/Release"].rpm_repository_id is None


def planner():
    return ArchivePlanner(when=NOW, freshness=EVERY_DETECTOR,
                          timestamp_file="timestamp.txt")


def test_a_batch_costs_the_same_statements_for_any_number_of_mirrors(
        sample_store):
    """Planning every mirror of a distribution at once runs as many
    statements as planning one: each mirror's own records are read for
    the whole batch."""
    store = sample_store
    ubuntu = DistributionSet(store)["ubuntu"]
    master_history(store, ubuntu)
    mirrors = archive_mirrors(ubuntu)
    assert len(mirrors) >= 3
    with recorded_statements() as one:
        planner()(store, mirrors[:1])
    with recorded_statements() as every:
        plans = planner()(store, mirrors)
    assert [plan.mirror_id for plan in plans] == [
        mirror.id for mirror in mirrors]
    assert len(every.statements) == len(one.statements)


def test_later_batches_share_what_the_first_worked_out(sample_store):
    """A run's planner makes, batch after batch, the plans one batch of
    them all would have, reading its distribution's places and master
    history only for the first; told to keep them no time, it reads them
    again."""
    store = sample_store
    ubuntu = DistributionSet(store)["ubuntu"]
    master_history(store, ubuntu)
    mirrors = archive_mirrors(ubuntu)
    together, _ = planned(store, mirrors)
    run = planner()
    first = run(store, mirrors[:1])
    with recorded_statements() as later:
        rest = [plan for mirror in mirrors[1:]
                for plan in run(store, [mirror])]
    assert first + rest == together
    assert any(plan.content_checks for plan in together)
    # Only the mirrors' own records.
    assert later.statements
    assert all(" FROM mirror_" in statement
               for statement in later.statements)
    run.share_seconds = 0
    with recorded_statements() as again:
        assert run(store, mirrors[1:2]) == together[1:2]
    assert again.reading(*MASTER_TABLES)


def test_a_plan_says_when_its_freshness_bands_were_told(sample_store):
    """A plan whose content checks have freshness bands says the instant
    they were told at: the planner's `when`, or, without one, when the
    distribution's shared part was worked out, which a later batch
    shares until it is worked out again."""
    from mirrorkeeper.timeutil import utcnow

    store = sample_store
    ubuntu = DistributionSet(store)["ubuntu"]
    master_history(store, ubuntu)
    mirrors = archive_mirrors(ubuntu)
    plans, _ = planned(store, mirrors)
    banded = [plan for plan in plans if any(
        check.freshness_urls for check in plan.content_checks)]
    assert banded
    assert {plan.bands_as_of for plan in banded} == {NOW}
    assert all(plan.bands_as_of is None for plan in plans
               if plan not in banded)

    run = ArchivePlanner()
    before = utcnow()
    first = run(store, mirrors[:1])[0]
    after = utcnow()
    assert before <= first.bands_as_of <= after
    assert run(store, mirrors[:1])[0].bands_as_of == first.bands_as_of
    run.share_seconds = 0
    assert run(store, mirrors[:1])[0].bands_as_of > first.bands_as_of
