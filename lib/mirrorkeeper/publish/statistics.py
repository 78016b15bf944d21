"""Usage statistics of the mirror list daemon, kept off the hot path.

A request costs one list append and one counter increment in memory;
flush() (the daemon's take() every FLUSH_INTERVAL seconds, then write()
in a thread, and flush() when it stops) appends the request log lines
to ``requests.log`` and adds the counts to ``YYYY-MM-DD.<process>.json``
in the statistics folder: a
JSON list of {"country", "content", "protocol", "requests"}, where
"protocol" is the ?protocol= the client asked for as the daemon read it
("https,http"), "" for none.  Files written before the daemon counted
protocols have rows without it, read (and kept, when a flush adds to
them) as protocol None: not counted.  Each
daemon process writes counts files of its own, so replicas never contend
(the log they share takes each flush in one append);
read_statistics() adds up every process's file of a day.

``requests.log`` is rotated by the flush (LogRotation: daily, or before
it passes a size) to ``requests.log.1``, the older ones shifting to .2
... up to the number kept, under a lock file that the workers sharing the
log take in turn.  A counts file that cannot be read as counts is renamed
``<name>.corrupt-<UTC time>`` and an error logged: it is kept for a human
to look at, and the day's counts start again in a new file rather than
overwriting it with what this process counted alone.
"""

import fcntl
import json
import os
import socket
import time
from collections import Counter
from dataclasses import dataclass

from twisted.logger import Logger

from mirrorkeeper.atomicfile import write_atomically
from mirrorkeeper.errors import ConfigurationError
from mirrorkeeper.settings import Publication

# Often enough that a crash loses little, rarely enough to cost nothing.
FLUSH_INTERVAL = 10.0
# Log lines kept written, by what they say (each about 200 bytes with its
# key): countries, contents, statuses and protocols asked for are each
# few, but their combinations are not; emptied when full.
MAX_ENTRIES = 16384

LOG_NAME = "requests.log"
ROTATIONS = Publication.request_log_rotation.kind.words

log = Logger()


@dataclass(frozen=True)
class LogRotation:
    """When requests.log is rotated, and how many rotated logs are kept;
    the defaults are the settings' (mirrorkeeper.settings)."""

    when: str = Publication.request_log_rotation.default
    max_bytes: int = Publication.request_log_max_bytes.default
    keep: int = Publication.request_log_keep.default

    @classmethod
    def from_config(cls, config):
        section = "publication"
        when = config.get(section, "request_log_rotation").strip().lower()
        if when not in ROTATIONS:
            raise ConfigurationError(
                "[publication] request_log_rotation: %r is not one of %s"
                % (when, ", ".join(ROTATIONS)))
        rotation = cls(when, config.getint(section, "request_log_max_bytes"),
                       config.getint(section, "request_log_keep"))
        if rotation.keep < 1 or (when == "size" and rotation.max_bytes < 1):
            raise ConfigurationError(
                "[publication] request_log_keep and request_log_max_bytes "
                "must be 1 or more")
        return rotation

    def due(self, stat, adding, now):
        """Whether a log of `stat` (os.stat_result) is rotated before
        `adding` more bytes are appended at Unix time `now`."""
        if stat.st_size == 0 or self.when == "none":
            return False
        if self.when == "size":
            return stat.st_size + adding > self.max_bytes
        return time.gmtime(stat.st_mtime)[:3] != time.gmtime(now)[:3]


def rotate(folder, rotation, adding, now):
    """Rotate folder/requests.log if `rotation` says it is due; True if it
    was.  Under an exclusive lock on folder/requests.log.lock, the
    condition looked at again once held, so that workers flushing at once
    rotate it once."""
    path = os.path.join(folder, LOG_NAME)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return False
    if not rotation.due(stat, adding, now):
        return False
    descriptor = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return False
        if not rotation.due(stat, adding, now):
            return False
        oldest = "%s.%d" % (path, rotation.keep)
        if os.path.exists(oldest):
            os.remove(oldest)
        for number in range(rotation.keep - 1, 0, -1):
            older = "%s.%d" % (path, number)
            if os.path.exists(older):
                os.replace(older, "%s.%d" % (path, number + 1))
        os.replace(path, path + ".1")
        return True
    finally:
        os.close(descriptor)


