"""Mirrors that talk back (schema patch 0015): their tokens, their
check-ins and their requests to be probed now.

A token is what a mirror's host proves itself with.  Its owner makes one
on the web; the secret is shown once and only its SHA-256 is kept, so
reading the database gives no one a token.  A mirror has one token at a
time: a new one revokes the one before.  A request whose token is not the
mirror's active one is refused and changes nothing.

A check-in is what the host's mirrorkeeper-report-mirror says the tree
carries: each control file's SHA-256 (a suite's Release and InRelease, a
repository's repomd.xml), the suites with their components and
architectures, the trace files.  The newest is kept, beside what the
prober saw and never in its place.  judge_checkin() reads it against the
master's history of those files, as the checksum detector reads a
mirror's copies: a file the master has now is current, an older one has
been behind since the master replaced it, one the master never had is
unknown.  For a public mirror that judgement is shown next to the
prober's, and changes nothing.  A private mirror the prober cannot reach
and does not probe: its check-in is what it carries, for [checkin]
max_age_hours.  carry_checkin() makes the mirror's content records (its
series, pockets, components and architectures, as fresh as the master's
history says its control files are) what the check-in says, so that the
one read model, and the snapshot built from it, publish it as they
publish any mirror: to the clients of its netblocks and ASN only, as
private mirrors are.  An older check-in counts for nothing:
expire_checkins(), in each queued prober run, turns its records' freshness
to UNKNOWN, which no mirror list offers.

Probe me now: request_probe() puts the mirror in the queue, at most once
per [checkin] probe_interval_minutes.  The queued prober run
(``distributionmirror-prober.py --queued``) probes queued_mirror_ids() and
then drain_queue() takes out each mirror a probe newer than its request
has taken effect for: a run that was distrusted, or killed before its
findings were applied, leaves the mirror in the queue for the next.
"""

import hashlib
import hmac
import json
import re
import secrets
from datetime import timedelta

import attrs
from storm.expr import And, Desc, Max
from storm.locals import DateTime, Int, Reference, Storm, Unicode

from mirrorkeeper.enums import MirrorFreshness, MirrorStatus, ProbeRecordState
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.freshness import (
    band_for_lag, lag_by_history, lag_by_time, overall_freshness)
from mirrorkeeper.model.masterarchive import (
    MasterFileDetailSet, TraceFileTimestampSet)
from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
from mirrorkeeper.model.mirrorstate import as_datetime
from mirrorkeeper.timestampfile import TimestampError, parse_timestamp
from mirrorkeeper.timeutil import as_utc, utcnow

# 32 random bytes: a token cannot be guessed.
TOKEN_BYTES = 32

# What a check-in may hold (the client keeps to the same limits).
MAX_REPORT_BYTES = 1024 * 1024
MAX_SUITES = 500
MAX_REPOSITORIES = 2000
MAX_TRACES = 100
MAX_NAMES = 200             # components or architectures of a suite
MAX_PATH = 500

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_~-]{0,99}")
_PATH = re.compile(r"[A-Za-z0-9._+~-]+(/[A-Za-z0-9._+~-]+)*")
_SHA256 = re.compile(r"[0-9a-f]{64}")

# The mirrors the prober probes (getMirrorsToProbe): only they may ask.
PROBED_STATUSES = (MirrorStatus.OFFICIAL, MirrorStatus.UNOFFICIAL)


def _hash(secret):
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


class MirrorToken(Storm):
    __storm_table__ = "mirror_token"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    mirror = Reference(distribution_mirror_id, "DistributionMirror.id")
    secret_hash = Unicode(allow_none=False)
    creator_id = Int(name="creator")
    creator = Reference(creator_id, "Person.id")
    date_created = DateTime(allow_none=False)
    date_last_used = DateTime()
    date_revoked = DateTime()

    def __init__(self, mirror, secret, creator=None, now=None):
        self.distribution_mirror_id = mirror.id
        self.secret_hash = _hash(secret)
        self.creator_id = creator.id if creator is not None else None
        self.date_created = now or utcnow()


