"""What the pages, feeds and API show, read from the database in bulk.

Each function runs inside a database thread (see transactor) and returns
plain values: frozen attrs classes, strings, enum items, datetimes.  A
listing of a thousand mirrors costs a handful of queries, not a few per
mirror: freshness and last probes are aggregated in SQL, countries and
continents are read once.
"""

from datetime import datetime
from itertools import groupby

import attrs
from storm.expr import Alias, And, Column, Join, Max, Select, Undef

from mirrorkeeper.enums import (
    MirrorContent, MirrorFreshness, MirrorSpeed, MirrorStatus)
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.freshness import band_lag
from mirrorkeeper.model.country import Continent, Country
from mirrorkeeper.model.distribution import Distribution, DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorcontent import (
    MirrorCDImageDistroSeries, MirrorDistroArchSeries,
    MirrorDistroSeriesSource, MirrorFreshnessCheck, MirrorProbeRecord,
    MirrorRPMRepository)
from mirrorkeeper.web import probelogs

# How many probes a mirror's page lists.
PROBE_HISTORY = 50


@attrs.frozen
class MirrorSummary:
    """One mirror as listings, feeds and the API show it."""

    id: int
    name: str
    title: str
    distribution: str
    content: MirrorContent
    status: MirrorStatus
    enabled: bool
    owner_paused: bool
    official: bool
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
    bandwidth_mbps: int
    freshness: MirrorFreshness
    last_probe: datetime | None
    date_created: datetime
    # The last trusted probe run could not reach it: left out of the
    # mirror lists, disabled if it stays so.
    unreachable: bool = False

    @property
    def listed(self):
        """Whether package managers are offered it: enabled, official, not
        paused and reachable."""
        return self.enabled and self.official and not self.owner_paused \
            and not self.unreachable

    @property
    def urls(self):
        """(scheme, URL) of each URL the mirror has, https first."""
        return [(scheme, url) for scheme, url in (
            ("https", self.https_url), ("http", self.http_url),
            ("ftp", self.ftp_url), ("rsync", self.rsync_url)) if url]

    @property
    def link(self):
        return self.https_url or self.http_url or self.ftp_url


@attrs.frozen
class CountryGroup:
    code: str
    name: str
    mirrors: tuple
    bandwidth_mbps: int


@attrs.frozen
class ContinentGroup:
    code: str
    name: str
    countries: tuple
    count: int
    bandwidth_mbps: int