class Statistics:
    """Request log and per-day counts of (country, content, protocol)."""

    def __init__(self, folder, clock=time.time, process=None,
                 rotation=LogRotation()):
        self.folder = folder
        self.rotation = rotation
        self._clock = clock
        self._process = process or "%s-%d" % (socket.gethostname(),
                                              os.getpid())
        # What was recorded since the last take(): the request log as
        # [(a second's stamp, [its lines after the stamp])], the lines
        # shared with _entries, and {day: {entry key: requests}}.
        self._seconds = []
        self._days = {}
        self._lines = self._today = None
        self._second = self._day = None
        # {(country, content, status, serial, protocols): the log line
        # after its stamp}: each request of what was recorded before adds
        # a string already written to a list, and an object of its own
        # for the collector to look at only once a second.
        self._entries = {}

    def record(self, country, content, status, serial, protocols=None):
        """Note one request: who (country), what (content, a string such
        as 'apt/noble/amd64' or 'repo/fedora-40/x86_64'), the status, the
        snapshot that answered, and the protocols it asked for (a tuple,
        as selection.parse_protocols reads ?protocol=; None for none)."""
        second = int(self._clock())
        if second != self._second:
            self._new_second(second)
        key = (country, content, status, serial, protocols)
        line = self._entries.get(key)
        if line is None:
            # A line is kept as text: a string is not the garbage
            # collector's to look at, where thousands of tuples held
            # until the next write would make it collect, and look at
            # them all, again and again.
            line = "%s %s %d %s\n" % (country or "-", content, status,
                                       serial)
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = line
        self._lines.append(line)
        today = self._today
        today[key] = today.get(key, 0) + 1

    def _new_second(self, second):
        # Formatted once a second, not once a request.
        moment = time.gmtime(second)
        self._second = second
        self._lines = []
        self._seconds.append((time.strftime("%Y-%m-%dT%H:%M:%SZ ", moment),
                              self._lines))
        day = time.strftime("%Y-%m-%d", moment)
        if day != self._day or self._today is None:
            self._day = day
            self._today = self._days.setdefault(day, {})

    def take(self):
        """What was recorded since the last take(), for write(); None when
        nothing was."""
        if not self._seconds:
            return None
        taken = self._seconds, self._days
        self._seconds, self._days = [], {}
        self._lines = self._today = None
        self._second = self._day = None
        return taken

    def write(self, taken):
        """Write what take() gave to the files.  It may run in a thread of
        its own, while requests are recorded, but one write() at a time, in
        the order taken."""
        seconds, days = taken
        os.makedirs(self.folder, exist_ok=True)
        # One append of the whole batch: the workers of one daemon share
        # requests.log, and a single O_APPEND write is not interleaved
        # with another process's.
        data = "".join([stamp + line for stamp, lines in seconds
                        for line in lines]).encode("utf-8")
        rotate(self.folder, self.rotation, len(data), self._clock())
        descriptor = os.open(os.path.join(self.folder, LOG_NAME),
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
        for day, entries in days.items():
            day_counts = Counter()
            for (country, content, _, _, protocols), count in \
                    entries.items():
                day_counts[(country or "-", content,
                            ",".join(protocols or ()))] += count
            path = os.path.join(self.folder, "%s.%s.json"
                                % (day, self._process))
            totals = _read_counts(path, keep_aside=True, now=self._clock())
            totals.update(day_counts)
            _write_counts(path, totals)

    def flush(self):
        """Write what was recorded since the last flush to the files, in
        the calling thread."""
        taken = self.take()
        if taken is not None:
            self.write(taken)


def _read_counts(path, keep_aside=False, now=None):
    """{(country, content, protocol): requests} of a counts file (protocol
    None in a row of the format before protocols were counted); empty if
    there is none.  A file that is not counts is skipped, or with
    `keep_aside` renamed <path>.corrupt-<UTC time> with an error
    logged."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return Counter()
    try:
        counts = Counter()
        for row in json.loads(data.decode("utf-8")):
            protocol = row.get("protocol")
            if protocol is not None and not isinstance(protocol, str):
                raise TypeError("a protocol is text")
            counts[(row["country"], row["content"], protocol)] += int(
                row["requests"])
        return counts
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        if keep_aside:
            aside = "%s.corrupt-%s" % (path, time.strftime(
                "%Y%m%dT%H%M%SZ", time.gmtime(now)))
            os.replace(path, aside)
            log.error("The counts file {path} is not counts ({error}); "
                      "kept aside as {aside}, the day's counts start again",
                      path=path, error=error, aside=aside)
        return Counter()


def _write_counts(path, counts):
    rows = [{"country": country, "content": content, "protocol": protocol,
             "requests": count}
            for (country, content, protocol), count in sorted(
                counts.items(), key=lambda item: (
                    item[0][:2], item[0][2] is not None, item[0][2] or ""))]
    write_atomically(path, json.dumps(rows, indent=0).encode("utf-8"))


def read_statistics(folder, day):
    """{(country, content, protocol): requests} of `day` ('YYYY-MM-DD'),
    summed over every process's file (see _read_counts)."""
    totals = Counter()
    try:
        names = os.listdir(folder)
    except OSError:
        return totals
    for name in names:
        if name.startswith(day + ".") and name.endswith(".json"):
            totals.update(_read_counts(os.path.join(folder, name)))
    return totals
