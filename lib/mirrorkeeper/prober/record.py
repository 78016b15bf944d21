"""Recording a prober run: reports in, database updated once it is judged.

A run is judged before what it learnt takes effect, so that a prober cut
off from the network never wipes a mirror's records or disables anybody:

1. While probing, each mirror's report is written as a PENDING probe
   record holding its log and what it found, as data (`findings_of`):
   the rows of mirrorkeeper.model.probefindings, which readers query and
   applying reads, and a small JSON of the rest (`STORED_JSON`), in a
   transaction of its own and by a writer thread
   (`ReportWriter`), so the database work overlaps the probing and the
   full log is let go at once.
   Nothing of the report is kept: what judging the run needs is read
   back, for every worker's records, as counters (`tally_of_run`, a
   `RunTally`).
2. The run is judged (`judge_run`) on those counters and its canary.
3. A trusted run applies each record's findings (`apply_records`):
   content records, freshness, whether it is unreachable, enabling,
   disabling and the owner's mail, each mirror's in the transaction that
   marks its record APPLIED (one for a batch of mirrors, APPLY_BATCH).
   A distrusted run marks its records DISTRUSTED, with why at the top of
   each log, and changes nothing else.

Killed in step 1, a run leaves PENDING records of an unjudged run: the next
run marks them ABANDONED (`recover`).  Killed in step 3, it leaves PENDING
records of a trusted run: the next run applies them first.  Either way each
mirror is fully updated or untouched, and no mail is queued twice.
"""

import json
from datetime import datetime

import attrs
from storm.expr import Not

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorStatus, ProbeRecordState)
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, probe_log_text)
from mirrorkeeper.database.bulk import insert_rows
from mirrorkeeper.database.transaction import committed
from mirrorkeeper.model.distroseries import DistroSeries
from mirrorkeeper.model.mirrorcontent import (
    MirrorProbeRecord, ProberRunRecord)
from mirrorkeeper.model.probefindings import (
    read_findings, read_findings_of, why_disabled_by_record, write_findings)
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.claims import holds
from mirrorkeeper.prober.result import format_timestamp
from mirrorkeeper.prober.run import UNUSABLE, bands_timestamp
from mirrorkeeper.settings import Prober
from mirrorkeeper.timeutil import utcnow

# A run in which at least this share of the mirrors could not be reached at
# all, out of at least MIN_MIRRORS_FOR_RATIO, says more about the prober's
# own network than about the mirrors; so does one in which every mirror
# could not be reached, however few.  Such a run changes nothing.
MAX_UNREACHABLE_RATIO = 0.8
MIN_MIRRORS_FOR_RATIO = 5

# Records a trusted run applies in one transaction (apply_run): a commit
# and the queries that read records, findings and mirrors are paid per
# batch, not per mirror.  A batch commits or rolls back whole, so each
# mirror is still updated whole or not at all.
APPLY_BATCH = 50

# The version of the findings' JSON form.  Version 1 held every finding;
# version 2 holds only what has no row (STORED_JSON), the per-place lists
# being stored once, as rows.  Records of version 1 get their rows at
# `mirrorkeeper db upgrade` (upgrade_older_records), or when applied.
FINDINGS_VERSION = 2
WHOLE_FINDINGS_VERSION = 1

# What a probe record's findings JSON holds: what applying needs that no
# row of mirrorkeeper.model.probefindings says, and the instant the
# freshness bands were told at (for whoever reads the record).
STORED_JSON = ("protocols", "families", "expected_cdimages", "bands_as_of")


@attrs.define
class RunTally:
    """What judging a run and its summary need of its mirrors' probes, as
    counters, whatever the number of mirrors: how many mirrors each
    worker recorded and how many of them were unreachable (`workers`,
    {worker: [mirrors, unreachable]}; the worker None: nobody claimed
    them), and their requests and how those ended (`outcomes`, {outcome
    value: requests})."""

    workers: dict = attrs.Factory(dict)
    requests: int = 0
    outcomes: dict = attrs.Factory(dict)

    @property
    def mirrors(self):
        return sum(mirrors for mirrors, _ in self.workers.values())

    @property
    def unreachable(self):
        return sum(unreachable for _, unreachable in self.workers.values())

    def add(self, mirrors, unreachable, requests, outcomes, worker=None):
        """Count `mirrors` more of `worker`, `unreachable` of them, that
        made `requests` ending as `outcomes` says."""
        share = self.workers.setdefault(worker, [0, 0])
        share[0] += mirrors
        share[1] += unreachable
        self.requests += requests
        for outcome, count in outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count

    def add_report(self, report):
        """Count the mirror of `report` (a MirrorReport)."""
        self.add(1, int(report.unreachable), report.requests,
                 {outcome.value: count
                  for outcome, count in report.outcomes.items()})


