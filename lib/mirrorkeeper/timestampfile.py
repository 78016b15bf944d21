"""The timestamp file: what a master carries so that a mirror's copy tells
how far behind the mirror is, and how it is read.

This module is the format alone, with no I/O: the planter
(mirrorkeeper.timestamps) writes it, the archive scanner
(mirrorkeeper.archive.trace) and the prober read it, and neither of those
needs the planter or its SFTP client to do so.

The file
--------
``cronscripts/plant-timestamps.py`` writes, into each configured directory
of the master, a file ([timestamps] file_name) holding the time of the
planting as Unix time, in whole seconds, on one newline-terminated line::

    1795117523

That is mirrorchecker's format, and nothing more is written: its readers
take the whole body as a number, so a second line would break them.  The
age of the newest timestamp a mirror has is the mirror's lag.

Reading it
----------
`parse_timestamp(data)` is what the prober reads a mirror's copy with.  It
takes the first line, and accepts on it either Unix time (digits, a
fraction allowed: mirrorchecker's own planter writes ``time.time()``) or
the date line of a Debian ftpsync trace file, as ``date -u`` prints it::

    Tue Nov 24 19:35:23 UTC 2026

or, as older trace writers put it, an RFC 2822 date with its zone
(``Tue, 24 Nov 2026 19:35:23 +0000``), so that project/trace/master is
read with the same function, by the scanner and the prober alike; what
follows the first line (ftpsync's key: value lines) is ignored.  Anything
else (an HTML error page, an empty body, a date in another zone, a
negative time or one beyond the year 9999) is a TimestampError saying what
was found.  The result is a zoneless UTC datetime, as mirrorkeeper keeps
times.
"""

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from mirrorkeeper.errors import MirrorKeeperError
from mirrorkeeper.timeutil import as_utc

__all__ = ["TimestampError", "timestamp_file_body", "parse_timestamp"]

# Weekday month day time zone year, as `date -u` prints it; the day may be
# padded with a space ('Nov  4').
_DATE_LINE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) +"
    r"(\d{2}):(\d{2}):(\d{2}) +(UTC|GMT) +(\d{4})$")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
           "Oct", "Nov", "Dec"]
_EPOCH = re.compile(r"^(\d{1,12})(\.\d+)?$")
# The first line is all that is read; a longer one is no timestamp.
_LONGEST_LINE = 100


class TimestampError(MirrorKeeperError, ValueError):
    """A timestamp file holds no time we can read."""


def timestamp_file_body(when):
    """The content of a timestamp file saying `when` (a datetime; zoneless
    is taken as UTC): Unix time in whole seconds and a newline."""
    when = as_utc(when).replace(tzinfo=timezone.utc)
    return b"%d\n" % int(when.timestamp())


def parse_timestamp(data):
    """The time (a zoneless UTC datetime) a timestamp file or ftpsync trace
    file says on its first line, or TimestampError."""
    if not isinstance(data, bytes):
        raise TypeError("parse_timestamp takes bytes, not %s"
                        % (type(data).__name__,))
    first = data.split(b"\n", 1)[0].strip()
    if not first:
        raise TimestampError("the timestamp file is empty"
                             if not data.strip() else
                             "the first line of the timestamp file is empty")
    if len(first) > _LONGEST_LINE:
        raise TimestampError(
            "the first line of the timestamp file is %d bytes long, not a "
            "time: %r..." % (len(first), first[:40]))
    try:
        text = first.decode("ascii")
    except UnicodeDecodeError:
        raise TimestampError("the timestamp file is not text: %r"
                             % (first,)) from None
    match = _EPOCH.match(text)
    if match:
        seconds = int(match.group(1))
        if seconds > 253402300799:  # 9999-12-31 23:59:59 UTC
            raise TimestampError("the timestamp %s is beyond the year 9999"
                                 % (text,))
        return datetime.fromtimestamp(seconds, timezone.utc).replace(
            tzinfo=None)
    match = _DATE_LINE.match(text)
    if match:
        (_, month, day, hour, minute, second, _, year) = match.groups()
        try:
            return datetime(int(year), _MONTHS.index(month) + 1, int(day),
                            int(hour), int(minute), int(second))
        except ValueError as error:
            raise TimestampError("the date %r is impossible: %s"
                                 % (text, error)) from None
    # RFC 2822, as older trace writers put it: any zone, read as UTC.
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is not None and when.tzinfo is not None:
        return as_utc(when)
    raise TimestampError(
        "the timestamp file says %r: neither Unix time nor a date like "
        "'Tue Nov 24 19:35:23 UTC 2026'" % (text,))