class MirrorCheckin(Storm):
    __storm_table__ = "mirror_checkin"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    date_reported = DateTime(allow_none=False)
    address = Unicode()
    report = Unicode(allow_none=False)

    def __init__(self, mirror, report, address=None, now=None):
        self.distribution_mirror_id = mirror.id
        self.report = report
        self.address = address
        self.date_reported = now or utcnow()


class MirrorProbeRequest(Storm):
    __storm_table__ = "mirror_probe_request"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    date_requested = DateTime(allow_none=False)
    date_applied = DateTime()

    def __init__(self, mirror, now):
        self.distribution_mirror_id = mirror.id
        self.date_requested = now


# Tokens.

def _active_tokens(store, mirror):
    return store.find(MirrorToken,
                      MirrorToken.distribution_mirror_id == mirror.id,
                      MirrorToken.date_revoked == None)  # noqa: E711


def create_token(store, mirror, creator=None, now=None):
    """A new token for `mirror`, made by `creator` (a Person): the secret,
    to be shown once.  The mirror's earlier token is revoked."""
    now = now or utcnow()
    revoke_tokens(store, mirror, now)
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    store.add(MirrorToken(mirror, secret, creator, now))
    return secret


def revoke_tokens(store, mirror, now=None):
    """Revoke the mirror's token, if it has one; how many were."""
    now = now or utcnow()
    revoked = 0
    for token in _active_tokens(store, mirror):
        token.date_revoked = now
        revoked += 1
    return revoked


@attrs.frozen
class TokenState:
    """What the owner's page says of a mirror's token: plain values."""

    date_created: object = None
    date_last_used: object = None
    date_revoked: object = None     # of the newest token, if revoked

    @property
    def active(self):
        return self.date_created is not None and self.date_revoked is None


def token_state(store, mirror):
    """The TokenState of the mirror's newest token (all None: none)."""
    newest = store.find(
        MirrorToken, MirrorToken.distribution_mirror_id == mirror.id
    ).order_by(Desc(MirrorToken.id)).first()
    if newest is None:
        return TokenState()
    return TokenState(newest.date_created, newest.date_last_used,
                      newest.date_revoked)


def check_token(store, mirror, secret, now=None):
    """Whether `secret` is the mirror's active token.  Every active token
    of the mirror is compared, in constant time, however early one
    matches; the matching one is marked used (to the minute: a token
    used again within a minute is not written again, so that calls at
    once do not all update one row)."""
    if mirror is None or not secret:
        return False
    wanted = _hash(secret)
    found = None
    for token in _active_tokens(store, mirror):
        if hmac.compare_digest(token.secret_hash, wanted):
            found = token
    if found is None:
        return False
    now = now or utcnow()
    last = found.date_last_used
    if last is None or now - last >= timedelta(minutes=1):
        found.date_last_used = now
    return True


# Check-ins.

def _text(value, field, pattern=None, limit=MAX_PATH):
    if not isinstance(value, str) or not value or len(value) > limit or (
            pattern is not None and not pattern.fullmatch(value)):
        raise InvalidValueError("the report's %s is not valid: %r"
                                % (field, str(value)[:80]), field)
    return value


def _optional(value, field, limit=200):
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or any(
            not c.isprintable() for c in value):
        raise InvalidValueError("the report's %s is not valid" % (field,),
                                field)
    return value


def _list(value, field, limit):
    if not isinstance(value, list) or len(value) > limit:
        raise InvalidValueError(
            "the report's %s must be a list of at most %d" % (field, limit),
            field)
    return value


