"""Freshness detectors besides publishing history: what a mirror's copy of
a master file says about how far behind it is.

- trace: the master's trace file (Debian's ftpsync writes project/trace/
  master at the end of each sync); the mirror's copy tells which master
  sync it has.
- timestamp: the file cronscripts/plant-timestamps.py plants on the source
  site (oVirt's mirrorchecker); the same reading, against the planted
  history.
- checksum: the mirror's copy of a control file (a suite's Release or
  InRelease, a repository's repomd.xml) hashed and looked up in the history
  of the master's versions (Fedora's MirrorManager crawler).

Which detectors a distribution gets and what its master's history is are
planned once per distribution (mirrorkeeper.prober.plan), into
DetectorChecks carrying that history as plain values.  What is here is the
judge: given a check and what a mirror answered for it, a verdict, with
neither the database nor the network.  While a mirror shows ftpsync's
Archive-Update-in-Progress marker, what the detectors see is reported as a
sync in progress, not as staleness.
"""

from datetime import timedelta
from urllib.parse import urlsplit

import attrs

from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.archive.trace import parse_trace
from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.freshness import band_for_lag, lag_by_history, lag_by_time


TRACE_PATH = "project/trace/master"
# Trace and timestamp files are a line; control files a few megabytes at
# most (a large suite's InRelease).
MAX_TIME_FILE = 4096
MAX_CONTROL_FILE = 32 * 1024 * 1024


@attrs.frozen
class DetectorCheck:
    """One file to fetch from a mirror and the master history to judge it
    by: ((version, date the master had it), ...) newest first, where a
    version is a time ('time' checks) or a SHA-256 ('sha256' checks)."""

    detector: str
    label: str
    url: str
    kind: str
    history: tuple
    rpm_repository_id: int | None = None
    # The largest control file a mirror may answer with ([prober]
    # max_control_file_bytes).
    control_limit: int = MAX_CONTROL_FILE

    @property
    def max_size(self):
        return MAX_TIME_FILE if self.kind == "time" else self.control_limit


@attrs.frozen
class DetectorFinding:
    """What one detector made of one mirror: a freshness (None while the
    mirror is syncing or when the file told nothing) and why."""

    check: DetectorCheck
    freshness: MirrorFreshness | None
    syncing: bool
    note: str
    found: bool = False
    lag: timedelta | None = None
    # The SHA-256 of the mirror's copy of a control file ('sha256'
    # checks), when it served one.
    sha256: str | None = None


def sync_marker_url(base_url):
    """Where ftpsync leaves its in-progress marker on a mirror: the archive
    root, named after the mirror's host."""
    return base_url + "Archive-Update-in-Progress-%s" % (
        urlsplit(base_url).hostname or "",)


def judge(check, result, now, syncing=False):
    """The DetectorFinding for `check` given the ProbeResult of fetching
    it (its outcome, and its body or, for a control file, its SHA-256), at
    `now` (zoneless UTC), `syncing` telling
    whether the mirror shows the sync marker.  Pure: it reads nothing but
    its arguments."""
    if not result.found:
        return DetectorFinding(check, None, syncing, "%s: %s" % (
            check.label, result.message))
    if check.kind == "time":
        try:
            mirror_time = parse_trace(result.body or b"", check.label)
        except ArchiveFileError as error:
            return DetectorFinding(check, None, syncing, "%s: unreadable "
                                   "(%s)" % (check.label, error), True)
        lag = lag_by_time(check.history, mirror_time, now)
        described = "says %s" % (mirror_time.isoformat(sep=" "),)
    else:
        digest = result.sha256
        lag = lag_by_history(check.history, digest, now)
        described = "has SHA-256 %s" % (digest[:16],)
        if lag is None:
            return _finding(check, MirrorFreshness.ONEWEEKBEHIND, syncing,
                            "%s %s: older than the master's history, or not "
                            "the master's" % (check.label, described),
                            sha256=digest)
    band = band_for_lag(lag)
    return _finding(check, band, syncing, "%s %s: %s behind the master, %s"
                    % (check.label, described, _hours(lag), band.name), lag,
                    None if check.kind == "time" else digest)


def _finding(check, band, syncing, note, lag=None, sha256=None):
    if syncing and band is not MirrorFreshness.UP:
        return DetectorFinding(check, None, True, note + " (syncing now)",
                               True, sha256=sha256)
    return DetectorFinding(check, band, syncing, note, True, lag, sha256)


def _hours(lag):
    hours = lag.total_seconds() / 3600
    return "%.1f hours" % (hours,)
