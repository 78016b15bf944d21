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
from storm.expr import Max

from mirrorkeeper.enums import MirrorContent, MirrorFreshness, MirrorStatus
from mirrorkeeper.errors import NotFoundError
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


def _places(store):
    continents = {c.id: c for c in store.find(Continent)}
    return {country.id: (country, continents[country.continent_id])
            for country in store.find(Country)}


def _worst_known(store, cls, mirror_ids):
    found = {}
    for start in range(0, len(mirror_ids), 500):
        chunk = mirror_ids[start:start + 500]
        for mirror_id, worst in store.find(
                (cls.distribution_mirror_id, Max(cls.freshness)),
                cls.distribution_mirror_id.is_in(chunk),
                cls.freshness != MirrorFreshness.UNKNOWN).group_by(
                    cls.distribution_mirror_id):
            found[mirror_id] = MirrorFreshness(getattr(worst, "value",
                                                       worst))
    return found


def overall_freshness(store, mirrors):
    """{mirror id: its getOverallFreshness()}, in a query per kind of
    record; `mirrors` are (id, MirrorContent) pairs."""
    archive = [i for i, content in mirrors
               if content is MirrorContent.ARCHIVE]
    cdimage = [i for i, content in mirrors
               if content is MirrorContent.RELEASE]
    freshness = {i: MirrorFreshness.UNKNOWN for i, _ in mirrors}
    for cls in (MirrorDistroArchSeries, MirrorDistroSeriesSource,
                MirrorRPMRepository, MirrorFreshnessCheck):
        for mirror_id, worst in _worst_known(store, cls, archive).items():
            if freshness[mirror_id] is MirrorFreshness.UNKNOWN or \
                    worst.value > freshness[mirror_id].value:
                freshness[mirror_id] = worst
    record = MirrorCDImageDistroSeries
    for start in range(0, len(cdimage), 500):
        for mirror_id in store.find(
                record.distribution_mirror_id,
                record.distribution_mirror_id.is_in(
                    cdimage[start:start + 500])).config(distinct=True):
            freshness[mirror_id] = MirrorFreshness.UP
    return freshness


def lags(store, freshness):
    """{mirror id: its getLag()} for `freshness`, the overall freshness of
    each mirror ({id: MirrorFreshness}), in a query per 500 mirrors."""
    check = MirrorFreshnessCheck
    mirror_ids = list(freshness)
    measured = {}
    for start in range(0, len(mirror_ids), 500):
        for mirror_id, lag in store.find(
                (check.distribution_mirror_id, Max(check.lag_seconds)),
                check.distribution_mirror_id.is_in(
                    mirror_ids[start:start + 500]),
                check.lag_seconds != None).group_by(  # noqa: E711
                    check.distribution_mirror_id):
            measured[mirror_id] = lag
    result = {}
    for mirror_id, band in freshness.items():
        if mirror_id in measured:
            result[mirror_id] = measured[mirror_id]
        elif band.threshold is not None:
            result[mirror_id] = int(band.threshold.total_seconds())
        else:
            result[mirror_id] = None
    return result


def last_probes(store, mirror_ids):
    """{mirror id: (probe record id, date)} of each mirror's newest probe."""
    record = MirrorProbeRecord
    newest = {}
    mirror_ids = list(mirror_ids)
    for start in range(0, len(mirror_ids), 500):
        chunk = mirror_ids[start:start + 500]
        for mirror_id, record_id, date in store.find(
                (record.distribution_mirror_id, record.id,
                 record.date_created),
                record.distribution_mirror_id.is_in(chunk)):
            if mirror_id not in newest or \
                    (date, record_id) > newest[mirror_id][::-1]:
                newest[mirror_id] = (record_id, date)
    return newest


# The columns a MirrorSummary is made of: read as values, not as model
# objects, because building a thousand Storm objects costs more than the
# queries do.
_M = DistributionMirror
_COLUMNS = (_M.id, _M.name, _M.display_name, _M.distribution_id, _M.content,
            _M.status, _M.enabled, _M.owner_paused, _M.official_candidate,
            _M.owner_id, _M.country_id, _M.http_base_url, _M.https_base_url,
            _M.ftp_base_url, _M.rsync_base_url, _M.speed,
            _M._bandwidth_mbps, _M.date_created)


def summaries_where(store, *conditions):
    """[MirrorSummary] of the mirrors matching `conditions`, ordered by
    country name and then registration (the model's listing order)."""
    rows = list(store.find(_COLUMNS, _M.country_id == Country.id,
                           *conditions).order_by(Country.name, _M.id))
    places = _places(store)
    freshness = overall_freshness(store, [(row[0], row[4]) for row in rows])
    probes = _newest_probe_dates(store, [row[0] for row in rows])
    distributions = {d.id: d.name for d in store.find(Distribution)}
    owners = _owner_names(store, {row[9] for row in rows})
    summaries = []
    for (mirror_id, name, display_name, distribution_id, content, status,
         enabled, paused, candidate, owner_id, country_id, http, https, ftp,
         rsync, speed, bandwidth, created) in rows:
        country, continent = places[country_id]
        summaries.append(MirrorSummary(
            id=mirror_id, name=name, title=display_name or name,
            distribution=distributions[distribution_id], content=content,
            status=status, enabled=enabled, owner_paused=paused,
            official=candidate and status is MirrorStatus.OFFICIAL,
            owner=owners[owner_id], country_code=country.iso3166code2,
            country_name=country.name, continent_code=continent.code,
            continent_name=continent.name, http_url=http, https_url=https,
            ftp_url=ftp, rsync_url=rsync, speed=speed.title,
            bandwidth_mbps=bandwidth if bandwidth is not None
            else max(1, int(speed.mbps)),
            freshness=freshness[mirror_id], last_probe=probes.get(mirror_id),
            date_created=created))
    return summaries


def summarise(store, mirrors):
    """[MirrorSummary] of `mirrors` (model objects), in their order."""
    order = [mirror.id for mirror in mirrors]
    found = {summary.id: summary for start in range(0, len(order), 500)
             for summary in summaries_where(
                 store, _M.id.is_in(order[start:start + 500]))}
    return [found[mirror_id] for mirror_id in order]


def _newest_probe_dates(store, mirror_ids):
    record = MirrorProbeRecord
    found = {}
    for start in range(0, len(mirror_ids), 500):
        for mirror_id, date in store.find(
                (record.distribution_mirror_id, Max(record.date_created)),
                record.distribution_mirror_id.is_in(
                    mirror_ids[start:start + 500])).group_by(
                        record.distribution_mirror_id):
            found[mirror_id] = as_datetime(date)
    return found


def _owner_names(store, owner_ids):
    from mirrorkeeper.model.person import Person
    ids = list(owner_ids)
    names = {}
    for start in range(0, len(ids), 500):
        for person_id, name in store.find(
                (Person.id, Person.name),
                Person.id.is_in(ids[start:start + 500])):
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
            MirrorProbeRecord.id, MirrorProbeRecord.date_created))[
                :PROBE_HISTORY]
        taken = probelogs.durations(store, [rid for rid, _ in recent])
        probes = tuple(ProbeSummary(rid, date, taken.get(rid))
                       for rid, date in recent)
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
    newest = last_probes(store, mirror_ids)
    taken = probelogs.durations(store, [rid for rid, _ in newest.values()])
    return {mirror_id: (date, taken.get(record_id))
            for mirror_id, (record_id, date) in newest.items()}