def read_report(body):
    """The check-in the JSON `body` (bytes) tells, checked: a dict of
    plain values to store.  InvalidValueError naming what is wrong."""
    if len(body) > MAX_REPORT_BYTES:
        raise InvalidValueError("the report is larger than %d bytes"
                                % (MAX_REPORT_BYTES,), "report")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidValueError("the report is not JSON", "report") from None
    if not isinstance(data, dict) or data.get("format") != 1:
        raise InvalidValueError("the report is not of format 1 (a JSON "
                                "object of mirrorkeeper-report-mirror)",
                                "format")
    suites = []
    for suite in _list(data.get("suites", []), "suites", MAX_SUITES):
        if not isinstance(suite, dict):
            raise InvalidValueError("the report's suites are not valid",
                                    "suites")
        components = []
        for component in _list(suite.get("components", []), "components",
                               MAX_NAMES):
            if not isinstance(component, dict):
                raise InvalidValueError("the report's components are not "
                                        "valid", "components")
            components.append({
                "component": _text(component.get("component"), "component",
                                   _PATH, 100),
                "architectures": [
                    _text(arch, "architecture", _NAME, 100) for arch in
                    _list(component.get("architectures", []),
                          "architectures", MAX_NAMES)],
                "source": bool(component.get("source"))})
        files = suite.get("files", {})
        if not isinstance(files, dict) or len(files) > 2:
            raise InvalidValueError("the report's files are not valid",
                                    "files")
        root = suite.get("root") or ""
        suites.append({
            "suite": _text(suite.get("suite"), "suite", _NAME, 100),
            # The folder its dists/ is in: "" for the top of the tree, or
            # a series' root (patch 0014).
            "root": root and _text(root, "root", _PATH),
            "codename": _optional(suite.get("codename"), "codename"),
            "date": _optional(suite.get("date"), "date"),
            "files": {_text(path, "path", _PATH): _text(
                sha, "sha256", _SHA256) for path, sha in files.items()},
            "components": components})
    repositories = []
    for repository in _list(data.get("repositories", []), "repositories",
                            MAX_REPOSITORIES):
        if not isinstance(repository, dict):
            raise InvalidValueError("the report's repositories are not "
                                    "valid", "repositories")
        repositories.append({
            "path": _text(repository.get("path"), "path", _PATH),
            "sha256": _text(repository.get("sha256"), "sha256", _SHA256),
            "revision": _optional(repository.get("revision"), "revision")})
    traces = []
    for trace in _list(data.get("traces", []), "traces", MAX_TRACES):
        if not isinstance(trace, dict):
            raise InvalidValueError("the report's traces are not valid",
                                    "traces")
        traces.append({
            "path": _text(trace.get("path"), "path", _PATH),
            "first_line": _optional(trace.get("first_line"), "first line")})
    if not suites and not repositories:
        raise InvalidValueError("the report names no suite and no "
                                "repository: nothing is carried", "suites")
    return {"format": 1, "suites": suites, "repositories": repositories,
            "traces": traces}


def record_checkin(store, mirror, report, address=None, now=None):
    """Keep `report` (what read_report returned) as the mirror's newest
    check-in; the MirrorCheckin."""
    text = json.dumps(report, sort_keys=True)
    checkin = store.find(MirrorCheckin, distribution_mirror_id=mirror.id
                         ).one()
    if checkin is None:
        checkin = MirrorCheckin(mirror, text, address, now)
        store.add(checkin)
    else:
        checkin.report = text
        checkin.address = address
        checkin.date_reported = now or utcnow()
    return checkin


@attrs.frozen
class FileJudgement:
    """One control file or trace of a check-in, read against the
    master's history of it."""

    path: str
    value: str              # its SHA-256, or what the trace says
    # 'current', 'behind', or 'unknown' (the master never had it).
    verdict: str
    lag: timedelta | None = None


@attrs.frozen
class CheckinView:
    """A mirror's newest check-in as its page shows it: plain values."""

    date_reported: object
    address: str | None
    age: timedelta
    counts: bool            # not older than [checkin] max_age_hours
    suites: tuple           # (suite, components, architectures, sources)
    repositories: int
    files: tuple            # FileJudgement of each control file
    traces: tuple           # FileJudgement of each trace
    freshness: MirrorFreshness

    @property
    def current(self):
        return sum(1 for each in self.files if each.verdict == "current")


def _judged(history, value, now, version_of):
    versions = [(version_of(entry), as_utc(entry.date_first_seen))
                for entry in history]
    lag = lag_by_history(versions, value, now)
    if lag is None:
        return "unknown", None
    return ("current" if not lag else "behind"), lag


