"""What state each mirror is in: the one read model every reader uses.

The web pages, the JSON API, the command line, /metrics and the mirror
list snapshot all ask the same questions of a mirror: how fresh is it
overall, how far behind, is it official, what bandwidth does it weigh,
when was it last probed and how long did that take, is it unreachable,
is it published and in which listings.  Each answer is computed here and
nowhere else, for a set of mirrors at once: one query, whatever their
number, each mirror's records read by subqueries that seek in an index
of that mirror's rows (never a query per mirror, nor a scan and group
of every record).  Rows are read as plain values, not Storm objects:
building a thousand objects costs more than the query does.

states_where(store, *conditions) and states_of(store, mirror_ids) return
MirrorState values (frozen, safe to hand out of a database thread);
states_version(store) is what changes when any of them may have, and
KeptStates keeps them between transactions, reading again only those of
the mirrors that changed.
"""

import threading
from datetime import datetime

import attrs
from storm.expr import (
    And, ComparableExpr, Desc, Exists, Join, LeftJoin, Max, Select, Undef,
    compile)
from storm.info import ClassAlias
from zope.interface import implementer

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorSpeed, MirrorStatus,
    ProbeRecordState)
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.freshness import band_lag
from mirrorkeeper.interfaces.distributionmirror import (
    IMirrorState, IMirrorStateSet)
from mirrorkeeper.model.country import Continent, Country
from mirrorkeeper.model.distribution import Distribution
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorcontent import (
    MirrorCDImageDistroSeries, MirrorDistroArchSeries,
    MirrorDistroSeriesSource, MirrorFreshnessCheck, MirrorProbeRecord,
    MirrorRPMRepository)
from mirrorkeeper.model.person import Person
from mirrorkeeper.model.site import Site

# Mirrors per IN (...) list: well under SQLite's limit on parameters.
CHUNK = 500

_M = DistributionMirror


# The rules, each stated once.

def is_official(official_candidate, status):
    """Whether a mirror is official: it asked to be (an official candidate)
    and the mirror admins approved it as OFFICIAL."""
    return bool(official_candidate) and status is MirrorStatus.OFFICIAL


def default_bandwidth(speed):
    """The bandwidth, in Mbps, a mirror of declared `speed` (MirrorSpeed)
    weighs when its admin set none: the speed, at least 1."""
    return max(1, int(speed.mbps))


def overall_of(content, worst_known, carries_images):
    """A mirror's overall freshness: for an archive mirror, `worst_known`
    (the worst known freshness of its records, or None); for a CD image
    mirror, UP when it carries images, else UNKNOWN."""
    if content is MirrorContent.RELEASE:
        return MirrorFreshness.UP if carries_images \
            else MirrorFreshness.UNKNOWN
    return worst_known or MirrorFreshness.UNKNOWN


@attrs.frozen
class PublicationPolicy:
    """Which mirrors are published beyond the official ones."""

    # Publish reviewed unofficial mirrors too (a distribution without a
    # review process); pending and broken ones never are.
    include_unofficial: bool = False
    # Names of mirrors published whatever their status.
    include_mirrors: frozenset = attrs.field(default=frozenset(),
                                             converter=frozenset)

    @classmethod
    def from_config(cls, config):
        names = config.get("publication", "include_mirrors").split()
        return cls(config.getboolean("publication", "include_unofficial"),
                   frozenset(names))


DEFAULT_POLICY = PublicationPolicy()

_SCHEMES = ("https", "http", "ftp", "rsync")

# The listings a distribution has, by the path word the site uses: what
# they show, and whether only mirror admins may see them.
LISTINGS = {
    "archive": ("Archive mirrors", False),
    "cdimage": ("CD image mirrors", False),
    "disabled": ("Disabled mirrors", True),
    "unofficial": ("Unofficial mirrors", True),
    "pending": ("Mirrors pending review", True),
}


def listing_conditions(kind, *conditions):
    """The conditions (on DistributionMirror's columns) of the mirrors in
    the listing `kind` (one of LISTINGS), besides `conditions`."""
    listed = conditions + (
        _M.enabled == True, _M.owner_paused == False,  # noqa: E712
        _M.official_candidate == True,  # noqa: E712
        _M.status == MirrorStatus.OFFICIAL)
    if kind == "archive":
        return listed + (_M.content == MirrorContent.ARCHIVE,)
    if kind == "cdimage":
        return listed + (_M.content == MirrorContent.RELEASE,)
    if kind == "disabled":
        return conditions + (
            _M.enabled == False,  # noqa: E712
            _M.status.is_in([MirrorStatus.OFFICIAL,
                             MirrorStatus.UNOFFICIAL]))
    if kind == "unofficial":
        return conditions + (_M.status == MirrorStatus.UNOFFICIAL,)
    if kind == "pending":
        return conditions + (_M.status == MirrorStatus.PENDING_REVIEW,)
    raise NotFoundError("no listing is called %r" % (kind,))


