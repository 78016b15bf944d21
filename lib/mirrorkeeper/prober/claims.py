"""Sharing a prober run between workers: claims on host groups, with a
lease (schema patch 0021).

The process that starts a run offers its mirrors (`offer`) as one claim
per host group: mirrors that share a host name are one group, probed by
one worker, so that the per-host limit holds whoever probes them.  Each
worker, in that process, in its helpers (`--workers`) or on other
machines (`--join`), then loops:

    claim groups (`claim`) -> plan and probe their mirrors -> write each
    record while it still holds the claim (`holds`) -> mark them done
    (`finish`)

renewing its leases (`renew`) while it probes.  A worker that dies stops
renewing: when its leases end, another claims its groups, marks the
records it left ABANDONED and probes those mirrors again.  A worker whose
lease ended while it was merely slow finds, writing, that it no longer
holds the claim, and drops its report: a mirror is recorded once a run.

Claiming is one UPDATE of the claims it takes: on PostgreSQL its rows are
chosen by `SELECT ... FOR UPDATE SKIP LOCKED`, so that workers claiming at
once never wait for each other nor take the same group; on SQLite the
UPDATE takes the database's write lock, which does the same for local
workers.  Every function runs in its own transaction and commits.
"""

import os
import socket

from datetime import timedelta
from urllib.parse import urlsplit

from storm.databases.postgres import Postgres

from mirrorkeeper.database.transaction import committed
from mirrorkeeper.enums import ProbeRecordState
from mirrorkeeper.prober.result import format_timestamp
from mirrorkeeper.timeutil import utcnow

__all__ = ["claim", "finish", "holds", "host_groups", "offer", "open_run",
           "progress", "renew", "worker_name"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "rsync": 873}


def worker_name():
    """This process's name in the claims it holds: host name and pid."""
    return "%s:%d" % (socket.gethostname(), os.getpid())


