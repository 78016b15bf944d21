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

Each detector is chosen per distribution ([freshness] in the configuration;
detectors_for says how the master's content adds to it) and turns into
DetectorChecks at plan time, carrying the master's history
as plain values, so that judging what a mirror answered needs neither the
database nor the network.  While a mirror shows ftpsync's
Archive-Update-in-Progress marker, what the detectors see is reported as a
sync in progress, not as staleness.
"""

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

import attrs

from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.archive.trace import parse_trace
from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.freshness import band_for_lag, lag_by_history, lag_by_time

DETECTORS = ("publishing", "trace", "timestamp", "checksum")
DEFAULT_DETECTORS = ("publishing",)

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

    @property
    def max_size(self):
        return MAX_TIME_FILE if self.kind == "time" else MAX_CONTROL_FILE


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


def detectors_for(store, distribution, configured):
    """The freshness detectors the prober uses for `distribution`, a tuple.

    `configured` is what [freshness] says: {distribution name or "*": (
    detector, ...)}, "*" standing for its "default" entry.  An entry named
    after the distribution is taken as it is: the admin chose.  Otherwise
    the default entry applies (none if there is no default), and the
    master's content adds what it needs: a distribution whose master
    carries RPM repositories also gets "checksum", the only detector that
    reads a repository's repomd.xml and so tells which mirrors carry it.
    """
    if distribution.name in configured:
        return tuple(configured[distribution.name])
    detectors = tuple(configured.get("*", ()))
    if "checksum" not in detectors and _has_rpm_repositories(
            store, distribution):
        detectors += ("checksum",)
    return detectors


def _has_rpm_repositories(store, distribution):
    from mirrorkeeper.model.masterarchive import RPMRepository
    return not store.find(
        RPMRepository, RPMRepository.distribution_id == distribution.id,
        RPMRepository.date_removed == None).is_empty()  # noqa: E711


def sync_marker_url(base_url):
    """Where ftpsync leaves its in-progress marker on a mirror: the archive
    root, named after the mirror's host."""
    return base_url + "Archive-Update-in-Progress-%s" % (
        urlsplit(base_url).hostname or "",)


def judge(check, result, now, syncing=False):
    """The DetectorFinding for `check` given the ProbeResult of fetching
    it, at `now`."""
    if not result.found:
        return DetectorFinding(check, None, syncing, "%s: %s" % (
            check.label, result.message))
    body = result.body or b""
    if check.kind == "time":
        try:
            mirror_time = parse_trace(body, check.label)
        except ArchiveFileError as error:
            return DetectorFinding(check, None, syncing, "%s: unreadable "
                                   "(%s)" % (check.label, error), True)
        lag = lag_by_time(check.history, mirror_time, now)
        described = "says %s" % (mirror_time.isoformat(sep=" "),)
    else:
        digest = hashlib.sha256(body).hexdigest()
        lag = lag_by_history(check.history, digest, now)
        described = "has SHA-256 %s" % (digest[:16],)
        if lag is None:
            return _finding(check, MirrorFreshness.ONEWEEKBEHIND, syncing,
                            "%s %s: older than the master's history, or not "
                            "the master's" % (check.label, described))
    band = band_for_lag(lag)
    return _finding(check, band, syncing, "%s %s: %s behind the master, %s"
                    % (check.label, described, _hours(lag), band.name), lag)


def _finding(check, band, syncing, note, lag=None):
    if syncing and band is not MirrorFreshness.UP:
        return DetectorFinding(check, None, True, note + " (syncing now)",
                               True)
    return DetectorFinding(check, band, syncing, note, True, lag)


def _hours(lag):
    hours = lag.total_seconds() / 3600
    return "%.1f hours" % (hours,)


def detector_checks(store, distribution, base_url, detectors, when,
                    timestamp_file=None):
    """The DetectorChecks of a mirror of `distribution` at `base_url` for the
    named `detectors` (publishing needs none: it works on content
    records); `timestamp_file` is the planted file's name."""
    from mirrorkeeper.model.masterarchive import (
        MasterFileDetail, RPMRepositorySet, TraceFileTimestampSet)
    from mirrorkeeper.model.timestamps import PlantedTimestampSet
    checks = []
    if "timestamp" in detectors and timestamp_file:
        history = tuple(
            (entry.date_stamp, entry.date_planted) for entry in
            PlantedTimestampSet(store).getHistory(distribution))
        checks.append(DetectorCheck("timestamp", timestamp_file,
                                    base_url + timestamp_file, "time",
                                    history))
    if "trace" in detectors:
        history = tuple(
            (entry.date_trace, entry.date_trace) for entry in
            TraceFileTimestampSet(store).getHistory(distribution, TRACE_PATH))
        checks.append(DetectorCheck("trace", TRACE_PATH,
                                    base_url + TRACE_PATH, "time", history))
    if "checksum" in detectors:
        repositories = {repository.path.rstrip("/") + "/repodata/repomd.xml":
                        repository.id for repository in
                        RPMRepositorySet(store).getByDistribution(
                            distribution)}
        paths = sorted(set(store.find(
            MasterFileDetail,
            MasterFileDetail.distribution_id == distribution.id).values(
                MasterFileDetail.path)))
        for path in paths:
            details = store.find(
                MasterFileDetail, distribution_id=distribution.id, path=path
            ).order_by(MasterFileDetail.date_first_seen)
            history = tuple(reversed([(detail.sha256, detail.date_first_seen)
                                      for detail in details]))
            checks.append(DetectorCheck(
                "checksum", path, base_url + path, "sha256", history,
                repositories.get(path)))
    return tuple(checks)
