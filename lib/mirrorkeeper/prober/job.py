"""One prober run, from the mirrors to probe to the mail sent about them.

    recover (what a killed run left) -> plans (database, read once)
        -> probes (reactor, no database)
        -> pending probe records (database, one transaction per mirror)
        -> the run judged (canary, mass network failure)
        -> findings applied, enable/disable, mail queued (only when the
           run is trusted; one transaction per mirror)
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
from mirrorkeeper.model.mirrorcontent import record_prober_run_counts
from mirrorkeeper.model.mirrorstate import last_probe_durations
from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.prober.plan import (
    ManifestError, parse_cdimage_manifest, plan_archive_mirrors,
    plan_cdimage_mirrors)
from mirrorkeeper.prober.record import (
    ApplySettings, RecordedMirror, ReportWriter, apply_run, distrust_run,
    judge_run, prune_probe_records, recover, start_run, trust_run)
from mirrorkeeper.settings import Prober, Timestamps
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.prober.run import probe_mirrors

# The largest CD image manifest accepted: a manifest lists a few thousand
# images at most.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


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
    max_parallel: int = Prober.max_parallel.default
    max_parallel_per_host: int = Prober.max_parallel_per_host.default
    timeout: float = Prober.timeout.default
    notify_owners: bool = True
    dry_run: bool = False
    # Networks probed although not global (CIDR str), e.g. loopback.
    allowed_networks: tuple = ()
    cdimage_manifest_url: str = Prober.cdimage_manifest_url.default
    canary_url: str = Prober.canary_url.default
    # Freshness detectors by distribution name; "*" for the others.
    detectors: dict = attrs.Factory(lambda: {"*": ("publishing",)})
    # The planted timestamp file, relative to a mirror's base URL.
    timestamp_file: str = Timestamps.file_name.default
    progress_interval: float | None = None
    # Probe records older than this many days are deleted after the run
    # (each mirror keeps its newest); 0 keeps them all.
    keep_probe_records_days: int = Prober.keep_probe_records_days.default
    # Consecutive runs that cannot reach a mirror before it is disabled.
    disable_after_failed_runs: int = Prober.disable_after_failed_runs.default
    trust_root: object = None
    hosts: dict | None = None
    # The configuration the mail is composed with (None: the default).
    config: object = None
    # Only these mirrors (ids), however recently they were probed: the
    # queued run's (mirrorkeeper.model.checkin); None: all that are due.
    mirror_ids: tuple | None = None


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
    unreachable: int = 0
    error: str = ""


class ProberRun:
    """A run of the prober over one store, logging through `logger`."""

    def __init__(self, reactor, store, options, logger, mail_delivery=None,
                 *, database_uri):
        """`store` is read in the reactor's thread before and after the
        probes; each mirror's findings are written as they arrive by a
        writer thread with a store of its own on `database_uri`, the URI
        of the database `store` is on (required: a run is never left to
        find a database by itself)."""
        if not database_uri:
            raise ValueError(
                "a prober run needs the URI of its database (database_uri), "
                "for the store its findings are written with; got %r"
                % (database_uri,))
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
        if not options.dry_run:
            self._recover()
        queued = options.mirror_ids
        mirrors = DistributionMirrorSet(self.store).getMirrorsToProbe(
            options.content_type,
            ignore_last_probe=options.force or queued is not None,
            limit=options.max_mirrors if queued is None else None,
            mirror_ids=queued)
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
            writer = run_id = None
            if not options.dry_run:
                run_id = start_run(self.store, options.content_type)
                writer = ReportWriter(self.reactor, self.database_uri, log,
                                      run_id)
                writer.start()

            def reported(report):
                self._reported(report)
                if writer is None:
                    return RecordedMirror.of(report)
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
        self._count(recorded)
        for host, why in sorted(client.skipped_hosts().items()):
            log.warning("Skipped %s for the rest of the run: %s", host, why)
        if options.dry_run:
            log.info("Dry run: nothing recorded.")
        else:
            self._judge(run_id, recorded, canary)
        self.summary.wall_time = time.monotonic() - started
        return self.summary

    def _count(self, recorded):
        """The summary's counts, from what each mirror's probe did."""
        from mirrorkeeper.enums import ProbeOutcome
        summary = self.summary
        summary.probed = len(recorded)
        summary.unreachable = sum(1 for each in recorded if each.unreachable)
        failures = {}
        for each in recorded:
            summary.requests += each.requests
            for outcome, count in each.outcomes.items():
                if outcome != ProbeOutcome.FOUND.value:
                    name = ProbeOutcome(outcome).name
                    failures[name] = failures.get(name, 0) + count
        summary.failures = failures

    def _settings(self):
        options = self.options
        return ApplySettings(
            notify_owners=options.notify_owners,
            disable_after_failed_runs=options.disable_after_failed_runs,
            config=options.config)

    def _recover(self):
        """Finish what an earlier run, killed, left undone."""
        changes, abandoned = recover(self.store, self.options.content_type,
                                     self._settings(), self.logger)
        if abandoned:
            self.logger.warning(
                "%d probe records of a run that stopped before it was "
                "judged were marked abandoned: nothing they found took "
                "effect", abandoned)
        if changes:
            self.logger.info("Applied what a run that stopped while "
                             "applying had found:")
            self._report_changes(changes)

    @defer.inlineCallbacks
    def _plan(self, client, mirrors):
        if self.options.content_type is MirrorContent.ARCHIVE:
            return plan_archive_mirrors(
                self.store, mirrors, freshness=self.options.detectors,
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

    def _judge(self, run_id, recorded, canary):
        log = self.logger
        self.store.rollback()  # See what the writer committed.
        verdict = judge_run(recorded, canary)
        self.summary.verdict = verdict
        # For /metrics; committed with the verdict, trusted or not.
        record_prober_run_counts(self.store, run_id, self.summary)
        if not verdict.trusted:
            distrust_run(self.store, run_id, verdict)
            self.summary.error = ("run distrusted, nothing it found took "
                                  "effect: %s" % (verdict.reason,))
            log.error("Changing nothing, disabling nobody, sending no mail: "
                      "%s", verdict.reason)
            return
        trust_run(self.store, run_id)
        self._report_changes(apply_run(self.store, run_id,
                                       self._settings(), log))
        if self.options.keep_probe_records_days:
            pruned = prune_probe_records(self.store, utcnow() - timedelta(
                days=self.options.keep_probe_records_days))
            if pruned:
                log.info("Deleted %d probe records older than %d days",
                         pruned, self.options.keep_probe_records_days)
        self._deliver_mail()

    def _report_changes(self, changes):
        log = self.logger
        for change in changes:
            if change.change == "disabled":
                self.summary.disabled.append(change.mirror_name)
                # The first sentence says it; the mail says it all.
                log.info("Disabled %s%s: %s", change.mirror_name,
                         " and notified its owner" if change.notified
                         else "", change.why[0] if change.why else "")
            else:
                self.summary.enabled.append(change.mirror_name)
                log.info("Enabled %s%s: it carries its content",
                         change.mirror_name,
                         " again" if change.again else "")

    def _deliver_mail(self):
        log = self.logger
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