def _site(url):
    """"host:port" of `url`: what the probe client's per-host limit counts
    requests by."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return "%s:%s" % ((parts.hostname or "").lower(),
                      port or _DEFAULT_PORTS.get(parts.scheme, ""))


def host_groups(mirrors):
    """[(host, [mirror id, ...]), ...]: `mirrors` ((id, URLs) pairs, in
    the order to probe them) grouped so that two sharing a host (name and
    port, through any of their URLs) are in one group, each named by its
    first host in sort order, in the order of their first mirror."""
    parent = {}

    def root(name):
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    hosts_of = []
    for mirror_id, urls in mirrors:
        hosts = sorted({_site(url) for url in urls if url}) or [
            "mirror-%d" % mirror_id]
        for host in hosts[1:]:
            parent[root(host)] = root(hosts[0])
        hosts_of.append((mirror_id, hosts))
    groups, names = {}, {}
    for mirror_id, hosts in hosts_of:
        top = root(hosts[0])
        groups.setdefault(top, []).append(mirror_id)
        names[top] = min(names.get(top, hosts[0]), *hosts)
    return [(names[top], ids) for top, ids in groups.items()]


def offer(store, run_id, groups):
    """Offer the host groups ((host, mirror ids) pairs, in the order they
    are to be claimed) of the run `run_id`; commit."""
    from mirrorkeeper.database.bulk import insert_rows
    insert_rows(store, "prober_claim", ("prober_run", "host", "position"),
                [(run_id, host, position)
                 for position, (host, _) in enumerate(groups)])
    insert_rows(store, "prober_claim_mirror",
                ("prober_run", "host", "distribution_mirror"),
                [(run_id, host, mirror_id)
                 for host, ids in groups for mirror_id in ids])
    store.commit()


def claim(store, run_id, worker, lease_seconds, limit, now=None):
    """Claim up to `limit` host groups of the run `run_id` that nobody
    holds (or whose holder's lease ended), for `lease_seconds`, the
    longest to probe first.  Returns [(host, [mirror id, ...]), ...].

    A group claimed before (its holder died) has the records its holder
    wrote for this run marked ABANDONED, saying why: its mirrors are
    probed again, and each is recorded once."""
    now = now or utcnow()
    lock = " FOR UPDATE SKIP LOCKED" if isinstance(
        store.get_database(), Postgres) else ""

    def take(store):
        # Two statements, not an UPDATE of a LIMITed subquery: PostgreSQL
        # may run such a subquery again for each row it updates, and so
        # hand one worker more than `limit` groups (every group, once the
        # planner's statistics said so).
        free = [host for host, in store.execute(
            "SELECT host FROM prober_claim WHERE prober_run = ? AND "
            "date_done IS NULL AND (worker IS NULL OR lease_until < ?) "
            "ORDER BY position LIMIT ?%s" % (lock,), (run_id, now, limit))]
        taken = []
        for start in range(0, len(free), 500):
            chunk = free[start:start + 500]
            # Still free (SQLite's read took no lock), else left alone.
            taken += store.execute(
                "UPDATE prober_claim SET worker = ?, lease_until = ?, "
                "claims = claims + 1 WHERE prober_run = ? AND "
                "date_done IS NULL AND (worker IS NULL OR lease_until < ?) "
                "AND host IN (%s) RETURNING host, claims" % (
                    ", ".join(["?"] * len(chunk)),),
                [worker, now + timedelta(seconds=lease_seconds), run_id,
                 now] + chunk).get_all()
        order = {host: position for position, host in enumerate(free)}
        taken.sort(key=lambda row: order[row[0]])
        again = [host for host, claims in taken if claims > 1]
        if again:
            _abandon_records(store, run_id, again, now)
        mirrors = {}
        hosts = [host for host, _ in taken]
        for start in range(0, len(hosts), 500):
            marks = ", ".join(["?"] * len(hosts[start:start + 500]))
            for host, mirror_id in store.execute(
                    "SELECT host, distribution_mirror FROM "
                    "prober_claim_mirror WHERE prober_run = ? AND host IN "
                    "(%s) ORDER BY distribution_mirror" % (marks,),
                    [run_id] + hosts[start:start + 500]):
                mirrors.setdefault(host, []).append(mirror_id)
        return [(host, mirrors.get(host, [])) for host in hosts]
    return committed(store, take)


def _abandon_records(store, run_id, hosts, now):
    header = "%s This probe's worker stopped before it finished its " \
        "host's mirrors, so nothing it found took effect: they were " \
        "probed again.\n" % (format_timestamp(now.timestamp()),)
    marks = ", ".join(["?"] * len(hosts))
    store.execute(
        "UPDATE mirror_probe_record SET state = ?, log = ? || log "
        "WHERE prober_run = ? AND state = ? AND distribution_mirror IN ("
        "SELECT distribution_mirror FROM prober_claim_mirror WHERE "
        "prober_run = ? AND host IN (%s))" % (marks,),
        [ProbeRecordState.ABANDONED.value, header, run_id,
         ProbeRecordState.PENDING.value, run_id] + list(hosts),
        noresult=True)


def holds(store, run_id, worker, mirror_id):
    """Whether `worker` still holds the claim on `mirror_id`'s group of
    the run `run_id`.  Does not commit: called in the transaction that
    writes the mirror's record, it locks the claim until that commits, so
    no other worker can take it in between."""
    result = store.execute(
        "UPDATE prober_claim SET worker = worker WHERE prober_run = ? AND "
        "worker = ? AND date_done IS NULL AND host = (SELECT host FROM "
        "prober_claim_mirror WHERE prober_run = ? AND "
        "distribution_mirror = ?)", (run_id, worker, run_id, mirror_id))
    return result.rowcount == 1


def renew(store, run_id, worker, lease_seconds, now=None):
    """Extend `worker`'s leases on the claims it holds and has not
    finished; commit; return how many."""
    now = now or utcnow()
    return committed(store, lambda store: store.execute(
        "UPDATE prober_claim SET lease_until = ? WHERE prober_run = ? AND "
        "worker = ? AND date_done IS NULL",
        (now + timedelta(seconds=lease_seconds), run_id, worker)).rowcount)


def finish(store, run_id, worker, hosts, now=None):
    """Mark done the claims on `hosts` that `worker` holds (their mirrors'
    records are written); commit."""
    now = now or utcnow()
    hosts = list(hosts)

    def done(store):
        for start in range(0, len(hosts), 500):
            chunk = hosts[start:start + 500]
            store.execute(
                "UPDATE prober_claim SET date_done = ? WHERE prober_run = ? "
                "AND worker = ? AND date_done IS NULL AND host IN (%s)" % (
                    ", ".join(["?"] * len(chunk)),),
                [now, run_id, worker] + chunk, noresult=True)
    committed(store, done)


def progress(store, run_id, now=None):
    """(claims not done, of them those nobody holds now) of the run."""
    now = now or utcnow()
    open_, free = store.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN worker IS NULL OR "
        "lease_until < ? THEN 1 ELSE 0 END), 0) FROM prober_claim WHERE "
        "prober_run = ? AND date_done IS NULL", (now, run_id)).get_one()
    store.rollback()
    return open_, free


def open_run(store, content):
    """The id of the newest run of `content` not judged yet that has
    claims not done, or None: the run a worker started by `--join`
    helps with."""
    row = store.execute(
        "SELECT id FROM prober_run WHERE content = ? AND date_judged IS "
        "NULL AND id IN (SELECT prober_run FROM prober_claim WHERE "
        "date_done IS NULL) ORDER BY id DESC LIMIT 1",
        (content.value,)).get_one()
    store.rollback()
    return None if row is None else row[0]


def record_canary_failure(store, run_id, why):
    """Record that a worker's canary failed (`why`), which distrusts the
    run; commit."""
    store.execute(
        "UPDATE prober_run SET canary_failure = ? WHERE id = ? AND "
        "canary_failure IS NULL", (why, run_id), noresult=True)
    store.commit()
