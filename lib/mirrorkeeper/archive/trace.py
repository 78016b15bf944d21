"""Trace files: Debian's ftpsync writes, at the end of each complete sync,
project/trace/<host> whose first line is the time of that sync, as `date -u`
prints it ('Sat Jan 20 21:29:35 UTC 2024'); older and other tools write
RFC 2822 ('Sat, 20 Jan 2024 21:29:35 +0000') or a Unix time."""

import os

from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.timestampfile import TimestampError, parse_timestamp

TRACE_DIR = "project/trace"


def parse_trace(data, path):
    """The time (zoneless UTC) a trace file's first line tells, or
    ArchiveFileError naming the file; the formats are those of
    mirrorkeeper.timestampfile.parse_timestamp."""
    try:
        return parse_timestamp(data)
    except TimestampError as error:
        raise ArchiveFileError(path, str(error)) from None


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
