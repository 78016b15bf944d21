"""/metrics of the mirror list daemon, for Prometheus.

The daemon keeps a registry of its own (never prometheus_client's global
one, which other code in the process could fill) holding one collector,
which reads at scrape time what the daemon already keeps:

    mirrorkeeper_mirrorlist_requests_total{endpoint,country,status,worker}
        requests answered, by endpoint (apt, mirrorlist, metalink,
        redirect, metrics, unknown for a path not served), the client's
        country ("unknown" when GeoIP does not say) and HTTP status;
    mirrorkeeper_mirrorlist_snapshot_serial{worker}
        the serial of the snapshot answering;
    mirrorkeeper_mirrorlist_snapshot_generated_timestamp_seconds{worker}
        when that snapshot was built (Unix time);
    mirrorkeeper_mirrorlist_snapshot_age_seconds{worker}
        how old it is at scrape time;
    mirrorkeeper_mirrorlist_snapshot_reloads_total{worker}
        new snapshots taken into use since the process started;
    mirrorkeeper_mirrorlist_snapshot_reload_errors_total{worker}
        snapshot files that could not be loaded (the previous snapshot
        went on serving);
    mirrorkeeper_mirrorlist_snapshot_last_reload_error_timestamp_seconds
        {worker}: when the last of those happened (absent until one does).

The request hot path costs one increment of a plain dict counter
(RequestCounts.count, about 0.4 microseconds); the counter families are
built from it only when /metrics is asked.  A prometheus_client Counter's
labels(...).inc() takes a lock and a look-up of the labelled child, about
3 microseconds, on every request of a daemon benchmarked against nginx.

``worker`` is the process's number under ``--workers N`` (0 for the
process started, and for a daemon of one process).  Every worker answers
/metrics with its own numbers only, and the kernel picks the worker of
each connection: see README.md, Monitoring, for how to scrape them.
"""

import calendar
import time
from collections import Counter

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST


class RequestCounts(Counter):
    """{(endpoint, country, status): requests} since the process started."""

    def count(self, endpoint, country, status):
        self[(endpoint, country or "unknown", status)] += 1


def _generated_seconds(text):
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


class DaemonCollector:
    """The daemon's series, read from its RequestCounts and SnapshotSource
    when collected."""

    def __init__(self, requests, source, worker=0, clock=time.time):
        self.requests = requests
        self.source = source
        self.worker = str(worker)
        self.clock = clock
        self._generated = (None, None)

    def _snapshot_time(self, index):
        # Parsed once per snapshot, not once per scrape.
        key = (index.serial, index.generated)
        if self._generated[0] != key:
            self._generated = (key, _generated_seconds(index.generated))
        return self._generated[1]

    def collect(self):
        worker = self.worker
        requests = CounterMetricFamily(
            "mirrorkeeper_mirrorlist_requests",
            "Requests answered, by endpoint, client country and HTTP "
            "status.", labels=["endpoint", "country", "status", "worker"])
        for (endpoint, country, status), value in sorted(
                list(self.requests.items())):
            requests.add_metric([endpoint, country, str(status), worker],
                                value)
        yield requests
        source = self.source
        index = source.current
        if index is not None:
            yield self._gauge("snapshot_serial", "The serial of the "
                              "snapshot answering.", index.serial)
            generated = self._snapshot_time(index)
            if generated is not None:
                yield self._gauge(
                    "snapshot_generated_timestamp_seconds",
                    "When the snapshot answering was built (Unix time).",
                    generated)
                yield self._gauge(
                    "snapshot_age_seconds", "How old the snapshot "
                    "answering is.", max(0.0, self.clock() - generated))
        yield self._counter("snapshot_reloads", "New snapshots taken into "
                            "use since the process started.", source.reloads)
        yield self._counter("snapshot_reload_errors", "Snapshot files that "
                            "could not be loaded; the previous snapshot "
                            "went on serving.", source.reload_errors)
        if source.last_reload_error is not None:
            yield self._gauge("snapshot_last_reload_error_timestamp_seconds",
                              "When a snapshot file last failed to load "
                              "(Unix time).", source.last_reload_error)

    def _gauge(self, name, help_text, value):
        family = GaugeMetricFamily("mirrorkeeper_mirrorlist_" + name,
                                   help_text, labels=["worker"])
        family.add_metric([self.worker], value)
        return family

    def _counter(self, name, help_text, value):
        family = CounterMetricFamily("mirrorkeeper_mirrorlist_" + name,
                                     help_text, labels=["worker"])
        family.add_metric([self.worker], value)
        return family


class DaemonMetrics:
    """The daemon's registry: `requests` to count into, exposition() for
    /metrics."""

    def __init__(self, source, worker=0, clock=time.time):
        self.requests = RequestCounts()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(DaemonCollector(self.requests, source,
                                               worker, clock))

    def exposition(self):
        return generate_latest(self.registry)