@attrs.frozen
class RunVerdict:
    """Whether what this run found may take effect, and why not."""

    trusted: bool
    reason: str = ""


def judge_run(tally, canary_result=None, canary_failure=None):
    """The RunVerdict for a run whose mirrors' probes `tally` (a RunTally)
    counts, and for its canary probe (a ProbeResult of a URL that must
    always answer, or None if none is configured); `canary_failure` says
    how the canary failed for another worker of the run, or is None."""
    if canary_result is not None and not canary_result.found:
        return RunVerdict(False, "the canary %s failed (%s): the prober "
                          "cannot trust its view of the network"
                          % (canary_result.url, canary_result.message))
    if canary_failure:
        return RunVerdict(False, "the canary failed for a worker of this "
                          "run, %s: part of the run was probed by a "
                          "process that cannot trust its view of the "
                          "network" % (canary_failure,))
    mirrors, unreachable = tally.mirrors, tally.unreachable
    if mirrors and unreachable == mirrors:
        return RunVerdict(False, "every one of the %d mirrors probed failed "
                          "at the network level: the prober cannot trust "
                          "its view of the network" % (mirrors,))
    if mirrors >= MIN_MIRRORS_FOR_RATIO and \
            unreachable >= MAX_UNREACHABLE_RATIO * mirrors:
        return RunVerdict(False, "%d of %d mirrors were unreachable at once"
                          % (unreachable, mirrors))
    return _judge_each_worker(tally.workers)


def _judge_each_worker(workers):
    """A run shared by workers (on several machines, say) is also judged
    worker by worker: one whose own network failed would otherwise have
    its share of the mirrors called unreachable, and left out of the
    lists, while the others' shares hide it from the whole run's ratio.
    `workers` is a RunTally's."""
    if len(workers) < 2:
        return RunVerdict(True)
    for worker, (mirrors, unreachable) in sorted(
            workers.items(), key=lambda item: (item[0] is None,
                                               item[0] or "")):
        if mirrors >= MIN_MIRRORS_FOR_RATIO and \
                unreachable >= MAX_UNREACHABLE_RATIO * mirrors:
            return RunVerdict(False, "%d of the %d mirrors probed by the "
                              "worker %s were unreachable at once: that "
                              "worker cannot trust its view of the network"
                              % (unreachable, mirrors, worker))
    return RunVerdict(True)


def tally_of_run(store, run_id):
    """What judging the run `run_id` needs, from what its workers wrote:
    (a RunTally of its PENDING records, how the canary failed for a worker
    or None).  Two queries, counted by the database: nothing is held per
    mirror, whatever the number of mirrors."""
    tally = RunTally()
    pending = ProbeRecordState.PENDING.value
    for worker, mirrors, unreachable, requests in store.execute(
            "SELECT c.worker, COUNT(*), SUM(CASE WHEN p.unreachable THEN 1 "
            "ELSE 0 END), SUM(p.requests) FROM mirror_probe_record r JOIN "
            "mirror_probe_result p ON p.probe_record = r.id "
            "LEFT JOIN prober_claim_mirror cm ON cm.prober_run = "
            "r.prober_run AND cm.distribution_mirror = r.distribution_mirror "
            "LEFT JOIN prober_claim c ON c.prober_run = cm.prober_run AND "
            "c.host = cm.host WHERE r.prober_run = ? AND r.state = ? "
            "GROUP BY c.worker", (run_id, pending)):
        tally.add(mirrors, unreachable or 0, requests or 0, {}, worker)
    tally.outcomes = {outcome: requests for outcome, requests in store.execute(
        "SELECT o.outcome, SUM(o.requests) FROM mirror_probe_outcome o JOIN "
        "mirror_probe_record r ON r.id = o.probe_record WHERE "
        "r.prober_run = ? AND r.state = ? GROUP BY o.outcome",
        (run_id, pending))}
    canary_failure = store.get(ProberRunRecord, run_id).canary_failure
    return tally, canary_failure


# Findings as data.

