"""One prober run, from the mirrors to probe to the mail sent about them.

    recover (what a killed run left) -> the mirrors offered as claims, by
        host group (mirrorkeeper.prober.claims)
        -> in each worker (this process, its helpers, other machines):
           claim groups -> plans (database, a batch at a time)
           -> probes (reactor, no database)
           -> pending probe records (database, one transaction per mirror)
        -> once every claim is done, the run judged once, here, on what
           every worker recorded (canary, mass network failure)
        -> findings applied, enable/disable, mail queued (only when the
           run is trusted; fifty mirrors a transaction, each whole)
        -> mail (delivered from the outbox after commit)
"""

import contextlib
import gc
import time
from datetime import timedelta

import attrs
from twisted.internet import defer, task

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.interfaces.mail import MailDeliveryError
from mirrorkeeper.mail.outbox import deliver_pending
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, DistributionMirrorSet)
from mirrorkeeper.model.mirrorcontent import record_prober_run_counts
from mirrorkeeper.model.mirrorstate import last_probe_durations
from mirrorkeeper.prober import claims
from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.prober.plan import (
    ArchivePlanner, ManifestError, parse_cdimage_manifest,
    plan_cdimage_mirrors)
from mirrorkeeper.prober.record import (
    ApplySettings, ReportWriter, RunTally, apply_run, distrust_run,
    judge_run, prune_probe_records, recover, start_run, tally_of_run,
    trust_run)
from mirrorkeeper.settings import Prober, Timestamps
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.prober.run import probe_mirrors

# The largest CD image manifest accepted: a manifest lists a few thousand
# images at most.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

# The garbage collector's thresholds while the mirrors are probed.  Each
# request makes and drops a few dozen objects (its probe, its log lines,
# its result), nearly none of them in a cycle: at Python's default of 700,
# the young generation was collected every couple of dozen requests, and
# the collections took about 8 % of the prober's CPU (perf).  At 20,000 a
# whole run takes about 8 % less CPU (`python -m bench --only prober`).
# Judging and applying the run go back to the process's own thresholds:
# each batch applied leaves its Storm objects in cycles, which at these
# thresholds wait for a full collection, about 1 KB a mirror (11 MB more
# at the peak of a first run of 5,000 mirrors).
PROBING_GC_THRESHOLDS = (20000, 20, 10)


