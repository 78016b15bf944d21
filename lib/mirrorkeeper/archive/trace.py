"""Trace files: Debian's ftpsync writes, at the end of each complete sync,
project/trace/<host> whose first line is the time of that sync, as `date -u`
prints it ('Sat Jan 20 21:29:35 UTC 2024'); older and other tools write
RFC 2822 ('Sat, 20 Jan 2024 21:29:35 +0000') or a Unix time."""

import os
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.timeutil import as_utc

TRACE_DIR = "project/trace"

_ZONES_AS_UTC = ("UTC", "GMT", "UT", "Z")


def parse_trace(data, path):
    """The time (zoneless UTC) a trace file's first line tells, or
    ArchiveFileError."""
    text = data.decode("utf-8", "replace")
    first = text.split("\n", 1)[0].strip()
    if not first:
        raise ArchiveFileError(path, "the first line is empty, not a date")
    if first.isdigit():
        return datetime.fromtimestamp(int(first), timezone.utc).replace(
            tzinfo=None)
    parts = first.split()
    # `date -u`: weekday month day time zone year.
    if len(parts) == 6 and parts[4] in _ZONES_AS_UTC:
        try:
            return datetime.strptime(" ".join(parts[1:4] + parts[5:]),
                                     "%b %d %H:%M:%S %Y")
        except ValueError:
            pass
    try:
        when = parsedate_to_datetime(first)
    except (TypeError, ValueError):
        when = None
    if when is None:
        raise ArchiveFileError(path, "the first line %r is not a date"
                               % (first[:80],))
    return as_utc(when) if when.tzinfo else when


def find_trace_files(root):
    """Sorted paths, relative to `root`, of the trace files."""
    directory = os.path.join(root, TRACE_DIR)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted("%s/%s" % (TRACE_DIR, name) for name in names
                  if not name.startswith(".")
                  and os.path.isfile(os.path.join(directory, name)))
