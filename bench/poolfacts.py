"""The pool files' facts and the mirror list daemon's memory (issue 15):
the bench database of bench/mirrorlist.py (1,000 mirrors, 500 RPM
repositories) with POOL_FILES published pool files, the snapshot built
and written as the snapshot script does, then one daemon process started
on it, asked for metalinks of pool files, and its resident memory read.

The same daemon is measured on the same snapshot with the pool files'
facts in its JSON ``files`` instead, as they were before the facts file
(commit 5022d46): the difference is what the facts file saves each
worker process.

    .venv/bin/python -m bench.poolfacts [--pool-files N]

Prints one line per figure; writes no results file (run it on an idle
machine before quoting it).
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from bench.mirrorlist import (
    CLIENT, build_database, free_port, rss_mb, wait_for, worker_pids)

POOL_FILES = 250000
# Metalinks asked of each daemon before its memory is read.
REQUESTS = 200


def add_pool_files(path, count, seed=1):
    """`count` binary package files, each of its own release, published
    in the database at `path` in some series' arch (a year ago: outside
    the snapshot's pool window); their paths."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    arches = [row[0] for row in db.execute(
        "SELECT id FROM distro_arch_series ORDER BY id")]
    components = [row[0] for row in db.execute(
        "SELECT id FROM component ORDER BY id")]
    start = db.execute("SELECT coalesce(max(id), 0) FROM "
                       "binary_package_release").fetchone()[0] + 1
    paths = []
    releases, files, history = [], [], []
    for n in range(count):
        release = start + n
        name = "package%06d" % n
        version = "1.%d-%d" % (n % 7, n % 3 + 1)
        filename = "%s_%s_amd64.deb" % (name, version)
        path_ = "pool/main/%s/%s/%s" % (name[:1], name, filename)
        paths.append(path_)
        releases.append((release, name, version, name))
        files.append((release, filename, 1, path_,
                      rng.randrange(1000, 50000000),
                      "%064x" % rng.getrandbits(256)))
        history.append((release, rng.choice(arches), rng.choice(components),
                        0, 2, "2023-06-01 00:00:00"))
    db.executemany("INSERT INTO binary_package_release (id, name, version, "
                   "source_name) VALUES (?, ?, ?, ?)", releases)
    db.executemany("INSERT INTO binary_package_file (binary_package_release, "
                   "filename, filetype, path, size, sha256) "
                   "VALUES (?, ?, ?, ?, ?, ?)", files)
    db.executemany("INSERT INTO binary_package_publishing_history "
                   "(binary_package_release, distro_arch_series, component, "
                   "pocket, status, date_published) "
                   "VALUES (?, ?, ?, ?, ?, ?)", history)
    db.commit()
    db.close()
    return paths


def daemon_memory(directory, snapshot_path, pool_paths, label):
    """(RSS in MB after REQUESTS metalinks of pool files, the statuses
    seen) of one daemon process serving `snapshot_path`."""
    config = os.path.join(directory, "mirrorkeeper.conf")
    with open(config, "w") as f:
        f.write("[publication]\ntrusted_proxies = 127.0.0.1\n")
    port = free_port()
    log_path = os.path.join(directory, "daemon-%s.log" % label)
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "mirrorkeeper"),
             "mirrorlist-server", "--config", config,
             "--listen", "tcp:%d:interface=127.0.0.1" % port,
             "--snapshot", snapshot_path,
             "--statistics", os.path.join(directory, "statistics-" + label)],
            stderr=log, stdout=subprocess.DEVNULL)
    try:
        base = "http://127.0.0.1:%d" % port
        wait_for(base + "/mirrors.txt", deadline=300)
        [pid] = worker_pids(log_path, 1)
        statuses = {}
        rng = random.Random(2)
        for path in rng.sample(pool_paths, REQUESTS):
            request = urllib.request.Request(
                base + "/metalink/" + path,
                headers={"X-Forwarded-For": CLIENT})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            statuses[status] = statuses.get(status, 0) + 1
        return rss_mb(pid), statuses
    finally:
        daemon.terminate()
        daemon.wait(30)


def run(pool_files=POOL_FILES):
    """[(figure, value, unit)]."""
    from mirrorkeeper.database.store import open_store
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.publish.poolfacts import (
        pool_facts_path, published_pool_files, write_master_pool_facts)
    from mirrorkeeper.publish.snapshot import build_snapshot, write_snapshot

    directory = tempfile.mkdtemp(prefix="bench-poolfacts-")
    figures = []
    try:
        database = os.path.join(directory, "mirrorkeeper.db")
        build_database(database)
        pool_paths = add_pool_files(database, pool_files)
        store = open_store("sqlite:" + database)
        ubuntu = DistributionSet(store)["ubuntu"]
        after = os.path.join(directory, "after", "snapshot.json")
        os.makedirs(os.path.dirname(after))
        started = time.monotonic()
        snapshot = build_snapshot(store, ubuntu)
        built = time.monotonic()
        written = write_master_pool_facts(store, ubuntu, after,
                                          snapshot["serial"])
        facts_done = time.monotonic()
        json_bytes = write_snapshot(snapshot, after)
        finished = time.monotonic()
        figures += [
            ("snapshot generation, whole (%d pool files)" % written,
             finished - started, "s"),
            ("  of which the JSON snapshot", built - started +
             finished - facts_done, "s"),
            ("  of which the pool facts file", facts_done - built, "s"),
            ("snapshot JSON", json_bytes / 1e6, "MB"),
            ("pool facts file", os.path.getsize(
                pool_facts_path(after, snapshot["serial"])) / 1e6, "MB")]
        # Before: the same snapshot with the facts in its JSON.
        before = os.path.join(directory, "before", "snapshot.json")
        os.makedirs(os.path.dirname(before))
        inline = json.loads(json.dumps(snapshot))
        del inline["pool_facts"]
        copied = time.monotonic()
        for path, size, sha256 in published_pool_files(store, ubuntu.id):
            inline["files"].setdefault(path, [{"size": size,
                                               "sha256": sha256}])
        inline_bytes = write_snapshot(inline, before)
        figures += [
            ("snapshot generation with the facts in the JSON (before)",
             built - started + time.monotonic() - copied, "s"),
            ("snapshot JSON with the facts in it (before)",
             inline_bytes / 1e6, "MB")]
        store.close()
        for label, path in (("before", before), ("after", after)):
            rss, statuses = daemon_memory(directory, path, pool_paths,
                                          label)
            figures.append(("daemon RSS, one process, facts %s (%s)" % (
                "in the JSON" if label == "before" else "in SQLite",
                label), rss, "MB"))
            if statuses != {200: REQUESTS}:
                figures.append(("metalink answers other than 200, " + label,
                                REQUESTS - statuses.get(200, 0),
                                "responses"))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.poolfacts",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--pool-files", type=int, default=POOL_FILES)
    options = parser.parse_args(argv)
    for name, value, unit in run(options.pool_files):
        print("%-56s %10.2f %s" % (name, value, unit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