def findings_of(report):
    """What `report` found, as plain JSON-able values: everything applying
    it needs, and what a reader of the probe record may ask (which places
    were checked, found or not, how fresh, the detectors' verdicts, how the
    requests ended)."""
    plan = report.plan
    return {
        "version": FINDINGS_VERSION,
        "unreachable": report.unreachable,
        "lies": report.lies,
        "base_url": report.base_url or plan.base_url,
        "protocols": {scheme: outcome.value
                      for scheme, outcome in report.protocols.items()},
        "families": (None if report.address_families is None
                     else list(report.address_families)),
        "requests": report.requests,
        "outcomes": {outcome.value: count
                     for outcome, count in report.outcomes.items()},
        "content": [
            {"kind": finding.check.kind, "place": finding.check.place[0],
             "pocket": finding.check.place[1].value,
             "component": finding.check.place[2],
             "label": finding.check.label,
             "url": finding.check.control_url, "found": finding.found,
             "freshness": finding.freshness.value,
             # The bands come from the publishing history's uploads.
             "detector": ("publishing" if finding.check.freshness_urls
                          else None),
             "outcome": finding.outcome.value}
            for finding in report.content_findings],
        "cdimages": [
            {"series": finding.check.series_id,
             "flavour": finding.check.flavour, "found": finding.found,
             "missing": len(finding.missing),
             "images": len(finding.check.urls)}
            for finding in report.cdimage_findings],
        "expected_cdimages": [[check.series_id, check.flavour]
                              for check in plan.cdimage_checks],
        # When the freshness bands were told (run.bands_timestamp).
        "bands_as_of": (None if plan.bands_as_of is None
                        else bands_timestamp(plan.bands_as_of)),
        "detectors": [
            {"detector": finding.check.detector,
             "label": finding.check.label,
             "freshness": (None if finding.freshness is None
                           else finding.freshness.value),
             "lag_seconds": (None if finding.lag is None
                             else int(finding.lag.total_seconds())),
             "syncing": finding.syncing, "note": finding.note,
             "found": finding.found,
             "observed": index not in report.unobserved_detectors,
             "rpm_repository": finding.check.rpm_repository_id,
             "sha256": finding.sha256}
            for index, finding in enumerate(report.detector_findings)],
        # The mirror's copies of the master's control files: rows only,
        # which the snapshot reads from the last applied record.
        "releases": [
            {"label": finding.check.label, "url": finding.check.url,
             "found": finding.found, "sha256": finding.sha256,
             "outcome": finding.outcome.value, "note": finding.note}
            for finding in report.release_findings],
    }


def write_report(store, report, run_id=None):
    """Write `report` as a PENDING probe record of the run `run_id`, with
    the rows of what it found, and commit; return the record's id, or
    None if the mirror was deleted while the run probed it."""
    return write_record(store, report.plan.mirror_id, report.log,
                        findings_of(report), report.duration_seconds,
                        run_id)


def write_record(store, mirror_id, log, findings, duration_seconds=None,
                 run_id=None):
    """Write a PENDING probe record of the mirror `mirror_id` and the run
    `run_id`, with its `log` and the rows of its `findings` (as
    `findings_of` makes them), and commit; return the record's id, or
    None if the mirror is gone."""
    # Plain statements, no Storm object: one INSERT of the record, so the
    # mirror's revision trigger (schema patch 0024) fires once.
    if store.execute("SELECT 1 FROM distribution_mirror WHERE id = ?",
                     (mirror_id,)).get_one() is None:
        return None
    [(record_id,)] = store.execute(
        "INSERT INTO mirror_probe_record (distribution_mirror, log, "
        "date_created, duration_seconds, prober_run, state, findings) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id", (
            mirror_id, probe_log_text(log), utcnow(), duration_seconds,
            run_id, ProbeRecordState.PENDING.value, _stored_json(findings))
    ).get_all()
    write_findings(store, record_id, findings)
    store.commit()
    return record_id


def _stored_json(findings):
    """The findings JSON of a record that found `findings`: version first,
    so that one of version 2 is told by its first characters."""
    stored = {"version": FINDINGS_VERSION}
    # A record of version 1 has no "bands_as_of": nor has its conversion.
    stored.update((key, findings[key]) for key in STORED_JSON
                  if key != "bands_as_of" or key in findings)
    return json.dumps(stored, separators=(",", ":"))


def _whole_findings(text):
    """The findings of a record's JSON of version 1, which held them all,
    or ValueError."""
    findings = json.loads(text)
    if not isinstance(findings, dict) or \
            findings.get("version") != WHOLE_FINDINGS_VERSION:
        raise ValueError("not findings of version %d"
                         % (WHOLE_FINDINGS_VERSION,))
    return findings


