"""One prober run, from the mirrors to probe to the mail sent about them.

    plans (database, read once) -> probes (reactor, no database)
        -> records (database, one transaction per mirror)
        -> enable/disable (only when the run can trust what it saw)
        -> mail (delivered from the outbox after commit)
"""

import time
from datetime import timedelta

import attrs
from twisted.internet import defer, task

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.interfaces.mail import MailDeliveryError
from mirrorkeeper.mail.outbox import deliver_pending
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.prober.plan import (
    ManifestError, parse_cdimage_manifest, plan_archive_mirrors,
    plan_cdimage_mirrors)
from mirrorkeeper.prober.record import (
    RecordedMirror, ReportWriter, apply_verdicts, judge_run,
    prune_probe_records)
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.prober.run import probe_mirrors

# The largest CD image manifest accepted: a manifest lists a few thousand
# images at most.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def last_probe_durations(store, mirror_ids):
    """{mirror id: seconds its newest probe took}, for the mirrors whose
    newest probe record says."""
    from storm.expr import Max, Select
    from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
    record = MirrorProbeRecord
    durations = {}
    for start in range(0, len(mirror_ids), 500):
        chunk = mirror_ids[start:start + 500]
        newest = Select(Max(record.id), record.distribution_mirror_id.is_in(
            chunk), group_by=record.distribution_mirror_id)
        for mirror_id, seconds in store.find(
                (record.distribution_mirror_id, record.duration_seconds),
                record.id.is_in(newest)):
            if seconds is not None:
                durations[mirror_id] = seconds
    return durations


def longest_first(plans, durations):
    """`plans` in the order that ends a run soonest: the mirrors whose last
    probe took longest first, those never timed before them all, since one
    slow mirror started last would finish the run alone."""
    return sorted(plans, key=lambda plan: -durations.get(
        plan.mirror_id, float("inf")))


@attrs.define
class ProberOptions:
    content_type: MirrorContent = MirrorContent.ARCHIVE
    force: bool = False
    max_mirrors: int | None = None
    max_parallel: int = 100
    max_parallel_per_host: int = 2
    timeout: float = 30.0
    notify_owners: bool = True
    dry_run: bool = False
    # Networks probed although not global (CIDR str), e.g. loopback.
    allowed_networks: tuple = ()
    cdimage_manifest_url: str = ""
    canary_url: str = ""
    # Freshness detectors by distribution name; "*" for the others.
    detectors: dict = attrs.Factory(lambda: {"*": ("publishing",)})
    # The planted timestamp file, relative to a mirror's base URL.
    timestamp_file: str = "mirrorkeeper-timestamp"
    progress_interval: float | None = None
    # Probe records older than this many days are deleted after the run
    # (each mirror keeps its newest); 0 keeps them all.
    keep_probe_records_days: int = 30
    trust_root: object = None
    hosts: dict | None = None


@attrs.define
class RunSummary:
    probed: int = 0
    disabled: list = attrs.Factory(list)
    enabled: list = attrs.Factory(list)
    requests: int = 0
    failures: dict = attrs.Factory(dict)
    wall_time: float = 0.0
    verdict: object = None
    mail_sent: int = 0
    mail_failed: int = 0
    error: str = ""


