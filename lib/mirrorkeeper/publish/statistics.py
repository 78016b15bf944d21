"""Usage statistics of the mirror list daemon, kept off the hot path.

A request costs one list append and one counter increment in memory;
flush() (called every FLUSH_INTERVAL seconds by the daemon, and when it
stops) appends the request log lines to ``requests.log`` and adds the
counts to ``YYYY-MM-DD.<process>.json`` in the statistics folder.  Each
daemon process writes counts files of its own, so replicas never contend
(the log they share takes each flush in one append);
read_statistics() adds up every process's file of a day.
"""

import json
import os
import socket
import time
from collections import Counter

# Often enough that a crash loses little, rarely enough to cost nothing.
FLUSH_INTERVAL = 10.0


class Statistics:
    """Request log and per-day counts of (country, content)."""

    def __init__(self, folder, clock=time.time, process=None):
        self.folder = folder
        self._clock = clock
        self._process = process or "%s-%d" % (socket.gethostname(),
                                              os.getpid())
        self._lines = []
        self._counts = Counter()
        self._second = self._day = self._stamp = None

    def record(self, country, content, status, serial):
        """Note one request: who (country), what (content, a string such
        as 'apt/noble/amd64' or 'repo/fedora-40/x86_64'), the status and
        the snapshot that answered."""
        second = int(self._clock())
        if second != self._second:
            # Formatted once a second, not once a request.
            moment = time.gmtime(second)
            self._second = second
            self._day = time.strftime("%Y-%m-%d", moment)
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)
        country = country or "-"
        self._lines.append("%s %s %s %d %s\n" % (
            self._stamp, country, content, status, serial))
        self._counts[(self._day, country, content)] += 1

    def flush(self):
        """Write what was recorded since the last flush to the files."""
        if not self._lines:
            return
        lines, counts = self._lines, self._counts
        self._lines, self._counts = [], Counter()
        os.makedirs(self.folder, exist_ok=True)
        # One append of the whole batch: the workers of one daemon share
        # requests.log, and a single O_APPEND write is not interleaved
        # with another process's.
        data = "".join(lines).encode("utf-8")
        descriptor = os.open(os.path.join(self.folder, "requests.log"),
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
        by_day = {}
        for (day, country, content), count in counts.items():
            by_day.setdefault(day, Counter())[(country, content)] += count
        for day, day_counts in by_day.items():
            path = os.path.join(self.folder, "%s.%s.json"
                                % (day, self._process))
            totals = _read_counts(path)
            totals.update(day_counts)
            _write_counts(path, totals)


def _read_counts(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return Counter()
    return Counter({(row["country"], row["content"]): row["requests"]
                    for row in data})


def _write_counts(path, counts):
    rows = [{"country": country, "content": content, "requests": count}
            for (country, content), count in sorted(counts.items())]
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=0)
    os.replace(temporary, path)


def read_statistics(folder, day):
    """{(country, content): requests} of `day` ('YYYY-MM-DD'), summed over
    every process's file."""
    totals = Counter()
    try:
        names = os.listdir(folder)
    except OSError:
        return totals
    for name in names:
        if name.startswith(day + ".") and name.endswith(".json"):
            totals.update(_read_counts(os.path.join(folder, name)))
    return totals
