"""Recording a prober run: reports in, database updated.

Each mirror's findings (content records, freshness, the probe record with its
log) are committed in one transaction of their own, so a run that is killed
leaves every mirror either fully updated or untouched.  What the rest of the
run needs of a report is kept as a RecordedMirror; the report itself, with
its full log, can go.  Enabling and disabling come after every mirror is
recorded, and only when the run can trust what it saw: see `RunVerdict`.
"""

import attrs

from mirrorkeeper.enums import MirrorContent, MirrorStatus
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.distroseries import DistroSeries

# A run in which at least this share of the mirrors could not be reached at
# all, out of at least MIN_MIRRORS_FOR_RATIO, says more about the prober's
# own network than about the mirrors: it disables nobody.
MAX_UNREACHABLE_RATIO = 0.8
MIN_MIRRORS_FOR_RATIO = 5


# How much of a probe log a RecordedMirror keeps: what a notification
# quotes, and some to spare.
LOG_HEAD_LINES = 50


@attrs.frozen
class RecordedMirror:
    """What deciding a mirror's fate needs of its report."""

    mirror_id: int
    name: str
    unreachable: bool
    log_head: str
    expected_cdimages: tuple = ()
    recorded: bool = True

    @classmethod
    def of(cls, report, recorded=True):
        plan = report.plan
        return cls(plan.mirror_id, plan.name, report.unreachable,
                   "\n".join(report.log.splitlines()[:LOG_HEAD_LINES]),
                   tuple((check.series_id, check.flavour)
                         for check in plan.cdimage_checks), recorded)


@attrs.frozen
class RunVerdict:
    """Whether this run may change which mirrors are enabled, and why."""

    trusted: bool
    reason: str = ""


def judge_run(reports, canary_result=None):
    """The RunVerdict for a run's reports and its canary probe (a
    ProbeResult of a URL that must always answer, or None if none is
    configured)."""
    if canary_result is not None and not canary_result.found:
        return RunVerdict(False, "the canary %s failed (%s): the prober "
                          "cannot trust its view of the network"
                          % (canary_result.url, canary_result.message))
    unreachable = sum(1 for report in reports if report.unreachable)
    if len(reports) >= MIN_MIRRORS_FOR_RATIO and \
            unreachable >= MAX_UNREACHABLE_RATIO * len(reports):
        return RunVerdict(False, "%d of %d mirrors were unreachable at once"
                          % (unreachable, len(reports)))
    return RunVerdict(True)


def record_report(store, report):
    """Write one mirror's findings and probe record, and commit."""
    mirror = store.get(DistributionMirror, report.plan.mirror_id)
    if mirror is None:
        # Deleted while the run was probing it: nothing to record.
        return
    for finding in report.content_findings:
        check = finding.check
        place_id, pocket, component_id = check.place
        if check.kind == "binary":
            records = mirror.arch_series.find(
                distro_arch_series_id=place_id, pocket=pocket,
                component_id=component_id)
        else:
            records = mirror.source_series.find(
                distro_series_id=place_id, pocket=pocket,
                component_id=component_id)
        if finding.found:
            record = records.one()
            if record is None:
                record = _new_record(store, mirror, check.kind, place_id,
                                     pocket, component_id)
            record.freshness = finding.freshness
        else:
            records.remove()
    for finding in report.cdimage_findings:
        series = store.get(DistroSeries, finding.check.series_id)
        if finding.found:
            mirror.ensureMirrorCDImageSeries(series, finding.check.flavour)
        else:
            mirror.deleteMirrorCDImageSeries(series, finding.check.flavour)
    _record_detectors(store, mirror, report.detector_findings)
    if report.address_families is not None:
        mirror.has_ipv4, mirror.has_ipv6 = report.address_families
    mirror.newProbeRecord(report.log,
                          duration_seconds=report.duration_seconds)
    store.commit()


def _record_detectors(store, mirror, findings):
    """Keep one MirrorFreshnessCheck per detector and file probed, and the
    RPM repositories the mirror's repomd.xml files show it carries."""
    from mirrorkeeper.model.mirrorcontent import (
        MirrorFreshnessCheck, MirrorRPMRepository)
    from mirrorkeeper.timeutil import utcnow
    seen = set()
    for finding in findings:
        check = finding.check
        seen.add((check.detector, check.label))
        row = mirror.freshness_checks.find(detector=check.detector,
                                           label=check.label).one()
        if row is None:
            row = MirrorFreshnessCheck(mirror, check.detector, check.label)
            store.add(row)
        row.freshness = finding.freshness
        row.lag_seconds = None if finding.lag is None else int(
            finding.lag.total_seconds())
        row.syncing = finding.syncing
        row.note = finding.note
        row.date_checked = utcnow()
        if check.rpm_repository_id is None:
            continue
        carried = mirror.rpm_repositories.find(
            rpm_repository_id=check.rpm_repository_id)
        if not finding.found:
            carried.remove()
            continue
        record = carried.one()
        if record is None:
            record = MirrorRPMRepository(mirror, check.rpm_repository_id)
            store.add(record)
        if finding.freshness is not None:
            record.freshness = finding.freshness
    for row in list(mirror.freshness_checks):
        if (row.detector, row.label) not in seen:
            store.remove(row)


