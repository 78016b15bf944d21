"""The database's upkeep: `db upgrade`, `db status`, `sample-data`, and
`demo`, which sets everything up on first use and runs the main job."""

import os

from zope.component import getUtility

from mirrorkeeper.database.migrate import (
    applied_patches, available_patches, upgrade)
from mirrorkeeper.database.store import _redact
from mirrorkeeper.demo import probe_demo_mirrors
from mirrorkeeper.mail.outbox import pending
from mirrorkeeper.errors import DuplicateError
from mirrorkeeper.interfaces.distribution import IDistributionSet
from mirrorkeeper.sampledata import load_sample_data
from mirrorkeeper.scripts.commands.common import (
    add_actions, add_command, maintenance_lock_path)
from mirrorkeeper.scripts.commands.listing import print_mirrors

SAMPLE_DISTRIBUTION = "ubuntu"
# Where the demo writes the archive trees its mirrors serve.
DEMO_MIRRORS_ROOT = "var/demo-mirrors"


def register(subparsers, common):
    db = add_actions(subparsers, "db", "upgrade the schema or show its state")
    add_command(
        db, "upgrade", "apply the schema patches the database lacks",
        "Apply, in order, every schema patch the database lacks, each in a "
        "transaction\nof its own, and print each one applied.  Running it "
        "again is a no-op.",
        parents=[common], run=db_upgrade, needs_current_schema=False)
    add_command(
        db, "status", "list the schema patches, applied and pending",
        parents=[common], run=db_status, needs_current_schema=False)
    add_command(
        subparsers, "sample-data",
        "load the sample data (a small Ubuntu with a few mirrors)",
        "Load the sample data into an upgraded database: the distribution "
        "'ubuntu' with\nthe series warty and hoary, some publishing history, "
        "people, and the mirrors\nvalid-mirror, invalid-mirror, "
        "unreachable-mirror, archive-404-mirror and\nnew-mirror.  Refused if "
        "the distribution 'ubuntu' exists already.",
        parents=[common], run=sample_data)
    add_command(
        subparsers, "demo",
        "set up the database on first use, then list the mirrors",
        "What `make run` runs.  Upgrade the schema of the configured "
        "database (default\nsqlite:var/mirrorkeeper.db), load the sample "
        "data if it holds no distribution\nyet, serve the sample mirrors "
        "on loopback and probe them, and print the\nmirrors as "
        "`mirrorkeeper mirrors` does.",
        parents=[common], run=demo, needs_current_schema=False)


def apply_patches(script):
    """Upgrade the schema, holding the maintenance lock; return the names
    of the patches applied."""
    script.lock(maintenance_lock_path(script.database_uri))
    return upgrade(script.store)


def db_upgrade(script):
    applied = apply_patches(script)
    for name in applied:
        print("Applied %s" % (name,))
    if not applied:
        print("The schema is current: nothing to apply.")
    # What schema patches cannot make (see patch 0013).
    from mirrorkeeper.prober.record import upgrade_older_records
    rows, timed = upgrade_older_records(script.store)
    if rows:
        print("Wrote what %d older probe records found as rows." % (rows,))
    if timed:
        print("Recorded how long %d older probes took." % (timed,))


def db_status(script):
    store = script.store
    applied_patches(store)
    applied = dict(store.execute(
        "SELECT number, date_applied FROM schema_patch"))
    print("Database: %s" % (_redact(script.database_uri),))
    on_disk = available_patches()
    width = max([len(name) for _, name in on_disk] + [0])
    pending = 0
    for number, name in on_disk:
        if number in applied:
            # A raw query: SQLite gives the time as text, PostgreSQL as a
            # datetime; both read the same in their first 19 characters.
            print("  %s  applied %s UTC" % (name.ljust(width),
                                            str(applied[number])[:19]))
        else:
            print("  %s  pending" % (name.ljust(width),))
            pending += 1
    known = {number for number, _ in on_disk}
    for number in sorted(set(applied) - known):
        print("  patch %04d  applied, unknown to this version of "
              "mirrorkeeper" % (number,))
    if pending:
        print("%d patch(es) pending: run `mirrorkeeper db upgrade`."
              % (pending,))
    else:
        print("The schema is current.")


def load_sample(script):
    """Load the sample data, or DuplicateError if it would clash."""
    if getUtility(IDistributionSet).getByName(SAMPLE_DISTRIBUTION):
        raise DuplicateError(
            "the distribution %r exists already: the sample data is loaded "
            "only into a database without it" % (SAMPLE_DISTRIBUTION,))
    return load_sample_data(script.store)


def sample_data(script):
    script.lock(maintenance_lock_path(script.database_uri))
    distribution = load_sample(script)
    print("Loaded the sample data: the distribution %s and its mirrors %s."
          % (distribution.name,
             ", ".join(mirror.name for mirror in distribution.mirrors)))


def demo(script):
    """The main job of `make run`, a step each: set up on first use, probe
    the sample mirrors (served on loopback by this process), then list the
    mirrors as users would see them."""
    for name in apply_patches(script):
        script.logger.info("Applied %s", name)
    if not list(getUtility(IDistributionSet)):
        distribution = load_sample(script)
        script.logger.info("Loaded the sample data: %s with %d mirrors",
                           distribution.name, len(distribution.mirrors))
    script.store.commit()
    distribution = getUtility(IDistributionSet)[SAMPLE_DISTRIBUTION]
    script.logger.info("Probing the sample mirrors, served on loopback")
    summary = probe_demo_mirrors(
        script.store, script.database_uri, distribution, DEMO_MIRRORS_ROOT,
        script.logger)
    script.logger.info(
        "Probed %d mirrors with %d requests in %.1f s; disabled %s; "
        "enabled again %s", summary.probed, summary.requests,
        summary.wall_time, ", ".join(summary.disabled) or "none",
        ", ".join(summary.enabled) or "none")
    waiting = pending(script.store).count()
    if waiting:
        script.logger.info(
            "%d notification(s) wait in the mail outbox: the demo has no "
            "SMTP server to hand them to", waiting)
    print_mirrors(script)
    # The publication side: the snapshot cron writes after each probe, and
    # what the mirror list daemon serves from it.
    from mirrorkeeper.demo import show_publication
    from mirrorkeeper.publish.poolfacts import write_master_pool_facts
    from mirrorkeeper.publish.snapshot import (
        PublicationPolicy, build_snapshot, next_serial, write_snapshot)
    path = script.config.get("publication", "snapshot_path")
    snapshot = build_snapshot(
        script.store, distribution,
        PublicationPolicy.from_config(script.config),
        serial=next_serial(path))
    write_master_pool_facts(script.store, distribution, path,
                            snapshot["serial"])
    write_snapshot(snapshot, path)
    script.logger.info("Wrote the mirror list snapshot %d to %s",
                       snapshot["serial"], path)
    show_publication(snapshot, os.path.abspath(path), script.options.config)
    web = script.config.get("web", "listen")
    print("\nThe web listing: http://127.0.0.1:%s/ (run `make serve` to "
          "keep the web site and the mirror list daemon running)"
          % (web.split(":")[1],))