def _logged_seconds(log):
    """Seconds between the timestamps of a log's first and last lines, or
    None if they are not there (or the clock went backwards)."""
    lines = log.splitlines()
    try:
        first, last = [datetime.fromisoformat(line.split(" ", 1)[0])
                       for line in (lines[0], lines[-1])]
        seconds = (last - first).total_seconds()
    except (IndexError, TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def _convert_whole_findings(store):
    """Convert the records of findings version 1 to version 2, committing
    every few; a record whose JSON cannot be read is left as it is.
    Returns how many were converted."""
    from mirrorkeeper.model.probefindings import MirrorProbeResult
    record = MirrorProbeRecord
    candidates = list(store.find(
        record.id, record.findings != None,  # noqa: E711
        Not(record.findings.like('{"version":%d,%%' % (
            FINDINGS_VERSION,)))).order_by(record.id))
    converted = 0
    for start in range(0, len(candidates), 100):
        chunk = candidates[start:start + 100]
        with_rows = set(store.find(
            MirrorProbeResult.probe_record_id,
            MirrorProbeResult.probe_record_id.is_in(chunk)))
        for record_id, text in list(store.find(
                (record.id, record.findings), record.id.is_in(chunk))):
            try:
                findings = _whole_findings(text)
            except ValueError:
                continue
            if record_id not in with_rows:
                write_findings(store, record_id, findings)
            store.execute("UPDATE mirror_probe_record SET findings = ? "
                          "WHERE id = ?", (_stored_json(findings),
                                           record_id), noresult=True)
            converted += 1
        store.commit()
    return converted


def upgrade_older_records(store):
    """Convert the probe records whose findings JSON is of version 1
    (every finding) to version 2 (STORED_JSON), giving those written
    before the prober recorded what it found as rows (schema patch 0013)
    their rows, made from that JSON; and give those written before it
    measured how long a probe took (patch 0007) their duration, from
    their log's first and last timestamps: the one time a log is read
    back, so that no reader has to.  Commits; returns (records converted,
    records given a duration).  `mirrorkeeper db upgrade` runs it."""
    rows = _convert_whole_findings(store)
    record = MirrorProbeRecord
    untimed = list(store.find(
        record.id, record.duration_seconds == None).order_by(  # noqa: E711
            record.id))
    timed = 0
    for start in range(0, len(untimed), 100):
        for record_id, log in list(store.find(
                (record.id, record.log),
                record.id.is_in(untimed[start:start + 100]))):
            seconds = _logged_seconds(log)
            if seconds is not None:
                store.execute("UPDATE mirror_probe_record SET "
                              "duration_seconds = ? WHERE id = ?",
                              (seconds, record_id), noresult=True)
                timed += 1
        store.commit()
    return rows, timed


# Applying what a trusted run found.

@attrs.frozen
class ApplySettings:
    """How findings take effect: whether owners are told, after how many
    consecutive unreachable runs a mirror is disabled, and the
    configuration the mail is composed with (None: the default)."""

    notify_owners: bool = True
    disable_after_failed_runs: int = Prober.disable_after_failed_runs.default
    config: object = None


@attrs.frozen
class StatusChange:
    mirror_name: str
    change: str   # 'disabled' or 'enabled'
    notified: bool
    # 'enabled': whether the prober had disabled it (so it is enabled
    # again); 'disabled': why, in sentences.
    again: bool = False
    why: tuple = ()


def apply_record(store, record_id, settings):
    """Make the findings of the probe record `record_id` take effect, from
    its rows and its JSON, mark it APPLIED and commit, if it is PENDING;
    return the StatusChanges made (none or one).  ValueError if its
    findings cannot be read."""
    changes = apply_records(store, [record_id], settings)
    store.commit()
    return changes


def apply_records(store, record_ids, settings):
    """apply_record for each of the probe records `record_ids`, in their
    order, in the store's transaction, which the caller commits: each
    mirror is still updated whole or not at all, and a batch of them
    costs one commit, a query for their mirrors and three for their
    findings.  A record that is PENDING no more is left as it is.  The
    records are read and marked by plain statements (a log only if its
    mirror is disabled); each mirror is the model's, whose rules enable
    and disable it."""
    rows = {}
    for chunk in _id_chunks(record_ids):
        for record_id, mirror_id, state, stored in store.execute(
                "SELECT id, distribution_mirror, state, findings FROM "
                "mirror_probe_record WHERE id IN (%s)" % (
                    ", ".join("?" * len(chunk)),), chunk):
            if state == ProbeRecordState.PENDING.value:
                rows[record_id] = (mirror_id, stored)
    found = read_findings_of(store, [
        record_id for record_id, (_, stored) in rows.items() if stored])
    # The batch's mirrors, in one query.
    mirrors = {mirror.id: mirror for mirror in store.find(
        DistributionMirror, DistributionMirror.id.is_in(
            list({mirror_id for mirror_id, _ in rows.values()})))}
    changes = []
    for record_id in record_ids:
        if record_id not in rows:
            continue
        mirror_id, stored = rows[record_id]
        findings = json.loads(stored) if stored else None
        if findings is not None:
            if record_id not in found:
                # Written before schema patch 0013 and left pending by a
                # run killed before `db upgrade`: its rows come from its
                # JSON, which held every finding.
                whole = _whole_findings(stored)
                write_findings(store, record_id, whole)
                stored = _stored_json(whole)
                found[record_id] = read_findings(store, record_id)
            findings.update(found[record_id])
            changes += _apply(store, mirrors[mirror_id], record_id,
                              findings, settings)
        store.execute(
            "UPDATE mirror_probe_record SET state = ?, findings = ? "
            "WHERE id = ?", (ProbeRecordState.APPLIED.value, stored,
                             record_id), noresult=True)
    return changes


def _apply(store, mirror, record_id, findings, settings):
    reviewed = mirror.status in (MirrorStatus.OFFICIAL,
                                 MirrorStatus.UNOFFICIAL)
    _record_protocols(mirror, findings)
    if findings["unreachable"]:
        # Its records stay: it carried them when last seen.  It is left
        # out of the mirror lists while failed_runs is above zero.
        mirror.failed_runs += 1
        if mirror.failed_runs < settings.disable_after_failed_runs:
            return []
        return _disable(store, mirror, record_id, settings)
    mirror.failed_runs = 0
    if findings["families"] is not None:
        mirror.has_ipv4, mirror.has_ipv6 = findings["families"]
    if findings["lies"]:
        _forget_content(mirror)
        return _disable(store, mirror, record_id, settings)
    _apply_content(store, mirror, findings["content"])
    _apply_cdimages(store, mirror, findings["cdimages"])
    _apply_detectors(store, mirror, findings["detectors"])
    if mirror.content is MirrorContent.RELEASE:
        expected = [(store.get(DistroSeries, series_id), flavour)
                    for series_id, flavour in findings["expected_cdimages"]]
        if not expected:
            # The manifest lists no image of this mirror's distribution:
            # nothing to judge the mirror by.
            return []
        disable = mirror.shouldDisable(expected)
    else:
        disable = mirror.shouldDisable()
    if disable:
        return _disable(store, mirror, record_id, settings)
    if not mirror.enabled and reviewed:
        again = mirror.date_disabled is not None
        mirror.enable()
        return [StatusChange(mirror.name, "enabled", False, again)]
    return []


def _disable(store, mirror, record_id, settings):
    """Disable `mirror`, telling its owner once, and why from the rows of
    the record `record_id`: when it is disabled, or, for a mirror that
    never worked, the first time it is found so."""
    was_enabled = mirror.enabled
    notify = settings.notify_owners and (
        was_enabled or mirror.date_disabled_notified is None)
    if not (was_enabled or notify):
        return []
    why = why_disabled_by_record(store, record_id, mirror.failed_runs)
    [(log,)] = store.execute(
        "SELECT log FROM mirror_probe_record WHERE id = ?",
        (record_id,)).get_all()
    mirror.disable(notify_owner=notify, log=log, why=why,
                   config=settings.config)
    return [StatusChange(mirror.name, "disabled", notify, why=tuple(why))]


def _record_protocols(mirror, findings):
    for scheme, outcome in findings["protocols"].items():
        answered = ProbeOutcome(outcome) not in UNUSABLE and \
            outcome != ProbeOutcome.FOUND.value
        setattr(mirror, scheme + "_answered", answered)


def _forget_content(mirror):
    mirror.arch_series.remove()
    mirror.source_series.remove()
    mirror.cdimage_series.remove()
    mirror.rpm_repositories.remove()
    mirror.freshness_checks.remove()


# The content records' tables, and their place's column, by kind.
_CONTENT_TABLES = {"binary": ("mirror_distro_arch_series",
                              "distro_arch_series"),
                   "source": ("mirror_distro_series_source",
                              "distro_series")}
# Ids a statement names at most: SQLite's oldest limit of parameters is
# 999.
_IDS_A_STATEMENT = 500


def _apply_content(store, mirror, content):
    """Content records as the run found them.  A place the network kept us
    from judging keeps its record with its freshness unknown; a record of
    a place this run did not ask about counts for nothing either: only
    what this run observed makes a mirror fresh.

    Set-wise, in the store's transaction: the mirror's records are read
    once as plain values (a query per table), and written by a few
    statements whatever the number of places (an UPDATE per freshness
    that changed, one INSERT of the new places, one DELETE of those it no
    longer carries), with no Storm object made, flushed or revalidated."""
    existing = {}
    for kind, (table, place) in _CONTENT_TABLES.items():
        for record_id, place_id, pocket, component_id, freshness in \
                store.execute(
                    "SELECT id, %s, pocket, component, freshness FROM %s "
                    "WHERE distribution_mirror = ?" % (place, table),
                    (mirror.id,)):
            existing[kind, place_id, pocket, component_id] = (
                record_id, freshness)
    unknown = MirrorFreshness.UNKNOWN.value
    # {(kind, freshness): [record id]}, {kind: [row]}, {kind: [record id]}
    changed, added, removed = {}, {}, {}

    def becomes(kind, record, freshness):
        if record[1] != freshness:
            changed.setdefault((kind, freshness), []).append(record[0])

    for finding in content:
        kind = finding["kind"]
        key = (kind, finding["place"], finding["pocket"],
               finding["component"])
        record = existing.pop(key, None)
        if finding["found"] is None:
            if record is not None:
                becomes(kind, record, unknown)
        elif finding["found"]:
            if record is None:
                added.setdefault(kind, []).append(
                    (mirror.id,) + key[1:] + (finding["freshness"],))
            else:
                becomes(kind, record, finding["freshness"])
        elif record is not None:
            removed.setdefault(kind, []).append(record[0])
    for (kind, _, _, _), record in existing.items():
        becomes(kind, record, unknown)
    for (kind, freshness), ids in changed.items():
        for chunk in _id_chunks(ids):
            store.execute("UPDATE %s SET freshness = ? WHERE id IN (%s)" % (
                _CONTENT_TABLES[kind][0], ", ".join("?" * len(chunk))),
                (freshness,) + chunk, noresult=True)
    for kind, ids in removed.items():
        for chunk in _id_chunks(ids):
            store.execute("DELETE FROM %s WHERE id IN (%s)" % (
                _CONTENT_TABLES[kind][0], ", ".join("?" * len(chunk))),
                chunk, noresult=True)
    for kind, rows in added.items():
        table, place = _CONTENT_TABLES[kind]
        insert_rows(store, table, ("distribution_mirror", place, "pocket",
                                   "component", "freshness"), rows)


def _id_chunks(ids):
    for start in range(0, len(ids), _IDS_A_STATEMENT):
        yield tuple(ids[start:start + _IDS_A_STATEMENT])


def _apply_cdimages(store, mirror, cdimages):
    for finding in cdimages:
        if finding["found"] is None:
            continue
        series = store.get(DistroSeries, finding["series"])
        if finding["found"]:
            mirror.ensureMirrorCDImageSeries(series, finding["flavour"])
        else:
            mirror.deleteMirrorCDImageSeries(series, finding["flavour"])


def _apply_detectors(store, mirror, detectors):
    """Keep one MirrorFreshnessCheck per detector and file probed, and the
    RPM repositories the mirror's repomd.xml files show it carries; a
    repository this run did not see (the network failed, or no detector
    looked) keeps its record, its freshness unknown.

    Set-wise, as _apply_content: the mirror's rows are read as plain
    values (a query per table), and written by an UPDATE per row that
    changed (as Storm did), one INSERT of the new rows and one DELETE of
    those gone, with no Storm object made."""
    checks = dict(((detector, label), check_id) for check_id, detector, label
                  in store.execute(
                      "SELECT id, detector, label FROM mirror_freshness_check"
                      " WHERE distribution_mirror = ? ORDER BY id",
                      (mirror.id,)))
    carried = {repository_id: (record_id, freshness)
               for repository_id, record_id, freshness in store.execute(
                   "SELECT rpm_repository, id, freshness FROM "
                   "mirror_rpm_repository WHERE distribution_mirror = ? "
                   "ORDER BY id", (mirror.id,))}
    unknown = MirrorFreshness.UNKNOWN.value
    # {(detector, label): (freshness, lag, syncing, note)}, in the order
    # first found; {repository id: freshness, or None once not carried}.
    checked, repositories = {}, {}
    for finding in detectors:
        key = (finding["detector"], finding["label"])
        checked[key] = (finding["freshness"], finding["lag_seconds"],
                        finding["syncing"], finding["note"])
        repository_id = finding["rpm_repository"]
        if repository_id is None or not finding["observed"]:
            continue
        repositories[repository_id] = (
            finding["freshness"] or unknown) if finding["found"] else None
    now = utcnow()
    for key, values in checked.items():
        if key in checks:
            store.execute(
                "UPDATE mirror_freshness_check SET freshness = ?, "
                "lag_seconds = ?, syncing = ?, note = ?, date_checked = ? "
                "WHERE id = ?", values + (now, checks[key]), noresult=True)
    insert_rows(store, "mirror_freshness_check", (
        "distribution_mirror", "detector", "label", "freshness",
        "lag_seconds", "syncing", "note", "date_checked"), [
            (mirror.id,) + key + values + (now,)
            for key, values in checked.items() if key not in checks])
    _delete_rows(store, "mirror_freshness_check", [
        check_id for key, check_id in checks.items() if key not in checked])
    for repository_id, (record_id, was) in carried.items():
        freshness = repositories.get(repository_id, unknown)
        if freshness is not None and freshness != was:
            store.execute(
                "UPDATE mirror_rpm_repository SET freshness = ? WHERE id = ?",
                (freshness, record_id), noresult=True)
    insert_rows(store, "mirror_rpm_repository", (
        "distribution_mirror", "rpm_repository", "freshness"), [
            (mirror.id, repository_id, freshness)
            for repository_id, freshness in repositories.items()
            if freshness is not None and repository_id not in carried])
    _delete_rows(store, "mirror_rpm_repository", [
        record_id for repository_id, (record_id, _) in carried.items()
        if repository_id in repositories and
        repositories[repository_id] is None])


def _delete_rows(store, table, ids):
    for chunk in _id_chunks(ids):
        store.execute("DELETE FROM %s WHERE id IN (%s)" % (
            table, ", ".join("?" * len(chunk))), chunk, noresult=True)


# Judging and recovering runs.

def start_run(store, content):
    """Create and commit the record of a new run; return its id."""
    run = ProberRunRecord(content)
    store.add(run)
    store.flush()
    run_id = run.id
    store.commit()
    return run_id


def _judged(store, run_id, verdict):
    run = store.get(ProberRunRecord, run_id)
    run.trusted = verdict.trusted
    run.reason = verdict.reason or None
    run.date_judged = utcnow()


def distrust_run(store, run_id, verdict):
    """Mark the run and its records distrusted, each log beginning with
    why, and commit: nothing the run found takes effect."""
    _judged(store, run_id, verdict)
    _mark_records(store, ProbeRecordState.DISTRUSTED,
                  "This run was distrusted, so nothing it found took "
                  "effect: %s." % (verdict.reason,), run_id=run_id)
    store.commit()


def _mark_records(store, state, why, run_id=None, record_id=None):
    """Give the PENDING records of the run `run_id` (or the one record
    `record_id`) `state`, each log beginning with the line `why`.  One
    UPDATE, whatever their number."""
    header = "%s %s\n" % (format_timestamp(utcnow().timestamp()), why)
    column, value = ("prober_run", run_id) if record_id is None \
        else ("id", record_id)
    store.execute(
        "UPDATE mirror_probe_record SET state = ?, log = ? || log "
        "WHERE %s = ? AND state = ?" % (column,),
        (state.value, header, value, ProbeRecordState.PENDING.value),
        noresult=True)


def trust_run(store, run_id):
    """Record that the run was trusted, and commit: from here on its
    records are applied, now or, if this process dies, by the next run."""
    _judged(store, run_id, RunVerdict(True))
    store.commit()


def apply_run(store, run_id, settings, logger=None):
    """Apply every PENDING record of the trusted run `run_id`, in the order
    they were written, APPLY_BATCH records a transaction; return the
    StatusChanges made.  A record that cannot be applied (a bug, or a
    database error) is rolled back, logged through `logger` and marked
    ABANDONED, and the others are still applied: a batch that fails is
    applied again a record a transaction."""
    changes = []
    records = list(store.find(
        (MirrorProbeRecord.id, MirrorProbeRecord.distribution_mirror_id),
        MirrorProbeRecord.prober_run_id == run_id,
        MirrorProbeRecord.state == ProbeRecordState.PENDING).order_by(
            MirrorProbeRecord.id))
    store.rollback()
    for start in range(0, len(records), APPLY_BATCH):
        batch = records[start:start + APPLY_BATCH]
        try:
            # Run again after losing to a concurrent writer, it reads the
            # records afresh, and leaves those PENDING no more.
            changes += committed(store, apply_records,
                                 [record_id for record_id, _ in batch],
                                 settings)
        except Exception:
            store.rollback()
            store.reset()
            # A record a transaction: the one that cannot be applied is
            # ABANDONED, and the others of the batch still take effect.
            for record_id, mirror_id in batch:
                changes += _apply_alone(store, record_id, mirror_id,
                                        settings, logger)
        # Storm revalidates every object it still knows at each commit: a
        # run's worth of records would make each commit cost O(K).
        store.reset()
    return changes


def _apply_alone(store, record_id, mirror_id, settings, logger):
    """apply_record in a transaction of its own; a record that cannot be
    applied is logged and marked ABANDONED."""
    try:
        return committed(store, apply_records, [record_id], settings)
    except Exception as error:
        store.rollback()
        if logger is not None:
            logger.error("Could not apply the probe of mirror %d: %s",
                         mirror_id, error)
        _mark_records(store, ProbeRecordState.ABANDONED,
                      "Applying what this probe found failed (%s): "
                      "nothing it found took effect." % (error,),
                      record_id=record_id)
        store.commit()
        return []
    finally:
        store.reset()


def recover(store, content, settings, logger=None):
    """Finish what runs of `content` killed earlier left: apply the
    records of trusted runs, and mark those of runs never judged
    ABANDONED.  Commits; returns (the StatusChanges made, the number of
    records abandoned)."""
    runs = list(store.find(
        ProberRunRecord, ProberRunRecord.content == content,
        ProberRunRecord.id.is_in(store.find(
            MirrorProbeRecord.prober_run_id,
            MirrorProbeRecord.state == ProbeRecordState.PENDING))).order_by(
                ProberRunRecord.id).values(
                    ProberRunRecord.id, ProberRunRecord.trusted))
    changes, abandoned = [], 0
    for run_id, trusted in runs:
        if trusted:
            changes += apply_run(store, run_id, settings, logger)
            continue
        abandoned += store.find(
            MirrorProbeRecord, prober_run_id=run_id,
            state=ProbeRecordState.PENDING).count()
        if trusted is None:
            _judged(store, run_id, RunVerdict(
                False, "the run stopped before it was judged"))
        _mark_records(store, ProbeRecordState.ABANDONED,
                      "This run stopped before it was judged, so nothing "
                      "it found took effect.", run_id=run_id)
        store.commit()
    return changes, abandoned


def prune_probe_records(store, older_than):
    """Delete the probe records created before `older_than` (UTC), keeping
    each mirror's newest record whatever its age, and the runs no record
    is left of; commit and return how many records went.  Logs of every
    request add up: a year of daily probes of a large archive mirror would
    be gigabytes."""
    from storm.expr import Max, Select
    record = MirrorProbeRecord
    newest = Select(Max(record.id), group_by=record.distribution_mirror_id)
    old = store.find(record, record.date_created < older_than,
                     record.id.is_in(newest) == False)  # noqa: E712
    count = old.count()
    old.remove()
    recorded = Select(record.prober_run_id,
                      record.prober_run_id != None)  # noqa: E711
    store.find(ProberRunRecord, ProberRunRecord.date_started < older_than,
               ProberRunRecord.id.is_in(recorded) == False  # noqa: E712
               ).remove()
    store.commit()
    return count


class ReportWriter:
    """Writes each mirror's report as a PENDING probe record as it arrives,
    off the reactor: in a thread of its own, with a store of its own opened
    there (Storm objects never cross threads), one transaction per mirror.
    So the database work overlaps the probing instead of following it,
    never delays an answer the reactor is waiting for, and a report's full
    log is let go as soon as it is written."""

    def __init__(self, reactor, database_uri, logger, run_id=None,
                 worker=None):
        from twisted.python.threadpool import ThreadPool
        if not database_uri:
            raise ValueError("the report writer needs the database's URI")
        self._reactor = reactor
        self._uri = database_uri
        self._logger = logger
        self._run_id = run_id
        # The claims' worker name: a report is written only while this
        # worker holds its mirror's claim (None: no claims).
        self._worker = worker
        self._pool = ThreadPool(1, 1, name="mirrorkeeper-prober-writer")
        self._store = None  # Used in the pool's thread only.

    def start(self):
        self._pool.start()

    def record(self, report):
        """A Deferred firing with the id of the report's probe record, once
        it is committed; with None if it was not written (the mirror is
        gone, or this worker lost its claim), or if writing it failed
        (logged, and the mirror is then left to the next run)."""
        from twisted.internet.threads import deferToThreadPool
        d = deferToThreadPool(self._reactor, self._pool, self._write, report)

        def failed(failure):
            self._logger.error("Could not record the probe of %s: %s",
                               report.plan.name, failure.getErrorMessage())
            return None
        return d.addErrback(failed)

    def call(self, function, *args):
        """A Deferred firing with `function(store, *args)`, called in the
        writer's thread with its store: the claims' steps, and planning,
        run there, off the reactor."""
        from twisted.internet.threads import deferToThreadPool
        return deferToThreadPool(self._reactor, self._pool, self._call,
                                 function, args)

    def _opened(self):
        if self._store is None:
            from mirrorkeeper.database.store import open_store
            self._store = open_store(self._uri)
        return self._store

    def _call(self, function, args):
        store = self._opened()
        try:
            return function(store, *args)
        except Exception:
            store.rollback()
            raise

    def _write(self, report):
        # The claim is checked in the transaction that writes the record,
        # and both run again if they lost to a concurrent writer (an
        # admin's edit of the mirror, another worker's claim).
        store = self._opened()
        try:
            return committed(store, self._written, report)
        finally:
            # Storm revalidates every object it still knows at each
            # commit: the mirrors and records of the run so far would
            # make each report's commit cost O(K).
            store.reset()

    def _written(self, store, report):
        if self._worker is not None and not holds(
                store, self._run_id, self._worker, report.plan.mirror_id):
            # Its lease ended and another worker took the mirror: that
            # one's probe is the run's.
            self._logger.warning(
                "Dropped the probe of %s: this worker no longer holds its "
                "claim", report.plan.name)
            return None
        return write_report(store, report, self._run_id)

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