def _new_record(store, mirror, kind, place_id, pocket, component_id):
    from mirrorkeeper.model.distroseries import Component, DistroArchSeries
    component = store.get(Component, component_id)
    if kind == "binary":
        return mirror.ensureMirrorDistroArchSeries(
            store.get(DistroArchSeries, place_id), pocket, component)
    return mirror.ensureMirrorDistroSeriesSource(
        store.get(DistroSeries, place_id), pocket, component)


def prune_probe_records(store, older_than):
    """Delete the probe records created before `older_than` (UTC), keeping
    each mirror's newest record whatever its age; commit and return how many
    went.  Logs of every request add up: a year of daily probes of a large
    archive mirror would be gigabytes."""
    from storm.expr import Max, Select
    from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
    record = MirrorProbeRecord
    newest = Select(Max(record.id), group_by=record.distribution_mirror_id)
    old = store.find(record, record.date_created < older_than,
                     record.id.is_in(newest) == False)  # noqa: E712
    count = old.count()
    old.remove()
    store.commit()
    return count


@attrs.frozen
class StatusChange:
    mirror_name: str
    change: str   # 'disabled' or 'enabled'
    notified: bool


def apply_verdicts(store, recorded, notify_owners=True):
    """Disable the mirrors that carry nothing and enable those that carry
    their content again, for the RecordedMirrors whose findings were
    recorded; commit each mirror on its own.  A disabled mirror's owner and
    the mirror admins are told once: when it is disabled, or, for a mirror
    that never worked, the first time it is found so.  Returns the
    StatusChanges made."""
    changes = []
    for summary in recorded:
        mirror = store.get(DistributionMirror, summary.mirror_id)
        if mirror is None or not summary.recorded:
            continue
        if mirror.content is MirrorContent.RELEASE:
            expected = [(store.get(DistroSeries, series_id), flavour)
                        for series_id, flavour in summary.expected_cdimages]
            if not expected:
                # The manifest lists no image of this mirror's
                # distribution: nothing to judge the mirror by.
                continue
            disable = mirror.shouldDisable(expected)
        else:
            disable = mirror.shouldDisable()
        if disable:
            was_enabled = mirror.enabled
            notify = notify_owners and (
                was_enabled or mirror.date_disabled_notified is None)
            if was_enabled or notify:
                mirror.disable(notify_owner=notify, log=summary.log_head)
                changes.append(StatusChange(mirror.name, "disabled", notify))
        elif not mirror.enabled and mirror.status in (
                MirrorStatus.OFFICIAL, MirrorStatus.UNOFFICIAL):
            mirror.enable()
            changes.append(StatusChange(mirror.name, "enabled", False))
        store.commit()
    return changes


class ReportWriter:
    """Records each mirror's report as it arrives, off the reactor: in a
    thread of its own, with a store of its own opened there (Storm objects
    never cross threads), one transaction per mirror.  So the database work
    overlaps the probing instead of following it, never delays an answer
    the reactor is waiting for, and a report's full log is let go as soon
    as it is written."""

    def __init__(self, reactor, database_uri, logger):
        from twisted.python.threadpool import ThreadPool
        self._reactor = reactor
        self._uri = database_uri
        self._logger = logger
        self._pool = ThreadPool(1, 1, name="mirrorkeeper-prober-writer")
        self._store = None  # Used in the pool's thread only.

    def start(self):
        self._pool.start()

    def record(self, report):
        """A Deferred firing with the report's RecordedMirror, once it is
        committed (or rolled back, if writing it failed: logged, and the
        mirror is then left to the next run)."""
        from twisted.internet.threads import deferToThreadPool
        d = deferToThreadPool(self._reactor, self._pool, self._write, report)

        def failed(failure):
            self._logger.error("Could not record the probe of %s: %s",
                               report.plan.name, failure.getErrorMessage())
            return RecordedMirror.of(report, recorded=False)
        return d.addErrback(failed)

    def _write(self, report):
        if self._store is None:
            from mirrorkeeper.database.store import open_store
            self._store = open_store(self._uri)
        try:
            record_report(self._store, report)
        except Exception:
            self._store.rollback()
            raise
        return RecordedMirror.of(report)

    def stop(self):
        """A Deferred firing once the writer's store is closed and its
        thread gone."""
        from twisted.internet.threads import deferToThreadPool

        def close():
            if self._store is not None:
                self._store.close()
                self._store = None
        d = deferToThreadPool(self._reactor, self._pool, close)
        d.addBoth(lambda result: self._pool.stop() or result)
        return d
