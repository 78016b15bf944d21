"""The mirror list snapshot, as cron builds it.

    cronscripts/generate-mirrorlist-snapshot.py [--distribution NAME]
        [--output PATH] [--lock-file PATH]

Reads the database and writes the snapshot the mirror list daemons serve
(see mirrorkeeper.publish.snapshot), atomically, and before it the facts
of its pool files beside it (mirrorkeeper.publish.poolfacts); settings not
given on the command line come from the [publication] section of the
configuration.
"""

import sys
import time

from mirrorkeeper.publish.poolfacts import write_master_pool_facts
from mirrorkeeper.publish.snapshot import (
    PublicationPolicy, build_snapshot, next_serial, record_serial,
    recorded_serial, write_snapshot)
from mirrorkeeper.scripts.base import (
    MirrorKeeperScript, add_json_option, print_json)
from mirrorkeeper.scripts.commands.common import find_distribution


class SnapshotScript(MirrorKeeperScript):
    name = "generate-mirrorlist-snapshot"
    description = ("Write the mirror list snapshot: every published mirror "
                   "with its URLs, place, network and the freshness of "
                   "what it carries, for the mirror list daemons.")

    def add_my_options(self, parser):
        parser.add_argument(
            "--distribution", metavar="NAME",
            help="the distribution (default: the only one, or the first "
                 "by name)")
        parser.add_argument(
            "--output", metavar="PATH",
            help="the snapshot file (default: [publication] snapshot_path)")
        parser.add_argument(
            "--lock-file", metavar="PATH",
            help="the lock that keeps two runs apart (default: "
                 "[publication] lock_file)")
        add_json_option(parser)

    def main(self):
        config = self.config
        self.lock(self.options.lock_file or
                  config.get("publication", "lock_file"))
        print_json(self.options, write_mirrorlist_snapshot(
            self.store, config, self.logger, self.options.distribution,
            self.options.output))


def write_mirrorlist_snapshot(store, config, logger, distribution=None,
                              path=None):
    """Build the snapshot of `distribution` (a name; None: the only one, or
    the first by name) from `store` and write it to `path` (None:
    [publication] snapshot_path), the pool facts first; a dict saying what
    was written.  The caller holds [publication] lock_file."""
    path = path or config.get("publication", "snapshot_path")
    distribution = find_distribution(distribution)
    started = time.monotonic()
    snapshot = build_snapshot(
        store, distribution, PublicationPolicy.from_config(config),
        serial=next_serial(path, recorded_serial(store, distribution)))
    # The facts first: a daemon that loads the snapshot finds them.
    pool_files = write_master_pool_facts(store, distribution, path,
                                         snapshot["serial"])
    size = write_snapshot(snapshot, path)
    logger.info(
        "Snapshot %d of %s: %d mirrors, %d RPM repositories, %d bytes, "
        "written to %s in %.2f s.", snapshot["serial"],
        distribution.name, len(snapshot["mirrors"]),
        len(snapshot["repositories"]), size, path,
        time.monotonic() - started)
    # Only the serial is written to the database: the next run numbers
    # from it even if this file is lost or corrupt.
    store.rollback()
    record_serial(store, distribution, snapshot["serial"])
    store.commit()
    return {
        "serial": snapshot["serial"], "distribution": distribution.name,
        "mirrors": len(snapshot["mirrors"]),
        "repositories": len(snapshot["repositories"]), "bytes": size,
        "pool_files": pool_files, "path": path,
        "seconds": round(time.monotonic() - started, 3)}


def main(argv=None):
    return SnapshotScript().run(argv)


if __name__ == "__main__":
    sys.exit(main())