def judge_checkin(store, mirror, max_age, now=None):
    """The CheckinView of the mirror's newest check-in (None: it has
    none); `max_age` (a timedelta) is how long one counts."""
    now = now or utcnow()
    checkin = store.find(MirrorCheckin, distribution_mirror_id=mirror.id
                         ).one()
    if checkin is None:
        return None
    report = json.loads(checkin.report)
    distribution = mirror.distribution
    details = MasterFileDetailSet(store)
    files, bands = [], []
    control = [(path, sha) for suite in report["suites"]
               for path, sha in sorted(suite["files"].items())]
    control += [(each["path"], each["sha256"])
                for each in report["repositories"]]
    for path, sha in control:
        verdict, lag = _judged(details.getHistory(distribution, path), sha,
                               now, lambda entry: entry.sha256)
        files.append(FileJudgement(path, sha, verdict, lag))
        if lag is not None:
            bands.append(band_for_lag(lag))
    traces = []
    trace_history = TraceFileTimestampSet(store)
    for trace in report["traces"]:
        try:
            when = parse_timestamp(trace["first_line"] or "")
        except TimestampError:
            traces.append(FileJudgement(trace["path"],
                                        trace["first_line"] or "",
                                        "unknown"))
            continue
        history = [(entry.date_trace, entry.date_first_seen) for entry in
                   trace_history.getHistory(distribution, trace["path"])]
        if not history:
            traces.append(FileJudgement(trace["path"], str(when),
                                        "unknown"))
            continue
        lag = lag_by_time(history, when, now)
        traces.append(FileJudgement(trace["path"], str(when),
                                    "current" if not lag else "behind",
                                    lag))
    suites = tuple(
        (suite["suite"], tuple(c["component"] for c in suite["components"]),
         tuple(sorted({arch for c in suite["components"]
                       for arch in c["architectures"]})),
         any(c["source"] for c in suite["components"]))
        for suite in report["suites"])
    age = max(now - checkin.date_reported, timedelta(0))
    return CheckinView(
        date_reported=checkin.date_reported, address=checkin.address,
        age=age, counts=age <= max_age, suites=suites,
        repositories=len(report["repositories"]), files=tuple(files),
        traces=tuple(traces), freshness=overall_freshness(bands))


def checkin_freshness(store, mirror, max_age, now=None):
    """What a private mirror's check-in says of its freshness: the worst
    band of its control files the master knows; UNKNOWN when it has no
    check-in, or one older than `max_age` (it counts for nothing), or one
    none of whose files the master knows."""
    view = judge_checkin(store, mirror, max_age, now)
    if view is None or not view.counts:
        return MirrorFreshness.UNKNOWN
    return view.freshness


def _suites_of(distribution):
    """{suite name: (series, pocket)} of a distribution's series."""
    from mirrorkeeper.enums import PackagePublishingPocket
    return {series.suite(pocket): (series, pocket)
            for series in distribution.series
            for pocket in PackagePublishingPocket}


def carry_checkin(store, mirror, max_age, now=None):
    """Make a private mirror's content records what its check-in says it
    carries: a record for each series, pocket, component and official
    architecture (and sources) its tree has, as fresh as the suite's
    control files are by the master's history; the records it no longer
    reports removed.  A check-in older than `max_age`, or none, counts for
    nothing: every record's freshness becomes UNKNOWN, so that no mirror
    list offers it on an old word.  Returns the number of records kept.
    Nothing is done to a public mirror: the prober's records are its."""
    if not mirror.private:
        return 0
    view = judge_checkin(store, mirror, max_age, now)
    if view is None or not view.counts:
        for record in list(mirror.arch_series) + list(mirror.source_series):
            record.freshness = MirrorFreshness.UNKNOWN
        return 0
    report = json.loads(store.find(
        MirrorCheckin, distribution_mirror_id=mirror.id).one().report)
    judged = {each.path: each for each in view.files}
    suites = _suites_of(mirror.distribution)
    kept_arch, kept_source = set(), set()
    for suite in report["suites"]:
        if suite["suite"] not in suites:
            continue
        series, pocket = suites[suite["suite"]]
        # A series is carried where it lives: under its root.
        if suite.get("root", "") != series.root.strip("/"):
            continue
        band = MirrorFreshness.UNKNOWN
        for path in suite["files"]:
            lag = judged[path].lag
            band = overall_freshness([band, MirrorFreshness.UNKNOWN
                                      if lag is None else band_for_lag(lag)])
        components = {component.name: component
                      for component in series.components}
        arches = {arch.architecture_tag: arch
                  for arch in series.official_architectures}
        for carried in suite["components"]:
            component = components.get(carried["component"])
            if component is None:
                continue
            for tag in carried["architectures"]:
                if tag in arches:
                    record = mirror.ensureMirrorDistroArchSeries(
                        arches[tag], pocket, component)
                    record.freshness = band
                    kept_arch.add(record)
            if carried["source"]:
                record = mirror.ensureMirrorDistroSeriesSource(
                    series, pocket, component)
                record.freshness = band
                kept_source.add(record)
    store.flush()
    for records, kept in ((mirror.arch_series, kept_arch),
                          (mirror.source_series, kept_source)):
        for record in list(records):
            if record not in kept:
                store.remove(record)
    return len(kept_arch) + len(kept_source)


