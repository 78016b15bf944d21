"""What one probe of one URL found: plain values, no I/O.

The prober's network code produces these; a separate step reads them and
writes records and probe logs.  Nothing here knows about the reactor or the
database.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import attrs

from mirrorkeeper.enums import ProbeOutcome


def _format_timestamp(seconds):
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_timestamp(seconds):
    """An ISO 8601 UTC timestamp with milliseconds for a POSIX time."""
    return format_log(((seconds, ""),))[0][:-1]


def format_log(entries):
    """The lines of a log from its C{entries}, (POSIX seconds, text)
    pairs: each line the text stamped as L{format_timestamp} says.  A probe
    keeps its times raw and they are formatted here, once, when its log is
    made."""
    lines = []
    second = prefix = None
    for seconds, text in entries:
        if seconds < 0:
            lines.append(f"{_format_timestamp(seconds)} {text}")
            continue
        # Round to the microsecond as datetime.fromtimestamp does (half to
        # even on the fraction, which % takes exactly), then cut to the
        # millisecond as isoformat does; the date and time of day are
        # formatted once per second.
        micro = round(seconds % 1.0 * 1e6)
        whole = int(seconds)
        if micro >= 1000000:
            whole += 1
            micro -= 1000000
        if whole != second:
            second = whole
            prefix = _format_timestamp(whole)[:-4]
        lines.append("%s%03dZ %s" % (prefix, micro // 1000, text))
    return lines


@attrs.frozen
class ProbeResult:
    """The result of probing one URL, redirects included.

    @ivar url: the URL that was asked for.
    @ivar outcome: a L{ProbeOutcome}.
    @ivar status: the last HTTP status or FTP reply code received, or None
        when nothing came back.
    @ivar final_url: the last URL asked for (the redirect target, if any).
    @ivar redirects: the URLs redirected to, in order (empty without
        redirects); the last one is C{final_url}.
    @ivar started: when the probe began, POSIX seconds on the reactor's clock.
    @ivar finished: when the probe ended, same clock.
    @ivar log: what was asked and what came back, (POSIX seconds, text)
        pairs on the reactor's clock; see L{log_lines}.
    @ivar detail: more words on the failure (an exception's text, the
        offending Location), or "".
    @ivar body: for fetches (GET), the body received when FOUND and kept
        (see L{IProbeClient.fetch}), else None.
    @ivar sha256: for fetches, the SHA-256 of the body received when FOUND
        (hex), kept or not, else None; by default that of C{body}.
    @ivar method: "HEAD", "GET" or "SIZE" (FTP).
    """

    url: str
    outcome: ProbeOutcome
    status: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    started: float = 0.0
    finished: float = 0.0
    log: tuple[tuple[float, str], ...] = ()
    detail: str = ""
    body: bytes | None = attrs.field(default=None, repr=False)
    sha256: str | None = attrs.field(repr=False)
    method: str = "HEAD"

    @sha256.default
    def _body_sha256(self):
        if self.body is None:
            return None
        return hashlib.sha256(self.body).hexdigest()

    @property
    def log_lines(self):
        """The log as timestamped lines, as they go into a probe log."""
        return tuple(format_log(self.log))

    @property
    def found(self):
        """True only when the file is there (FOUND)."""
        return self.outcome is ProbeOutcome.FOUND

    @property
    def message(self):
        """The outcome's message, followed by the detail when there is one."""
        if self.detail:
            return f"{self.outcome.message} {self.detail}"
        return self.outcome.message

    @property
    def elapsed(self):
        """Seconds between start and finish on the reactor's clock."""
        return self.finished - self.started
