"""The master archive scan, as cron runs it.

    cronscripts/update-master-archive.py --root DIR [--distribution NAME]
        [--cdimage-root DIR [--manifest PATH]] [--lock-file PATH]

and as `mirrorkeeper archive scan` runs it, with the same options.  Exit
status 0 when every part of the master was read without a fault, 1 when
some part was not (each fault is logged naming the file; the parts read
well are committed all the same).
"""

import os
import sys
import time

from mirrorkeeper.archive.cdimage import (
    MANIFEST_NAME, manifest_lines, write_manifest)
from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.scripts.base import (
    EXIT_ERROR, MirrorKeeperScript, add_json_option, print_json)
from mirrorkeeper.scripts.commands.common import find_distribution

DEFAULT_LOCK_FILE = "var/update-master-archive.lock"


def add_scan_options(parser):
    """The scan's options, on a script's parser or a subcommand's."""
    parser.add_argument(
        "--root", required=True, metavar="DIR",
        help="the master archive's tree on local disk (dists/, pool/, "
             "project/trace/, RPM repositories)")
    parser.add_argument(
        "--distribution", metavar="NAME",
        help="the distribution the master belongs to (default: the only "
             "one, or the first by name)")
    parser.add_argument(
        "--cdimage-root", metavar="DIR",
        help="the master's CD image tree: write its manifest too")
    parser.add_argument(
        "--manifest", metavar="PATH",
        help="where to write the CD image manifest (default: "
             "DIR/%s under --cdimage-root)" % (MANIFEST_NAME,))
    parser.add_argument(
        "--lock-file", metavar="PATH", default=DEFAULT_LOCK_FILE,
        help="the lock that keeps two scans apart (default: %(default)s)")
    add_json_option(parser)


def run_scan(script):
    """Scan the master as `script.options` say; return the exit status.
    `script` is a MirrorKeeperScript (this module's, or the command
    line's)."""
    options, log = script.options, script.logger
    if not os.path.isdir(options.root):
        raise InvalidValueError("the master archive root %s is not a "
                                "directory" % (options.root,))
    script.lock(options.lock_file)
    distribution = find_distribution(options.distribution)
    store = script.store
    log.info("Scanning the master archive of %s at %s", distribution.name,
             options.root)
    report = ArchiveScanner(store, distribution, options.root, log,
                            progress=terminal_progress(log),
                            config=script.config,
                            release_versions=script.config.getint(
                                "archive", "release_versions")).scan()
    if report.suites_scanned or report.suites_unchanged:
        log.info("Suites: %d scanned (%s), %d unchanged.",
                 len(report.suites_scanned),
                 ", ".join(report.suites_scanned) or "none",
                 len(report.suites_unchanged))
    log.info("Publications: %d published, %d superseded, %d deleted.",
             report.published, report.superseded, report.deleted)
    if report.repositories_scanned or report.repositories_unchanged:
        log.info("RPM repositories: %d scanned, %d unchanged.",
                 len(report.repositories_scanned),
                 len(report.repositories_unchanged))
    log.info("Control file versions recorded: %d; trace times recorded: "
             "%d.", report.file_details, report.trace_timestamps)
    if options.cdimage_root:
        write_cdimage_manifest(script, distribution)
    store.commit()
    print_json(options, {
        "distribution": distribution.name,
        "suites_scanned": list(report.suites_scanned),
        "suites_unchanged": len(report.suites_unchanged),
        "published": report.published, "superseded": report.superseded,
        "deleted": report.deleted,
        "repositories_scanned": len(report.repositories_scanned),
        "repositories_unchanged": len(report.repositories_unchanged),
        "file_details": report.file_details,
        "trace_timestamps": report.trace_timestamps,
        "problems": len(report.problems)})
    if report.problems:
        log.error("%d part(s) of the master could not be read; what was "
                  "there is kept for them.", len(report.problems))
        return EXIT_ERROR
    log.info("Done.")
    return 0


# How often a scan on a terminal says how far it is, in seconds.
PROGRESS_INTERVAL = 5.0


def terminal_progress(log, interval=PROGRESS_INTERVAL, clock=time.monotonic,
                      terminal=None):
    """A progress(done, total, label) for the scanner that logs a line at
    most every `interval` seconds, or None when standard error is not a
    terminal (cron's mail stays what it was)."""
    if not (sys.stderr.isatty() if terminal is None else terminal):
        return None
    last = [clock()]

    def progress(done, total, label):
        now = clock()
        if now - last[0] >= interval:
            last[0] = now
            log.info("Progress: %d of %d parts of the master scanned (%s)",
                     done, total, label)
    return progress


def write_cdimage_manifest(script, distribution):
    options = script.options
    root = options.cdimage_root
    if not os.path.isdir(root):
        raise InvalidValueError("the CD image root %s is not a directory"
                                % (root,))
    lines = manifest_lines(root, [(series.name, series.version)
                                  for series in distribution.series])
    path = options.manifest or os.path.join(root, MANIFEST_NAME)
    changed = write_manifest(path, lines)
    script.logger.info("CD image manifest %s: %d images%s.", path,
                       len(lines), "" if changed else ", unchanged")


class ArchiveScanScript(MirrorKeeperScript):
    name = "update-master-archive"
    description = ("Bring the database up to date with the master archive: "
                   "series, publishing history, RPM repositories, control "
                   "file and trace file history, and the CD image "
                   "manifest.")

    def add_my_options(self, parser):
        add_scan_options(parser)

    def main(self):
        return run_scan(self)


def main(argv=None):
    return ArchiveScanScript().run(argv)


if __name__ == "__main__":
    sys.exit(main())