def expire_checkins(store, max_age, now=None):
    """carry_checkin() for every private mirror whose check-in has grown
    older than `max_age` while its records still say it is fresh; the
    names of those mirrors."""
    from mirrorkeeper.model.distributionmirror import DistributionMirror
    from mirrorkeeper.model.mirrorcontent import (
        MirrorDistroArchSeries, MirrorDistroSeriesSource)
    now = now or utcnow()
    expired = []
    for mirror in store.find(
            DistributionMirror,
            DistributionMirror.private == True,  # noqa: E712
            MirrorCheckin.distribution_mirror_id == DistributionMirror.id,
            MirrorCheckin.date_reported < now - max_age):
        known = any(
            not store.find(cls, cls.distribution_mirror_id == mirror.id,
                           cls.freshness != MirrorFreshness.UNKNOWN
                           ).is_empty()
            for cls in (MirrorDistroArchSeries, MirrorDistroSeriesSource))
        if known:
            carry_checkin(store, mirror, max_age, now)
            expired.append(mirror.name)
    return expired


# Before the bitflip.

@attrs.frozen
class PrereleaseMirror:
    """A mirror whose newest check-in carries a series not yet released:
    plain values.  `suites` are the series' suites it reported, `files`
    the FileJudgement of their control files; for a public mirror
    `prober` is the freshness the prober found of the series (None: it
    has no record of it), shown beside the check-in and never replaced
    by it."""

    name: str
    title: str
    private: bool
    date_reported: object
    age: timedelta
    suites: tuple
    files: tuple
    prober: MirrorFreshness | None

    @property
    def current(self):
        return sum(1 for each in self.files if each.verdict == "current")


def prerelease_checkins(store, distribution, max_age, now=None):
    """[(series, [PrereleaseMirror])] for each series of `distribution`
    at its development location (not public yet), newest first: the
    mirrors whose newest check-in, not older than `max_age`, carries one
    of its suites, those that reported most recently first.  How a
    mirror admin tells that a release has spread before it is made
    public (MirrorManager's pre-bitflip check-in)."""
    from mirrorkeeper.enums import PackagePublishingPocket, SeriesLocation
    from mirrorkeeper.model.distributionmirror import DistributionMirror
    now = now or utcnow()
    series = [each for each in distribution.series
              if each.location is SeriesLocation.DEVELOPMENT]
    suites = {each.suite(pocket): each for each in series
              for pocket in PackagePublishingPocket}
    found = {each.id: [] for each in series}
    checkins = store.find(
        (DistributionMirror, MirrorCheckin),
        MirrorCheckin.distribution_mirror_id == DistributionMirror.id,
        DistributionMirror.distribution_id == distribution.id,
        MirrorCheckin.date_reported >= now - max_age,
    ).order_by(Desc(MirrorCheckin.date_reported), DistributionMirror.name)
    for mirror, checkin in (checkins if suites else ()):
        carried = {}
        for suite in json.loads(checkin.report)["suites"]:
            if suite["suite"] in suites:
                carried.setdefault(suites[suite["suite"]].id, []).append(
                    suite["suite"])
        if not carried:
            continue
        view = judge_checkin(store, mirror, max_age, now)
        for series_id, names in carried.items():
            # Its suites' control files, at the top or under a root.
            marks = tuple("/dists/%s/" % name for name in names)
            files = tuple(each for each in view.files if any(
                mark in "/" + each.path for mark in marks))
            found[series_id].append(PrereleaseMirror(
                mirror.name, mirror.title, mirror.private,
                checkin.date_reported, view.age, tuple(names), files,
                None if mirror.private
                else _prober_freshness(mirror, series_id)))
    return [(each, found[each.id]) for each in
            sorted(series, key=lambda s: s.date_created, reverse=True)]


