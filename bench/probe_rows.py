"""What writing one probe record costs, on both backends.

    .venv/bin/python -m bench.probe_rows [--places 1000] [--records 20]

Writes `--records` PENDING probe records of `--places` places each, as the
prober's writer thread does (mirrorkeeper.prober.record.write_record: the
record, its findings JSON and its rows, one transaction each), on a fresh
SQLite file and on a throwaway PostgreSQL server (tests.harness.postgres),
and beside them the same records with their JSON alone.  Prints the median
milliseconds a record of each, and their ratio.  Not part of `make bench`:
a figure for the closing note, taken with `uptime` beside it.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "lib"), ROOT]

from mirrorkeeper.database.migrate import upgrade  # noqa: E402
from mirrorkeeper.database.store import open_store  # noqa: E402
from mirrorkeeper.enums import MirrorFreshness  # noqa: E402
from mirrorkeeper.model.distributionmirror import (  # noqa: E402
    DistributionMirrorSet)
from mirrorkeeper.prober.record import write_record  # noqa: E402
from mirrorkeeper.sampledata import load_sample_data  # noqa: E402


def findings(store, places):
    """Findings of a probe of `places` places of the sample archive."""
    from tests.probe_findings import arch_place, findings
    mirror = DistributionMirrorSet(store)["valid-mirror"]
    warty = mirror.distribution.getSeries("warty")
    arch, main = warty.getArch("i386"), warty.components[0]
    content = [arch_place(arch, main, freshness=MirrorFreshness.UP,
                          label="place %d" % n) for n in range(places)]
    return mirror.id, findings(content)


def measure(uri, places, records):
    """(median ms a record with rows, median ms with its JSON alone)."""
    import json
    store = open_store(uri)
    upgrade(store)
    load_sample_data(store)
    store.commit()
    mirror_id, found = findings(store, places)
    with_rows, json_only = [], []
    for _ in range(records):
        started = time.perf_counter()
        write_record(store, mirror_id, "a probe\n", found)
        with_rows.append(time.perf_counter() - started)
        started = time.perf_counter()
        mirror = DistributionMirrorSet(store).get(mirror_id)
        record = mirror.newProbeRecord("a probe\n")
        record.findings = json.dumps(found, separators=(",", ":"))
        store.commit()
        json_only.append(time.perf_counter() - started)
    store.close()
    return (1000 * statistics.median(with_rows),
            1000 * statistics.median(json_only))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=1000)
    parser.add_argument("--records", type=int, default=20)
    options = parser.parse_args(argv)
    from tests.harness.postgres import PostgresServer
    print("load average: %.2f %.2f %.2f" % os.getloadavg())
    with tempfile.TemporaryDirectory() as folder, \
            PostgresServer() as server:
        server.create_database("rows")
        for backend, uri in (
                ("sqlite", "sqlite:" + os.path.join(folder, "rows.db")),
                ("postgres", server.uri("rows"))):
            rows, alone = measure(uri, options.places, options.records)
            print("%-8s %d places: %.1f ms a record, %.1f ms its JSON "
                  "alone (%.1fx)" % (backend, options.places, rows, alone,
                                     rows / alone))


if __name__ == "__main__":
    main()