@contextlib.contextmanager
def collecting_rarely(thresholds=PROBING_GC_THRESHOLDS):
    """Run the block with the garbage collector's `thresholds`, and put
    back the ones it had, however the block ends."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def longest_first(plans, durations):
    """`plans` in the order that ends a run soonest: the mirrors whose last
    probe took longest first, those never timed before them all, since one
    slow mirror started last would finish the run alone."""
    return sorted(plans, key=lambda plan: -durations.get(
        plan.mirror_id, float("inf")))


def _plans_of(store, planner, mirror_ids):
    """The MirrorPlans of the mirrors `mirror_ids`, in that order (those
    deleted since they were offered are left out), made by `planner` with
    `store`, which is then left with nothing loaded."""
    found = {mirror.id: mirror for mirror in store.find(
        DistributionMirror, DistributionMirror.id.is_in(mirror_ids))}
    plans = planner(store, [found[mirror_id] for mirror_id in mirror_ids
                            if mirror_id in found])
    # Forgotten first, read only as they were: a rollback would mark each
    # object's every column to be read again, for nothing.
    store.reset()
    store.rollback()
    return plans


class _Room(defer.DeferredSemaphore):
    """The mirrors in flight: a DeferredSemaphore that also tells when
    `count` of its tokens are free at once (`free`)."""

    def __init__(self, tokens):
        super().__init__(tokens)
        self._watchers = []

    def free(self, count):
        """A Deferred firing once at least `count` tokens are free (at
        once if they are), after the waiters for one took theirs."""
        if self.tokens >= count:
            return defer.succeed(self)
        d = defer.Deferred()
        self._watchers.append((count, d))
        return d

    def release(self):
        super().release()
        watchers, self._watchers = self._watchers, []
        for count, d in watchers:
            if self.tokens >= count:
                d.callback(self)
            else:
                self._watchers.append((count, d))


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
    # Help with the run another process started (claims), never judging
    # it: a helper of --workers, or a prober on another machine.
    join: bool = False
    # Seconds a worker's claims last unless renewed.
    claim_lease_seconds: int = Prober.claim_lease_seconds.default
    # The largest Release, InRelease or repomd.xml a mirror may answer.
    max_control_file_bytes: int = Prober.max_control_file_bytes.default


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

    # Mirrors loaded at once to check them against the CD image manifest.
    PLANNED_AT_ONCE = 500

    def __init__(self, reactor, store, options, logger, mail_delivery=None,
                 *, database_uri, start_helpers=None):
        """`store` is read in the reactor's thread before and after the
        probes; each mirror's findings are written as they arrive by a
        writer thread with a store of its own on `database_uri`, the URI
        of the database `store` is on (required: a run is never left to
        find a database by itself).  `start_helpers(run_id, groups)`, if
        given, is called once the run's mirrors are offered as claims (in
        `groups` host groups), to start the processes that help probe them
        (`--workers`)."""
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
        self.start_helpers = start_helpers
        # This process's name in the claims it holds.
        self.worker = claims.worker_name()
        self._done = 0
        self._total = 0
        self._failures = []

    @property
    def mirrors_in_flight(self):
        """How many mirrors are probed at once: twice as many as fill
        every global slot at the per-host limit, so that the slots stay
        busy while some mirrors wait for an answer that decides their next
        requests, or for their report to be written; no more, since each
        holds its plan, its log and its waiting probes in memory, for the
        garbage collector to go through (a full collection over 200
        mirrors in flight stalled the event loop past the timeout)."""
        options = self.options
        return max(1, 2 * options.max_parallel //
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
        if self.options.join:
            yield self._join()
        else:
            yield self._run()
        self.summary.wall_time = time.monotonic() - started
        return self.summary

    @defer.inlineCallbacks
    def _run(self):
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
            return
        client = self._probe_client = self._client()
        try:
            planner = yield self._planner(
                client, [mirror.id for mirror in mirrors])
            if planner is None:
                return
            self._total = len(mirrors)
            if options.dry_run:
                tally = yield self._dry_run(client, planner, mirrors)
            else:
                run_id, groups = self._offer(mirrors)
                del mirrors
                canary = yield self._canary(client, run_id)
                if self.start_helpers is not None:
                    self.start_helpers(run_id, groups)
                with collecting_rarely():
                    yield self._work(client, planner, run_id)
        finally:
            yield client.close()
        self._log_skipped(client)
        if options.dry_run:
            self._count(tally)
            log.info("Dry run: nothing recorded.")
            return
        # The whole run, whoever probed it: judged once, here.
        self.store.rollback()  # See what the workers committed.
        tally, canary_failure = tally_of_run(self.store, run_id)
        self._count(tally)
        self._judge(run_id, tally, canary, canary_failure)

    @defer.inlineCallbacks
    def _join(self):
        """Help with the run another prober started: claim its mirrors,
        probe them and record them, until none is left; never judge."""
        options, log = self.options, self.logger
        run_id = claims.open_run(self.store, options.content_type)
        if run_id is None:
            log.info("No run to join.")
            return
        log.info("Joining prober run %d", run_id)
        client = self._probe_client = self._client()
        try:
            planner = yield self._planner(client, None)
            if planner is None:
                return
            canary = yield self._canary(client, run_id)
            if canary is not None and not canary.found:
                # Its view of the network cannot be trusted: the run is
                # distrusted, and this worker probes nothing of it.
                self.summary.error = "the canary %s failed (%s)" % (
                    canary.url, canary.message)
                log.error("Probing nothing: %s", self.summary.error)
                return
            with collecting_rarely():
                yield self._work(client, planner, run_id)
        finally:
            yield client.close()
        self._log_skipped(client)
        self.summary.probed = self._done

    def _log_skipped(self, client):
        for host, why in sorted(client.skipped_hosts().items()):
            self.logger.warning("Skipped %s for the rest of the run: %s",
                                host, why)

    def _offer(self, mirrors):
        """Start the run and offer its mirrors as claims, by host group,
        those whose last probe took longest first (one slow mirror
        started last would finish the run alone); return the run's id and
        how many groups it has."""
        durations = last_probe_durations(
            self.store, [mirror.id for mirror in mirrors])
        ordered = sorted(mirrors, key=lambda mirror: -durations.get(
            mirror.id, float("inf")))
        groups = claims.host_groups(
            (mirror.id, mirror.base_urls) for mirror in ordered)
        self.store.rollback()
        run_id = start_run(self.store, self.options.content_type)
        claims.offer(self.store, run_id, groups)
        return run_id, len(groups)

    @defer.inlineCallbacks
    def _canary(self, client, run_id):
        """Probe the canary, if there is one; a failure is recorded with
        the run, which distrusts it whoever judges it."""
        if not self.options.canary_url:
            return None
        canary = yield client.probe(self.options.canary_url)
        if not canary.found:
            claims.record_canary_failure(
                self.store, run_id, "%s (%s) from %s" % (
                    canary.url, canary.message, self.worker))
        return canary

    @defer.inlineCallbacks
    def _dry_run(self, client, planner, mirrors):
        """Probe every mirror in this process and record nothing; fires
        with the RunTally of their reports."""
        plans = _plans_of(self.store, planner,
                          [mirror.id for mirror in mirrors])
        durations = last_probe_durations(
            self.store, [plan.mirror_id for plan in plans])
        self.store.rollback()

        tally = RunTally()

        def reported(report):
            self._reported(report)
            tally.add_report(report)
        progress = self._start_progress()
        try:
            with collecting_rarely():
                yield probe_mirrors(
                    client, longest_first(plans, durations), self.reactor,
                    mirrors_in_flight=self.mirrors_in_flight,
                    on_report=reported)
        finally:
            if progress is not None:
                progress.stop()
        return tally

    @defer.inlineCallbacks
    def _work(self, client, planner, run_id):
        """Claim host groups of the run, plan, probe and record their
        mirrors, and mark them done, until the run has none left; the
        next groups are claimed once there is room for a few of them in
        the mirrors in flight, so that the slots stay busy.  Every database
        step runs in the writer's thread."""
        options = self.options
        lease = options.claim_lease_seconds
        writer = ReportWriter(self.reactor, self.database_uri, self.logger,
                              run_id, worker=self.worker)
        writer.start()
        room = _Room(self.mirrors_in_flight)
        # Claiming and planning cost a few transactions a batch, however
        # small: once mirrors are in flight, the next groups are claimed
        # when an eighth of the room is free, not at each mirror's end.
        # The slots stay busy: the mirrors in flight want twice as many.
        refill = max(1, self.mirrors_in_flight // 8)
        batches = []

        def renew():
            return writer.call(claims.renew, run_id, self.worker,
                               lease).addErrback(
                lambda failure: self.logger.warning(
                    "Could not renew the claims: %s",
                    failure.getErrorMessage()))
        renewal = task.LoopingCall(renew)
        renewal.clock = self.reactor
        renewal.start(lease / 3.0, now=False)
        progress = self._start_progress()

        def reported(report):
            self._reported(report)
            # Judging counts what every worker wrote: nothing is kept of
            # a mirror once its record is.
            return writer.record(report).addCallback(lambda _: None)

        def probed(_, hosts, batch):
            batches.remove(batch)
            return writer.call(claims.finish, run_id, self.worker, hosts)
        try:
            while not self._failures:
                # Wait for room (a slot, or `refill` of them while some
                # batches are in flight): the mirrors of the batches
                # already started take theirs first.
                yield room.free(refill if batches else 1)
                groups = yield writer.call(
                    claims.claim, run_id, self.worker, lease,
                    max(1, room.tokens))
                if not groups:
                    if batches:
                        yield defer.DeferredList(
                            list(batches), fireOnOneCallback=True,
                            fireOnOneErrback=True, consumeErrors=True)
                        continue
                    left, _ = yield writer.call(claims.progress, run_id)
                    if not left:
                        break
                    # Held by others: theirs, or ours once their lease
                    # ends.
                    yield task.deferLater(self.reactor, min(5.0, lease / 4),
                                          lambda: None)
                    continue
                plans = yield writer.call(
                    _plans_of, planner,
                    [mirror_id for _, ids in groups for mirror_id in ids])
                batch = probe_mirrors(
                    client, plans, self.reactor, limit=room,
                    on_report=reported)
                batches.append(batch)
                batch.addCallback(probed, [host for host, _ in groups],
                                  batch)
                batch.addErrback(self._batch_failed, batches, batch)
            if self._failures:
                self._failures[0].raiseException()
        finally:
            if progress is not None:
                progress.stop()
            renewal.stop()
            if batches:
                yield defer.DeferredList(list(batches), consumeErrors=True)
            yield writer.stop()

    def _batch_failed(self, failure, batches, batch):
        """A bug: its claims are left to lapse, and the run stops."""
        if batch in batches:
            batches.remove(batch)
        self._failures.append(failure)
        self.logger.error("Probing failed: %s", failure.getErrorMessage())

    def _count(self, tally):
        """The summary's counts, from the RunTally of the run."""
        from mirrorkeeper.enums import ProbeOutcome
        summary = self.summary
        summary.probed = tally.mirrors
        summary.unreachable = tally.unreachable
        summary.requests = tally.requests
        summary.failures = {
            ProbeOutcome(outcome).name: count
            for outcome, count in sorted(tally.outcomes.items())
            if outcome != ProbeOutcome.FOUND.value}

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
    def _planner(self, client, mirror_ids):
        """Fires with what plans a batch of mirrors: a function of a store
        and mirrors (model objects) returning their MirrorPlans; or None,
        with the summary's error set, when they cannot be planned.  The
        CD image manifest is fetched once, and checked against the mirrors
        `mirror_ids` when they are given."""
        options = self.options
        if options.content_type is MirrorContent.ARCHIVE:
            return ArchivePlanner(
                freshness=options.detectors,
                timestamp_file=options.timestamp_file,
                control_limit=options.max_control_file_bytes)
        url = options.cdimage_manifest_url
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
        def planner(store, mirrors):
            return plan_cdimage_mirrors(mirrors, entries)
        if mirror_ids is not None and not any(
                plan.cdimage_checks
                for start in range(0, len(mirror_ids), self.PLANNED_AT_ONCE)
                for plan in _plans_of(self.store, planner, mirror_ids[
                    start:start + self.PLANNED_AT_ONCE])):
            self.summary.error = (
                "the CD image manifest %s lists no image of a current "
                "series of the mirrors' distributions" % (url,))
            self.logger.error(self.summary.error)
            return None
        return planner

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

    def _judge(self, run_id, tally, canary, canary_failure=None):
        log = self.logger
        verdict = judge_run(tally, canary, canary_failure)
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