@implementer(IMirrorState)
@attrs.frozen
class MirrorState:
    """One mirror as every reader shows it (see IMirrorState)."""

    id: int
    name: str
    title: str
    display_name: str | None
    distribution: str
    content: MirrorContent
    status: MirrorStatus
    official_candidate: bool
    enabled: bool
    owner_paused: bool
    owner: str
    country_code: str
    country_name: str
    continent_code: str
    continent_name: str
    http_url: str | None
    https_url: str | None
    ftp_url: str | None
    rsync_url: str | None
    speed: str
    speed_item: MirrorSpeed
    bandwidth_mbps: int
    freshness: MirrorFreshness
    date_created: datetime
    last_probe: datetime | None = None
    last_probe_duration: float | None = None
    last_applied_probe: datetime | None = None
    detected: MirrorFreshness | None = None
    measured_lag_seconds: int | None = None
    failed_runs: int = 0
    date_disabled: datetime | None = None
    # Whether each URL answered the last probe: None when not probed.
    answered: tuple = (None, None, None, None)
    lists: tuple = ()
    # The site (model.site) that runs it: its name and display name.
    site: str | None = None
    site_title: str | None = None

    @property
    def official(self):
        return is_official(self.official_candidate, self.status)

    @property
    def unreachable(self):
        return self.failed_runs > 0

    @property
    def lag_seconds(self):
        if self.measured_lag_seconds is not None:
            return self.measured_lag_seconds
        return band_lag(self.freshness)

    @property
    def urls(self):
        """(scheme, URL) of each URL the mirror has, https first."""
        return [(scheme, url) for scheme, url in zip(_SCHEMES, (
            self.https_url, self.http_url, self.ftp_url, self.rsync_url))
            if url]

    @property
    def link(self):
        # rsync last: only for a mirror that offers nothing else.
        return (self.https_url or self.http_url or self.ftp_url
                or self.rsync_url)

    @property
    def base_url(self):
        return self.link

    @property
    def published_urls(self):
        """{scheme: URL} of the URLs the mirror lists may offer: those that
        did not fail its last probe."""
        http, https, ftp, rsync = self.answered
        works = {"http": http, "https": https, "ftp": ftp, "rsync": rsync}
        return {scheme: url for scheme, url in self.urls
                if works.get(scheme) is not False}

    def why_unpublished(self, policy=None):
        """Why package managers are not offered the mirror, as short
        reasons (empty when they are)."""
        policy = policy or DEFAULT_POLICY
        why = []
        if not (self.official or self.name in policy.include_mirrors or (
                policy.include_unofficial and
                self.status is MirrorStatus.UNOFFICIAL)):
            why.append("not official" if self.status is MirrorStatus.OFFICIAL
                       else self.status.title.lower())
        if not self.enabled:
            why.append("disabled")
        if self.owner_paused:
            why.append("paused by its owner")
        if self.unreachable:
            why.append("unreachable in the last %d probe runs"
                       % (self.failed_runs,))
        if not self.published_urls:
            why.append("no URL answered its last probe")
        return tuple(why)

    def published(self, policy=None):
        return not self.why_unpublished(policy)

    @property
    def listed(self):
        """Whether package managers are offered it (the default policy)."""
        return self.published()


def _select(store, columns, conditions, **kwargs):
    """The rows of a SELECT, as a list of tuples of plain values."""
    where = And(*conditions) if conditions else Undef
    return store.execute(Select(columns, where=where, **kwargs)).get_all()


def _by_value(enum_class):
    return {item.value: item for item in enum_class}


_CONTENT = _by_value(MirrorContent)
_STATUS = _by_value(MirrorStatus)
_SPEED = _by_value(MirrorSpeed)
_FRESHNESS = _by_value(MirrorFreshness)