def _prober_freshness(mirror, series_id):
    """The freshness of the prober's records of the series on `mirror`
    (None: it has none)."""
    bands = [record.freshness for record in mirror.arch_series
             if record.distro_arch_series.distro_series_id == series_id]
    bands += [record.freshness for record in mirror.source_series
              if record.distro_series_id == series_id]
    return overall_freshness(bands) if bands else None


# Probe me now.

@attrs.frozen
class ProbeAnswer:
    """What a request to be probed got: `queued`, or else how many
    seconds to wait (`retry_after`); `date_requested` is the request
    that counts."""

    queued: bool
    date_requested: object
    retry_after: int = 0


def may_be_probed(mirror):
    """Why the prober would not probe `mirror` (None: it would)."""
    if mirror.private:
        return ("it is private: the prober cannot reach it, and its "
                "check-in is what it carries")
    if not mirror.distribution.supports_mirrors:
        return "its distribution has no mirrors"
    if mirror.status not in PROBED_STATUSES:
        return "it is %s, not reviewed" % (mirror.status.title.lower(),)
    if mirror.owner_paused:
        return "its owner paused it"
    return None


def request_probe(store, mirror, interval, now=None):
    """Queue `mirror` for the queued prober run, unless it asked less than
    `interval` (a timedelta) ago; a ProbeAnswer."""
    now = now or utcnow()
    request = store.find(MirrorProbeRequest,
                         distribution_mirror_id=mirror.id).one()
    if request is not None:
        wait = request.date_requested + interval - now
        if wait > timedelta(0):
            return ProbeAnswer(False, request.date_requested,
                               max(1, int(wait.total_seconds() + 0.999)))
        request.date_requested = now
        request.date_applied = None
    else:
        store.add(MirrorProbeRequest(mirror, now))
    return ProbeAnswer(True, now)


def queued_mirror_ids(store):
    """The ids of the mirrors in the queue, those waiting longest first."""
    return list(store.find(
        MirrorProbeRequest.distribution_mirror_id,
        MirrorProbeRequest.date_applied == None  # noqa: E711
    ).order_by(MirrorProbeRequest.date_requested,
               MirrorProbeRequest.id))


def drain_queue(store, now=None):
    """Take out of the queue each mirror that a probe made after its
    request has taken effect for (an applied probe record); the ids of
    those taken out."""
    now = now or utcnow()
    request, record = MirrorProbeRequest, MirrorProbeRecord
    served = {mirror_id: as_datetime(date) for mirror_id, date in store.find(
        (request.distribution_mirror_id, Max(record.date_created)),
        request.date_applied == None,  # noqa: E711
        record.distribution_mirror_id == request.distribution_mirror_id,
        record.state == ProbeRecordState.APPLIED,
    ).group_by(request.distribution_mirror_id)}
    drained = []
    for each in store.find(request, And(
            request.date_applied == None,  # noqa: E711
            request.distribution_mirror_id.is_in(list(served)))):
        if served[each.distribution_mirror_id] >= each.date_requested:
            each.date_applied = now
            drained.append(each.distribution_mirror_id)
    return sorted(drained)


def queue_state(store, mirror):
    """(date requested, date applied) of the mirror's newest request to
    be probed now, or None."""
    request = store.find(MirrorProbeRequest,
                         distribution_mirror_id=mirror.id).one()
    if request is None:
        return None
    return request.date_requested, request.date_applied