class ProberRun:
    """A run of the prober over one store, logging through `logger`."""

    def __init__(self, reactor, store, options, logger, mail_delivery=None,
                 database_uri=None):
        """`store` is read in the reactor's thread before and after the
        probes; each mirror's findings are written as they arrive by a
        writer thread with a store of its own on `database_uri`."""
        self.reactor = reactor
        self.store = store
        self.database_uri = database_uri
        self.options = options
        self.logger = logger
        self.mail_delivery = mail_delivery
        self.summary = RunSummary()
        self._done = 0
        self._total = 0

    @property
    def mirrors_in_flight(self):
        """How many mirrors are probed at once: enough that every global
        slot stays busy even when each mirror has only a few requests left
        under its per-host limit, yet few enough that what waits for a slot
        stays small in memory."""
        options = self.options
        return max(1, 4 * options.max_parallel //
                   max(1, options.max_parallel_per_host))

    def _client(self):
        options = self.options
        return ProbeClient(
            self.reactor, timeout=options.timeout,
            max_parallel=options.max_parallel,
            max_parallel_per_host=options.max_parallel_per_host,
            allowed_networks=options.allowed_networks,
            trust_root=options.trust_root, hosts=options.hosts)

    @defer.inlineCallbacks
    def run(self):
        """Fires with the RunSummary."""
        started = time.monotonic()
        options, log = self.options, self.logger
        mirrors = DistributionMirrorSet(self.store).getMirrorsToProbe(
            options.content_type, ignore_last_probe=options.force,
            limit=options.max_mirrors)
        if not mirrors:
            log.info("No mirrors to probe.")
            return self.summary
        client = self._probe_client = self._client()
        try:
            plans = yield self._plan(client, mirrors)
            # The plans hold everything the network phase needs; end the
            # read transaction so the database is free while we probe.
            self.store.rollback()
            # And let the mirror objects go: Storm marks every object still
            # alive for reloading at each commit, so holding K mirrors here
            # made each of the 2K commits of the recording cost O(K).
            del mirrors
            if plans is None:
                return self.summary
            durations = last_probe_durations(
                self.store, [plan.mirror_id for plan in plans])
            self.store.rollback()
            canary = None
            if options.canary_url:
                canary = yield client.probe(options.canary_url)
            self._total = len(plans)
            writer = None
            if not options.dry_run:
                writer = ReportWriter(self.reactor, self.database_uri, log)
                writer.start()

            def reported(report):
                self._reported(report)
                if writer is None:
                    return RecordedMirror.of(report, recorded=False)
                return writer.record(report)

            progress = self._start_progress()
            try:
                recorded = yield probe_mirrors(
                    client, longest_first(plans, durations), self.reactor,
                    mirrors_in_flight=self.mirrors_in_flight,
                    on_report=reported)
            finally:
                if progress is not None:
                    progress.stop()
                if writer is not None:
                    yield writer.stop()
            # Judged, and reported, in the order the mirrors came in.
            order = {plan.mirror_id: n for n, plan in enumerate(plans)}
            recorded.sort(key=lambda summary: order[summary.mirror_id])
            del plans
        finally:
            yield client.close()
        stats = client.stats
        self.summary.probed = len(recorded)
        self.summary.requests = stats.requests
        self.summary.failures = {
            outcome.name: count for outcome, count in stats.failures.items()}
        for host, why in sorted(client.skipped_hosts().items()):
            log.warning("Skipped %s for the rest of the run: %s", host, why)
        if options.dry_run:
            log.info("Dry run: nothing recorded.")
        else:
            self._judge(recorded, canary)
        self.summary.wall_time = time.monotonic() - started
        return self.summary

    @defer.inlineCallbacks
    def _plan(self, client, mirrors):
        if self.options.content_type is MirrorContent.ARCHIVE:
            from mirrorkeeper.prober.detectors import detectors_for
            detectors = self.options.detectors
            return plan_archive_mirrors(
                self.store, mirrors, detectors_for=lambda distribution:
                detectors_for(self.store, distribution, detectors),
                timestamp_file=self.options.timestamp_file)
        url = self.options.cdimage_manifest_url
        if not url:
            self.summary.error = ("no CD image manifest is configured "
                                  "([prober] cdimage_manifest_url)")
            self.logger.error(self.summary.error)
            return None
        result = yield client.fetch(url, MAX_MANIFEST_BYTES, headers=(
            ("Cache-Control", "no-cache"), ("Pragma", "no-cache")))
        if not result.found:
            self.summary.error = "cannot fetch the CD image manifest %s: %s" \
                % (url, result.message)
            self.logger.error(self.summary.error)
            return None
        try:
            entries = parse_cdimage_manifest(
                result.body.decode("utf-8", "replace"))
        except ManifestError as error:
            self.summary.error = "the CD image manifest %s is malformed: " \
                "%s" % (url, error)
            self.logger.error(self.summary.error)
            return None
        plans = plan_cdimage_mirrors(mirrors, entries)
        if not any(plan.cdimage_checks for plan in plans):
            self.summary.error = (
                "the CD image manifest %s lists no image of a current "
                "series of the mirrors' distributions" % (url,))
            self.logger.error(self.summary.error)
            return None
        return plans

    def _reported(self, report):
        self._done += 1
        self.logger.debug("Probed %s: %d requests", report.plan.name,
                          report.requests)

    def _start_progress(self):
        interval = self.options.progress_interval
        if not interval:
            return None
        progress = task.LoopingCall(self._progress)
        progress.clock = self.reactor
        progress.start(interval, now=False)
        return progress

    def _progress(self):
        self.logger.info("Progress: %d of %d mirrors probed, %d requests",
                         self._done, self._total,
                         self._probe_client.stats.requests)

    def _judge(self, recorded, canary):
        log = self.logger
        self.store.rollback()  # See what the writer committed.
        if self.options.keep_probe_records_days:
            pruned = prune_probe_records(self.store, utcnow() - timedelta(
                days=self.options.keep_probe_records_days))
            if pruned:
                log.info("Deleted %d probe records older than %d days",
                         pruned, self.options.keep_probe_records_days)
        verdict = judge_run(recorded, canary)
        self.summary.verdict = verdict
        if not verdict.trusted:
            log.error("Disabling nobody and sending no mail: %s",
                      verdict.reason)
            return
        changes = apply_verdicts(self.store, recorded,
                                 notify_owners=self.options.notify_owners)
        for change in changes:
            if change.change == "disabled":
                self.summary.disabled.append(change.mirror_name)
                log.info("Disabled %s%s", change.mirror_name,
                         " and notified its owner" if change.notified
                         else "")
            else:
                self.summary.enabled.append(change.mirror_name)
                log.info("Enabled %s again: it carries its content",
                         change.mirror_name)
        if self.mail_delivery is not None:
            try:
                sent, failed = deliver_pending(self.store, self.mail_delivery)
            except MailDeliveryError as error:
                sent, failed = 0, 1
                log.error("Mail not delivered: %s", error)
            self.summary.mail_sent, self.summary.mail_failed = sent, failed
            if failed:
                log.warning("%d messages could not be delivered; they stay "
                            "in the outbox for the next run", failed)