def as_datetime(value):
    """A datetime from what the database gives (SQLite may give text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


# The records whose worst known freshness bounds an archive mirror's.  (A
# repository the master dropped is not probed again: the next probe leaves
# the mirror's record of it UNKNOWN, see prober.record.)
_WORST = (MirrorDistroArchSeries, MirrorDistroSeriesSource,
          MirrorRPMRepository)


class _Scalar(ComparableExpr):
    """A subquery giving one value, as a column of the outer query."""

    __slots__ = ("select",)

    def __init__(self, select):
        self.select = select


@compile.when(_Scalar)
def _compile_scalar(compile, expr, state):
    return "(%s)" % (compile(expr.select, state),)


def _of_mirror(cls, column, *conditions, **kwargs):
    """The subquery of `column` of the rows of `cls` of each mirror of the
    outer query."""
    return _Scalar(Select(column, where=And(
        cls.distribution_mirror_id == _M.id, *conditions), tables=cls,
        **kwargs))


def _worst_of(cls):
    """A mirror's worst known freshness among its rows of `cls`.  UNKNOWN
    is the largest value: each mirror's answer is a seek in the (mirror,
    freshness) index, not a scan of its rows."""
    return _of_mirror(cls, Max(cls.freshness),
                      cls.freshness < MirrorFreshness.UNKNOWN)


def _newest_probe():
    """The id of each mirror's newest probe record (by date, then id)."""
    record = MirrorProbeRecord
    return _of_mirror(record, record.id, order_by=(
        Desc(record.date_created), Desc(record.id)), limit=1)


_NEWEST = ClassAlias(MirrorProbeRecord, "newest_probe")
_CHECK = MirrorFreshnessCheck
_RECORD = MirrorProbeRecord

# Each mirror's state is one row of one query, whatever the number of
# mirrors: its columns, its places and owner by join, and what its records
# say as subqueries, each a seek in an index of the mirror's rows.
_COLUMNS = (
    _M.id, _M.name, _M.display_name, Distribution.name, _M.content,
    _M.status, _M.enabled, _M.owner_paused, _M.official_candidate,
    Person.name, Country.iso3166code2, Country.name, Continent.code,
    Continent.name, _M.http_base_url, _M.https_base_url, _M.ftp_base_url,
    _M.rsync_base_url, _M.speed, _M._bandwidth_mbps, _M.date_created,
    _M.failed_runs, _M.date_disabled, _M.http_answered, _M.https_answered,
    _M.ftp_answered, _M.rsync_answered, Site.name, Site.display_name,
    _NEWEST.date_created, _NEWEST.duration_seconds,
    _of_mirror(_RECORD, _RECORD.date_created,
               _RECORD.state == ProbeRecordState.APPLIED,
               order_by=Desc(_RECORD.date_created), limit=1),
    _worst_of(_CHECK), _of_mirror(_CHECK, Max(_CHECK.lag_seconds)),
    Exists(Select(1, where=MirrorCDImageDistroSeries.distribution_mirror_id
                  == _M.id, tables=MirrorCDImageDistroSeries)),
) + tuple(_worst_of(cls) for cls in _WORST) + tuple(
    And(*listing_conditions(kind)) for kind in LISTINGS)

_TABLES = LeftJoin(LeftJoin(
    Join(Join(Join(Join(
        _M, Country, _M.country_id == Country.id),
        Continent, Country.continent_id == Continent.id),
        Distribution, _M.distribution_id == Distribution.id),
        Person, _M.owner_id == Person.id),
    _NEWEST, _NEWEST.id == _newest_probe()),
    Site, _M.site_id == Site.id)


def _bool(value):
    return None if value is None else bool(value)


def states_where(store, *conditions):
    """[MirrorState] of the mirrors matching `conditions` (on
    DistributionMirror's columns), ordered by country name and then
    registration."""
    states = []
    for (mirror_id, name, display_name, distribution, content, status,
         enabled, paused, candidate, owner, country_code, country_name,
         continent_code, continent_name, http, https, ftp, rsync, speed,
         bandwidth, created, failed_runs, disabled, http_answered,
         https_answered, ftp_answered, rsync_answered, site, site_title,
         last_probe, duration, last_applied, detected, lag, with_images,
         *worst) in _select(store, _COLUMNS, conditions, tables=_TABLES,
                            order_by=(Country.name, _M.id)):
        lists = worst[len(_WORST):]
        worst_known = max([value for value in worst[:len(_WORST)] + [
            detected] if value is not None], default=None)
        content = _CONTENT[content]
        speed = _SPEED[speed]
        states.append(MirrorState(
            id=mirror_id, name=name, title=display_name or name,
            display_name=display_name, distribution=distribution,
            content=content, status=_STATUS[status],
            official_candidate=bool(candidate), enabled=bool(enabled),
            owner_paused=bool(paused), owner=owner,
            country_code=country_code, country_name=country_name,
            continent_code=continent_code, continent_name=continent_name,
            http_url=http, https_url=https, ftp_url=ftp, rsync_url=rsync,
            speed=speed.title, speed_item=speed,
            bandwidth_mbps=bandwidth if bandwidth is not None
            else default_bandwidth(speed),
            freshness=overall_of(
                content, worst_known and _FRESHNESS[worst_known],
                bool(with_images)),
            date_created=as_datetime(created),
            last_probe=as_datetime(last_probe),
            last_probe_duration=duration,
            last_applied_probe=as_datetime(last_applied),
            detected=_FRESHNESS[detected] if detected is not None
            else None,
            measured_lag_seconds=int(lag) if lag is not None else None,
            failed_runs=failed_runs or 0,
            date_disabled=as_datetime(disabled),
            answered=(_bool(http_answered), _bool(https_answered),
                      _bool(ftp_answered), _bool(rsync_answered)),
            lists=tuple(kind for kind, listed in zip(LISTINGS, lists)
                        if listed),
            site=site, site_title=site_title))
    return states


