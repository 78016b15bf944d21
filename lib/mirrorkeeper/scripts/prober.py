"""The distribution mirror prober, as cron runs it.

    cronscripts/distributionmirror-prober.py [--content-type=archive|cdimage]
        [--force] [--max-mirrors=N] [--max-parallel=N]
        [--max-parallel-per-host=N] [--no-owner-notification] [--dry-run]
        [--queued]

Settings not given on the command line come from the [prober] and [mail]
sections of the configuration.

--queued probes only the mirrors that asked to be probed now (POST
/api/1/mirrors/NAME/+probe, mirrorkeeper.model.checkin), however recently
they were probed, and takes each out of the queue once what its probe
found has taken effect; it is meant for a cron entry every minute.  Each
mirror is probed for what it carries (the archive, or CD images, whatever
--content-type says), and once a run took effect the mirror list snapshot
is written, as the daily run's cron entry does ([checkin]
snapshot_after_queued_run), so that the lists see it at once; --json
prints a line for each kind of content probed.  It
holds the prober's lock like every run, so a queued mirror is probed by
one run only; while another run holds the lock it leaves the queue to the
next minute and exits 0.
"""

import gc
import sys

import attrs
from twisted.internet import defer

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.prober.job import ProberOptions, ProberRun
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.scripts.base import (
    EXIT_ERROR, LockContention, MirrorKeeperScript, add_json_option,
    print_json, run_reactor)
from mirrorkeeper.settings import DATABASE, PROBER_SCRIPT

# The name RunSummary.failures gives requests the address policy refused.
FORBIDDEN_ADDRESS = ProbeOutcome.FORBIDDEN_ADDRESS.name

# How often a run on a terminal says how far it is.
PROGRESS_INTERVAL = 5.0


def _positive(text):
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