def as_datetime(value):
    """A datetime from what an aggregate returns (SQLite gives text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def get_distribution(store, name):
    distribution = DistributionSet(store).getByName(name)
    if distribution is None:
        raise NotFoundError("no distribution is called %r" % (name,))
    return distribution


def get_mirror(store, distribution, name):
    mirror = store.find(DistributionMirror,
                        DistributionMirror.distribution_id == distribution.id,
                        DistributionMirror.name == name).one()
    if mirror is None:
        raise NotFoundError("%s has no mirror called %r"
                            % (distribution.name, name))
    return mirror


_M = DistributionMirror


@attrs.frozen
class _Place:
    code: str
    name: str


def _places(store):
    """{country id: (country, continent)}, each with its code and name."""
    continents = {continent_id: _Place(code, name)
                  for continent_id, code, name in _select(
                      store, (Continent.id, Continent.code, Continent.name),
                      ())}
    return {country_id: (_Place(code, name), continents[continent_id])
            for country_id, code, name, continent_id in _select(
                store, (Country.id, Country.iso3166code2, Country.name,
                        Country.continent_id), ())}


def _select(store, columns, conditions, **kwargs):
    """The rows of a SELECT as the database gives them: plain values, no
    Storm variables or objects (the cost of reading a thousand mirrors
    was mostly building those)."""
    where = And(*conditions) if conditions else Undef
    return store.execute(Select(columns, where=where, **kwargs))


def _by_value(enum_class):
    return {item.value: item for item in enum_class}


_CONTENT = _by_value(MirrorContent)
_STATUS = _by_value(MirrorStatus)
_SPEED = _by_value(MirrorSpeed)
_FRESHNESS = _by_value(MirrorFreshness)

# The records whose worst known freshness is an archive mirror's.
_ARCHIVE_RECORDS = (MirrorDistroArchSeries, MirrorDistroSeriesSource,
                    MirrorRPMRepository, MirrorFreshnessCheck)


def freshness_where(store, conditions):
    """{mirror id: its getOverallFreshness()} of the mirrors matching
    `conditions` (on DistributionMirror's columns), in one grouped query
    per kind of record for all of them; a mirror with no known record is
    missing (UNKNOWN)."""
    worst = {}
    archive = _M.content == MirrorContent.ARCHIVE
    for cls in _ARCHIVE_RECORDS:
        for mirror_id, value in _select(
                store, (cls.distribution_mirror_id, Max(cls.freshness)),
                (cls.distribution_mirror_id == _M.id, archive,
                 cls.freshness != MirrorFreshness.UNKNOWN) + conditions,
                group_by=cls.distribution_mirror_id):
            if value is not None and value > worst.get(mirror_id, 0):
                worst[mirror_id] = value
    found = {mirror_id: _FRESHNESS[value]
             for mirror_id, value in worst.items()}
    record = MirrorCDImageDistroSeries
    for (mirror_id,) in _select(
            store, (record.distribution_mirror_id,),
            (record.distribution_mirror_id == _M.id,
             _M.content == MirrorContent.RELEASE) + conditions,
            distinct=True):
        found[mirror_id] = MirrorFreshness.UP
    return found


def overall_freshness(store, mirrors):
    """{mirror id: its getOverallFreshness()}; `mirrors` are (id,
    MirrorContent) pairs."""
    ids = [mirror_id for mirror_id, _ in mirrors]
    freshness = {mirror_id: MirrorFreshness.UNKNOWN for mirror_id in ids}
    for start in range(0, len(ids), 500):
        freshness.update(freshness_where(
            store, (_M.id.is_in(ids[start:start + 500]),)))
    return freshness


def lags(store, freshness):
    """{mirror id: its getLag()} for `freshness`, the overall freshness of
    each mirror ({id: MirrorFreshness}), in a query per 500 mirrors."""
    check = MirrorFreshnessCheck
    mirror_ids = list(freshness)
    measured = {}
    for start in range(0, len(mirror_ids), 500):
        for mirror_id, lag in _select(
                store, (check.distribution_mirror_id, Max(check.lag_seconds)),
                (check.distribution_mirror_id.is_in(
                    mirror_ids[start:start + 500]),
                 check.lag_seconds != None),  # noqa: E711
                group_by=check.distribution_mirror_id):
            measured[mirror_id] = lag
    result = {}
    for mirror_id, band in freshness.items():
        result[mirror_id] = measured[mirror_id] if mirror_id in measured \
            else band_lag(band)
    return result


def newest_probes_where(store, conditions):
    """{mirror id: (probe record id, date, duration_seconds)} of the
    newest probe (by date, then id) of each mirror matching `conditions`
    (on DistributionMirror's columns), in one query: the records at each
    mirror's newest date.  duration_seconds is None for records from
    before the prober measured it."""
    record = MirrorProbeRecord
    newest = Alias(Select(
        (Alias(record.distribution_mirror_id, "mirror"),
         Alias(Max(record.date_created), "newest")),
        where=And(record.distribution_mirror_id == _M.id, *conditions),
        group_by=record.distribution_mirror_id), "newest_probe")
    found = {}
    for mirror_id, record_id, date, taken in store.execute(Select(
            (record.distribution_mirror_id, record.id, record.date_created,
             record.duration_seconds),
            tables=[record, Join(newest, And(
                Column("mirror", newest) == record.distribution_mirror_id,
                Column("newest", newest) == record.date_created))])):
        if mirror_id not in found or record_id > found[mirror_id][0]:
            found[mirror_id] = (record_id, as_datetime(date), taken)
    return found


def last_probes(store, mirror_ids):
    """{mirror id: (probe record id, date)} of each mirror's newest probe."""
    return {mirror_id: (record_id, date)
            for mirror_id, (record_id, date, _) in _newest_probes(
                store, mirror_ids).items()}


def _newest_probes(store, mirror_ids):
    mirror_ids = list(mirror_ids)
    found = {}
    for start in range(0, len(mirror_ids), 500):
        found.update(newest_probes_where(
            store, (_M.id.is_in(mirror_ids[start:start + 500]),)))
    return found


# The columns a MirrorSummary is made of: read as values, not as model
# objects, because building a thousand Storm objects costs more than the
# queries do.
_COLUMNS = (_M.id, _M.name, _M.display_name, _M.distribution_id, _M.content,
            _M.status, _M.enabled, _M.owner_paused, _M.official_candidate,
            _M.owner_id, _M.country_id, _M.http_base_url, _M.https_base_url,
            _M.ftp_base_url, _M.rsync_base_url, _M.speed,
            _M._bandwidth_mbps, _M.date_created, _M.failed_runs)


def summaries_where(store, *conditions):
    """[MirrorSummary] of the mirrors matching `conditions` (on
    DistributionMirror's columns), ordered by country name and then
    registration (the model's listing order).  A query for the mirrors,
    one per kind of record for their freshness and one for their last
    probes, whatever their number."""
    rows = list(_select(store, _COLUMNS,
                        (_M.country_id == Country.id,) + conditions,
                        order_by=(Country.name, _M.id)))
    if not rows:
        return []
    places = _places(store)
    freshness = freshness_where(store, conditions)
    probes = _newest_probe_dates(store, conditions)
    distributions = {d.id: d.name for d in store.find(Distribution)}
    owners = _owner_names(store, {row[9] for row in rows})
    summaries = []
    unknown = MirrorFreshness.UNKNOWN
    official = MirrorStatus.OFFICIAL
    for (mirror_id, name, display_name, distribution_id, content, status,
         enabled, paused, candidate, owner_id, country_id, http, https, ftp,
         rsync, speed, bandwidth, created, failed_runs) in rows:
        country, continent = places[country_id]
        status = _STATUS[status]
        speed = _SPEED[speed]
        summaries.append(MirrorSummary(
            id=mirror_id, name=name, title=display_name or name,
            distribution=distributions[distribution_id],
            content=_CONTENT[content], status=status, enabled=bool(enabled),
            owner_paused=bool(paused),
            official=bool(candidate) and status is official,
            owner=owners[owner_id], country_code=country.code,
            country_name=country.name, continent_code=continent.code,
            continent_name=continent.name, http_url=http, https_url=https,
            ftp_url=ftp, rsync_url=rsync, speed=speed.title,
            bandwidth_mbps=bandwidth if bandwidth is not None
            else max(1, int(speed.mbps)),
            freshness=freshness.get(mirror_id, unknown),
            last_probe=probes.get(mirror_id),
            date_created=as_datetime(created),
            unreachable=bool(failed_runs)))
    return summaries


def summarise(store, mirrors):
    """[MirrorSummary] of `mirrors` (model objects), in their order."""
    order = [mirror.id for mirror in mirrors]
    found = {summary.id: summary for start in range(0, len(order), 500)
             for summary in summaries_where(
                 store, _M.id.is_in(order[start:start + 500]))}
    return [found[mirror_id] for mirror_id in order]


def _newest_probe_dates(store, conditions):
    """{mirror id: date of its newest probe} of the mirrors matching
    `conditions`, read from the index on (mirror, date) alone."""
    record = MirrorProbeRecord
    return {mirror_id: as_datetime(date) for mirror_id, date in _select(
        store, (record.distribution_mirror_id, Max(record.date_created)),
        (record.distribution_mirror_id == _M.id,) + conditions,
        group_by=record.distribution_mirror_id)}


def _owner_names(store, owner_ids):
    from mirrorkeeper.model.person import Person
    ids = list(owner_ids)
    names = {}
    for start in range(0, len(ids), 500):
        for person_id, name in _select(
                store, (Person.id, Person.name),
                (Person.id.is_in(ids[start:start + 500]),)):
            names[person_id] = name
    return names


def group_by_place(summaries):
    """[ContinentGroup] of `summaries`: continents and countries by name,
    mirrors in the order given."""
    continents = []
    by_continent = sorted(summaries, key=lambda s: s.continent_name)
    for (code, name), in_continent in groupby(
            by_continent, lambda s: (s.continent_code, s.continent_name)):
        countries = []
        in_continent = sorted(in_continent, key=lambda s: s.country_name)
        for (country_code, country_name), in_country in groupby(
                in_continent, lambda s: (s.country_code, s.country_name)):
            in_country = tuple(in_country)
            countries.append(CountryGroup(
                country_code, country_name, in_country,
                sum(s.bandwidth_mbps for s in in_country)))
        continents.append(ContinentGroup(
            code, name, tuple(countries),
            sum(len(c.mirrors) for c in countries),
            sum(c.bandwidth_mbps for c in countries)))
    return continents


# The listings a distribution has, by the path word the site uses: what
# they show, and whether only mirror admins may see them.
LISTINGS = {
    "archive": ("Archive mirrors", False),
    "cdimage": ("CD image mirrors", False),
    "disabled": ("Disabled mirrors", True),
    "unofficial": ("Unofficial mirrors", True),
    "pending": ("Mirrors pending review", True),
}


def listing_conditions(distribution, kind):
    """The conditions of one of LISTINGS, as the model's listings have
    them (Distribution.archive_mirrors and the others)."""
    mine = _M.distribution_id == distribution.id
    listed = (mine, _M.enabled == True, _M.owner_paused == False,  # noqa
              _M.official_candidate == True,  # noqa: E712
              _M.status == MirrorStatus.OFFICIAL)
    if kind == "archive":
        return listed + (_M.content == MirrorContent.ARCHIVE,)
    if kind == "cdimage":
        return listed + (_M.content == MirrorContent.RELEASE,)
    if kind == "disabled":
        return (mine, _M.enabled == False,  # noqa: E712
                _M.status.is_in([MirrorStatus.OFFICIAL,
                                 MirrorStatus.UNOFFICIAL]))
    if kind == "unofficial":
        return (mine, _M.status == MirrorStatus.UNOFFICIAL)
    if kind == "pending":
        return (mine, _M.status == MirrorStatus.PENDING_REVIEW)
    raise NotFoundError("no listing is called %r" % (kind,))


def listing(store, distribution, kind):
    """[MirrorSummary] of one of LISTINGS, ordered by country."""
    return summaries_where(store, *listing_conditions(distribution, kind))


def listing_count(store, distribution, kind):
    return store.find(_M, *listing_conditions(distribution, kind)).count()


@attrs.frozen
class ContentRecord:
    series: str
    place: str          # an architecture tag, 'source' or a CD flavour
    component: str
    pocket: str
    freshness: MirrorFreshness | None


@attrs.frozen
class ProbeSummary:
    id: int
    date: datetime
    duration: float | None


@attrs.frozen
class MirrorDetail:
    """A mirror's page: its summary and everything else people read."""

    summary: MirrorSummary
    display_name: str | None
    description: str | None
    owner_display_name: str
    reviewer: str | None
    date_reviewed: datetime | None
    whiteboard: str | None
    pulse_type: str
    pulse_source: str | None
    official_candidate: bool
    records: tuple
    probes: tuple | None        # None: the viewer may not see them
    permissions: frozenset      # 'edit', 'review', 'pause', ...


def mirror_detail(store, who, mirror):
    """The MirrorDetail of `mirror` as `who` may see it."""
    (summary,) = summarise(store, [mirror])
    records = []
    for record in mirror.arch_series:
        arch = record.distro_arch_series
        records.append(ContentRecord(
            arch.distro_series.name, arch.architecture_tag,
            record.component.name, record.pocket.title, record.freshness))
    for record in mirror.source_series:
        records.append(ContentRecord(
            record.distro_series.name, "source", record.component.name,
            record.pocket.title, record.freshness))
    for record in mirror.cdimage_series:
        records.append(ContentRecord(
            record.distro_series.name, "%s images" % (record.flavour,),
            "", "", None))
    records.sort(key=lambda r: (r.series, r.place, r.pocket, r.component))
    permissions = {name for name, allowed in (
        ("edit", who.may_edit(mirror)), ("review", who.may_review(mirror)),
        ("pause", who.may_pause(mirror)),
        ("resubmit", who.may_resubmit(mirror)),
        ("delete", who.may_delete(mirror)),
        ("logs", who.may_see_logs(mirror))) if allowed}
    probes = None
    if "logs" in permissions:
        recent = list(mirror.probe_records.values(
            MirrorProbeRecord.id, MirrorProbeRecord.date_created,
            MirrorProbeRecord.duration_seconds))[:PROBE_HISTORY]
        parsed = probelogs.durations(store, [
            rid for rid, _, taken in recent if taken is None])
        probes = tuple(ProbeSummary(
            rid, date, taken if taken is not None else parsed.get(rid))
            for rid, date, taken in recent)
    reviewer = mirror.reviewer
    return MirrorDetail(
        summary=summary, display_name=mirror.display_name,
        description=mirror.description,
        owner_display_name=mirror.owner.display_name,
        reviewer=reviewer.name if reviewer is not None else None,
        date_reviewed=mirror.date_reviewed,
        whiteboard=mirror.whiteboard if "edit" in permissions else None,
        pulse_type=mirror.pulse_type.title, pulse_source=mirror.pulse_source,
        official_candidate=mirror.official_candidate,
        records=tuple(records), probes=probes,
        permissions=frozenset(permissions))


@attrs.frozen
class ProbeLog:
    mirror: str
    title: str
    id: int
    date: datetime
    log: str


def probe_log(store, who, mirror, record_id):
    """The full log of one probe of `mirror`, if `who` may read it."""
    who.require(who.may_see_logs(mirror), "read this mirror's probe logs")
    record = store.find(
        MirrorProbeRecord, MirrorProbeRecord.id == record_id,
        MirrorProbeRecord.distribution_mirror_id == mirror.id).one()
    if record is None:
        raise NotFoundError("%s has no probe %r" % (mirror.name, record_id))
    return ProbeLog(mirror.name, mirror.title, record.id,
                    record.date_created, record.log)


def last_probe_durations(store, mirror_ids):
    """{mirror id: (date of its last probe, seconds it took or None)}."""
    return _with_durations(store, _newest_probes(store, mirror_ids))


def last_probe_durations_where(store, conditions):
    """last_probe_durations of the mirrors matching `conditions`."""
    return _with_durations(store, newest_probes_where(store, conditions))


def _with_durations(store, newest):
    """{mirror id: (date, seconds)} from {mirror id: (record id, date,
    recorded seconds or None)}: what the prober recorded, else what the
    log's first and last timestamps say."""
    unrecorded = [record_id for record_id, _, taken in newest.values()
                  if taken is None]
    parsed = probelogs.durations(store, unrecorded) if unrecorded else {}
    return {mirror_id: (date, taken if taken is not None
                        else parsed.get(record_id))
            for mirror_id, (record_id, date, taken) in newest.items()}
