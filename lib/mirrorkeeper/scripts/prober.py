"""The distribution mirror prober, as cron runs it.

    cronscripts/distributionmirror-prober.py [--content-type=archive|cdimage]
        [--force] [--max-mirrors=N] [--max-parallel=N]
        [--max-parallel-per-host=N] [--no-owner-notification] [--dry-run]

Settings not given on the command line come from the [prober] and [mail]
sections of the configuration.
"""

import sys

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.prober.job import ProberOptions, ProberRun
from mirrorkeeper.prober.result import ProbeOutcome
from mirrorkeeper.scripts.base import (
    EXIT_ERROR, MirrorKeeperScript, add_json_option, print_json, run_reactor)

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
            "--max-parallel", type=_positive, metavar="N",
            help="requests in flight across all mirrors")
        parser.add_argument(
            "--max-parallel-per-host", type=_positive, metavar="N",
            help="requests in flight to one host")
        parser.add_argument(
            "--no-owner-notification", action="store_true",
            help="disable mirrors without emailing their owners")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="probe and log, but write nothing to the database")
        add_json_option(parser)

    def prober_options(self):
        config, given = self.config, self.options
        return ProberOptions(
            content_type=(MirrorContent.RELEASE
                          if given.content_type == "cdimage"
                          else MirrorContent.ARCHIVE),
            force=given.force,
            max_mirrors=given.max_mirrors,
            max_parallel=given.max_parallel or config.getint(
                "prober", "max_parallel"),
            max_parallel_per_host=given.max_parallel_per_host or
            config.getint("prober", "max_parallel_per_host"),
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
        self.lock(self.config.get("prober", "lock_file"))
        options = self.prober_options()
        store = self.store
        self.logger.info("Probing Distribution Mirrors")
        from twisted.internet import reactor
        run = ProberRun(reactor, store, options, self.logger,
                        None if options.dry_run else self.mail_delivery(),
                        database_uri=self.database_uri)
        summary = run_reactor(run.run)
        self._report(summary)
        print_json(self.options, self._summary_json(summary))
        if summary.error or self._all_refused(summary):
            return EXIT_ERROR
        return 0

    def _summary_json(self, summary):
        verdict = summary.verdict
        return {
            "content_type": self.options.content_type,
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


def main(argv=None):
    return ProberScript().run(argv)


if __name__ == "__main__":
    sys.exit(main())