class ProberScript(MirrorKeeperScript):
    name = "distributionmirror-prober"
    description = ("Probe the distribution mirrors: what each carries, how "
                   "fresh it is; disable the ones carrying nothing and tell "
                   "their owners.")
    # --max-parallel and --max-parallel-per-host.
    setting_options = PROBER_SCRIPT

    def add_my_options(self, parser):
        parser.add_argument(
            "--content-type", choices=["archive", "cdimage"],
            default="archive", help="which mirrors to probe")
        parser.add_argument(
            "--force", action="store_true",
            help="probe mirrors probed in the last 24 hours too")
        parser.add_argument(
            "--max-mirrors", type=_positive, metavar="N",
            help="probe at most N mirrors (those probed longest ago first)")
        parser.add_argument(
            "--no-owner-notification", action="store_true",
            help="disable mirrors without emailing their owners")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="probe and log, but write nothing to the database")
        parser.add_argument(
            "--queued", action="store_true",
            help="probe only the mirrors that asked to be probed now")
        parser.add_argument(
            "--join", action="store_true",
            help="help with the run a prober on another machine started "
                 "(PostgreSQL): probe its mirrors, never judge it")
        add_json_option(parser)

    def prober_options(self):
        config, given = self.config, self.options
        return ProberOptions(
            content_type=(MirrorContent.RELEASE
                          if given.content_type == "cdimage"
                          else MirrorContent.ARCHIVE),
            force=given.force,
            max_mirrors=given.max_mirrors,
            max_parallel=config.value("prober", "max_parallel"),
            max_parallel_per_host=config.value("prober",
                                               "max_parallel_per_host"),
            timeout=config.getfloat("prober", "timeout"),
            notify_owners=not given.no_owner_notification,
            dry_run=given.dry_run,
            allowed_networks=config.allowed_networks(),
            cdimage_manifest_url=config.get("prober",
                                            "cdimage_manifest_url"),
            canary_url=config.get("prober", "canary_url"),
            progress_interval=(PROGRESS_INTERVAL if sys.stderr.isatty()
                               else None),
            keep_probe_records_days=config.getint(
                "prober", "keep_probe_records_days"),
            disable_after_failed_runs=config.getint(
                "prober", "disable_after_failed_runs"),
            config=config,
            trust_root=self.trust_root(),
            detectors=config.freshness_detectors(),
            timestamp_file=config.get("timestamps", "file_name"),
            join=given.join,
            claim_lease_seconds=config.getint("prober",
                                              "claim_lease_seconds"),
            max_control_file_bytes=config.getint(
                "prober", "max_control_file_bytes"),
        )

    def trust_root(self):
        """The CA certificates of [prober] ca_file, for mirrors whose
        certificates a private CA signs; None trusts the system's roots."""
        path = self.config.get("prober", "ca_file")
        if not path:
            return None
        from twisted.internet import ssl
        try:
            with open(path, "rb") as f:
                pem = f.read()
            return ssl.trustRootFromCertificates(
                [ssl.Certificate.loadPEM(pem)])
        except (OSError, ValueError, ssl.SSL.Error) as error:
            raise ConfigurationError("cannot load [prober] ca_file %s: %s"
                                     % (path, error)) from None

    def main(self):
        queued = self.options.queued
        try:
            if not self.options.join:
                # A helper works for the run of the prober holding it.
                self.lock(self.config.get("prober", "lock_file"))
        except LockContention as error:
            if not queued:
                raise
            # The queue waits a minute; cron need not hear of it.
            self.logger.info("The queue waits for the next run: %s", error)
            return 0
        options = self.prober_options()
        workers = 1 if options.dry_run or options.join else self.workers()
        # The global limit is shared by the run's processes.
        options.max_parallel = max(1, options.max_parallel // workers)
        helpers = []
        store = self.store
        runs = [options]
        if queued:
            runs = self._queued_runs(options, self._queued(store))
            store.rollback()
            if not runs:
                self.logger.info("No mirror asked to be probed.")
                return 0
        from twisted.internet import reactor
        delivery = None if options.dry_run or options.join \
            else self.mail_delivery()

        @defer.inlineCallbacks
        def probe_each():
            summaries = []
            for each in runs:
                self.logger.info("Probing Distribution Mirrors")
                summaries.append((yield ProberRun(
                    reactor, store, each, self.logger, delivery,
                    database_uri=self.database_uri,
                    start_helpers=self._helpers_of(each, workers,
                                                   helpers)).run()))
            return summaries
        # What is loaded by now (the modules, the configuration) lives as
        # long as the process: left out of the garbage collector's full
        # collections, each of which stalls the probes while it runs.  (A
        # run tunes the collector for its probes: job.collecting_rarely.)
        gc.freeze()
        try:
            summaries = run_reactor(probe_each)
        finally:
            self._wait_for(helpers)
        failed = False
        for each, summary in zip(runs, summaries):
            self._report(summary)
            print_json(self.options, self._summary_json(each, summary))
            failed = failed or bool(summary.error) or \
                self._all_refused(summary)
        if queued and not options.dry_run:
            self._queued(store)
            if self.config.value("checkin", "snapshot_after_queued_run") \
                    and any(summary.probed and summary.verdict is not None
                            and summary.verdict.trusted
                            for summary in summaries):
                self._write_snapshot(store)
        return EXIT_ERROR if failed else 0

    def workers(self):
        """How many processes probe a run: [prober] workers (--workers),
        0 meaning one per core."""
        import os
        return self.config.getint("prober", "workers") or os.cpu_count() \
            or 1

    def _helpers_of(self, options, workers, helpers):
        """What starts the helpers of a run of `options` once it offers
        its host groups, adding them to `helpers`: one fewer than
        `workers`, and fewer than the groups; None for a run of one
        process."""
        if workers == 1:
            return None

        def start(run_id, groups):
            count = min(workers, groups) - 1
            if count > 0:
                helpers.extend(self._start_helpers(count, options))
        return start

    def _start_helpers(self, count, options):
        """Start `count` helpers of the run of `options` (`--join`, each
        with its share of the global limit), on the same configuration and
        database, killed by the kernel if this process dies (their claims
        then lapse); return their Popen objects."""
        import os
        import subprocess

        import mirrorkeeper
        env = dict(os.environ)
        lib = os.path.dirname(os.path.dirname(mirrorkeeper.__file__))
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [lib, env.get("PYTHONPATH")]))
        # In the environment, not the command line, which anyone sees.
        env[DATABASE.setting.environment] = self.database_uri
        argv = [sys.executable, "-m", "mirrorkeeper.scripts.prober",
                "--join", "--quiet", "--workers", "1",
                "--content-type", ("cdimage" if options.content_type is
                                   MirrorContent.RELEASE else "archive"),
                "--max-parallel", str(options.max_parallel)]
        if self.options.config:
            argv += ["--config", self.options.config]
        self.logger.info("Started %d helpers", count)
        return [subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                 preexec_fn=_die_with_parent)
                for _ in range(count)]

    def _wait_for(self, helpers):
        """Wait for the helpers, which end once the run has no claim left;
        log those that did not end well (the run's claims saw to their
        mirrors)."""
        for helper in helpers:
            status = helper.wait()
            if status:
                self.logger.warning("A helper (pid %d) ended with status "
                                    "%d", helper.pid, status)

    def _queued_runs(self, options, mirror_ids):
        """The options of a run for each kind of content (the archive, CD
        images) the queued mirrors `mirror_ids` carry, each with its
        mirrors: a mirror is probed for what it carries."""
        from mirrorkeeper.model.distributionmirror import DistributionMirror
        by_content = {}
        for mirror_id, content in self.store.find(
                (DistributionMirror.id, DistributionMirror.content),
                DistributionMirror.id.is_in(list(mirror_ids))):
            by_content.setdefault(content, []).append(mirror_id)
        return [attrs.evolve(options, content_type=content,
                             mirror_ids=tuple(
                                 i for i in mirror_ids
                                 if i in by_content[content]))
                for content in MirrorContent if content in by_content]

    def _write_snapshot(self, store):
        """Write the mirror list snapshot now, as the cron pipeline does
        after a probe run, so that what the queued probe found reaches the
        lists within the minute; left to the next snapshot while another
        holds the snapshot's lock."""
        from mirrorkeeper.scripts.mirrorlist import write_mirrorlist_snapshot
        try:
            self.lock(self.config.get("publication", "lock_file"))
        except LockContention as error:
            self.logger.warning("The snapshot is left to the next one: %s",
                                error)
            return
        write_mirrorlist_snapshot(store, self.config, self.logger)

    def _queued(self, store):
        """Take out of the queue the mirrors whose probe has taken effect
        (this run's, or one a killed run left and this one recovered);
        the ids of those still in it.  Private mirrors whose check-in grew
        too old stop counting as fresh here too, every minute."""
        from datetime import timedelta

        from mirrorkeeper.model.checkin import (
            drain_queue, expire_checkins, queued_mirror_ids)
        for mirror_id in drain_queue(store):
            self.logger.info("Probed as asked: mirror %d left the queue",
                             mirror_id)
        max_age = timedelta(hours=self.config.getint("checkin",
                                                     "max_age_hours"))
        for name in expire_checkins(store, max_age):
            self.logger.info("The check-in of the private mirror %s is "
                             "older than %s: it counts for nothing now",
                             name, max_age)
        store.commit()
        return tuple(queued_mirror_ids(store))

    def _summary_json(self, options, summary):
        verdict = summary.verdict
        return {
            "content_type": ("cdimage" if options.content_type is
                             MirrorContent.RELEASE else "archive"),
            "dry_run": self.options.dry_run,
            "probed": summary.probed, "requests": summary.requests,
            "failures": dict(summary.failures),
            "wall_time": round(summary.wall_time, 3),
            "trusted": None if verdict is None else verdict.trusted,
            "distrust_reason": None if verdict is None or verdict.trusted
            else verdict.reason,
            "disabled": list(summary.disabled),
            "enabled": list(summary.enabled),
            "unreachable": summary.unreachable,
            "mail_sent": summary.mail_sent,
            "mail_failed": summary.mail_failed,
            "error": summary.error or None,
        }

    @staticmethod
    def _all_refused(summary):
        """Whether the address policy refused every request of the run: a
        run that probed nothing at all, which cron must hear of."""
        refused = summary.failures.get(FORBIDDEN_ADDRESS, 0)
        return bool(refused) and refused >= summary.requests

    def _report(self, summary):
        log = self.logger
        log.info("Probed %d mirrors.", summary.probed)
        if summary.probed:
            failures = ", ".join(
                "%s %d" % (kind, count)
                for kind, count in sorted(summary.failures.items()))
            log.info("%d requests in %.1f s; not found or failed: %s",
                     summary.requests, summary.wall_time,
                     failures or "none")
            if summary.verdict is not None and summary.verdict.trusted:
                log.info("Disabled %d, enabled %d, unreachable %d.",
                         len(summary.disabled), len(summary.enabled),
                         summary.unreachable)
        refused = summary.failures.get(FORBIDDEN_ADDRESS, 0)
        if self._all_refused(summary):
            log.error(
                "Every request (%d) was refused by the address policy: the "
                "mirrors resolve to addresses that are not global. If they "
                "are meant to be probed, name their networks in [prober] "
                "allowed_networks (e.g. 127.0.0.0/8 ::1/128 for loopback).",
                refused)
        elif refused:
            log.warning(
                "%d requests were refused by the address policy; [prober] "
                "allowed_networks names the networks probed besides global "
                "addresses.", refused)
        if summary.error:
            log.error("Failed: %s", summary.error)
        else:
            log.info("Done.")


def _die_with_parent():
    """In a helper, before it runs: the kernel kills it if the prober
    that started it dies (Linux), so none outlives its run."""
    import ctypes
    import signal
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG,
                                                signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def main(argv=None):
    return ProberScript().run(argv)


if __name__ == "__main__":
    sys.exit(main())