def states_of(store, mirror_ids):
    """{mirror id: MirrorState} of `mirror_ids`; a missing id is left
    out."""
    mirror_ids = list(mirror_ids)
    found = {}
    for start in range(0, len(mirror_ids), CHUNK):
        for state in states_where(
                store, _M.id.is_in(mirror_ids[start:start + CHUNK])):
            found[state.id] = state
    return found


def state_of(mirror):
    """The MirrorState of one mirror (a model object)."""
    from mirrorkeeper.model.base import store_of
    return states_of(store_of(mirror), [mirror.id])[mirror.id]


def last_probe_durations(store, mirror_ids):
    """{mirror id: seconds its newest probe took}, for the mirrors whose
    newest probe says (the prober runs the slowest first)."""
    mirror_ids = list(mirror_ids)
    found = {}
    for start in range(0, len(mirror_ids), CHUNK):
        found.update(_select(
            store, (_M.id, _NEWEST.duration_seconds),
            (_M.id.is_in(mirror_ids[start:start + CHUNK]),
             _NEWEST.duration_seconds != None),  # noqa: E711
            tables=LeftJoin(_M, _NEWEST, _NEWEST.id == _newest_probe())))
    return found


def states_version(store):
    """What changes whenever what this module says of any mirror may have:
    (number of mirrors, sum of the revisions of the mirrors and of the
    mirrors deleted).  The database raises a mirror's revision in the
    transaction of each change to its row, its records or the names it
    shows, and gives a deleted mirror's to its distribution (schema patch
    0024): the sum only grows, by one at least for each committed change
    but an insert, which the number shows."""
    (mirrors, revisions), = store.execute(
        "SELECT COUNT(*), COALESCE(SUM(revision), 0) + (SELECT COALESCE("
        "SUM(mirror_revisions), 0) FROM distribution) "
        "FROM distribution_mirror")
    return (mirrors, revisions)


class KeptStates:
    """Every mirror's state, kept from one transaction to the next and
    brought up to date by the mirrors' revisions (schema patch 0024): only
    the mirrors whose revision changed, and new ones, are read again.  A
    long-lived reader (the web daemon) asks it instead of states_where
    for all the mirrors of a listing or of the status, so that what one
    probe or one edit changed costs one mirror's query, not a
    thousand's.  Safe to share between database threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._kept = {}

    def where(self, store, matches=None):
        """[MirrorState] of the mirrors for which matches(state) is true
        (all if None), ordered as states_where orders them, as of the
        store's transaction or newer."""
        # The revisions first, then the states: a state kept is never
        # older than its revision says.
        revisions = dict(store.execute(
            "SELECT id, revision FROM distribution_mirror").get_all())
        with self._lock:
            kept = self._kept
        stale = [mirror_id for mirror_id, revision in revisions.items()
                 if kept.get(mirror_id, (None,))[0] != revision]
        fresh = states_of(store, stale)
        now = {mirror_id: (revision, fresh[mirror_id])
               if mirror_id in fresh else kept[mirror_id]
               for mirror_id, revision in revisions.items()
               if mirror_id in fresh or mirror_id in kept}
        with self._lock:
            self._kept = now
        states = [state for _, state in now.values()
                  if matches is None or matches(state)]
        states.sort(key=lambda state: (state.country_name, state.id))
        return states


@implementer(IMirrorStateSet)
class MirrorStateSet:
    """The states of a store's mirrors (see IMirrorStateSet)."""

    def __init__(self, store):
        self.store = store

    def where(self, *conditions):
        return states_where(self.store, *conditions)

    def of(self, mirror_ids):
        return states_of(self.store, mirror_ids)

    def lastProbeDurations(self, mirror_ids):
        return last_probe_durations(self.store, mirror_ids)
