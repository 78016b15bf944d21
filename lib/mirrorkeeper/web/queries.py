"""What the pages, feeds and API show, read from the database in bulk.

Each function runs inside a database thread (see transactor) and returns
plain values: frozen attrs classes, strings, enum items, datetimes.  What
state a mirror is in (freshness, official, listed, last probe...) is the
read model's to say (mirrorkeeper.model.mirrorstate): a listing of a
thousand mirrors costs its handful of queries, not a few per mirror.
"""

from datetime import datetime
from itertools import groupby

import attrs

from mirrorkeeper.enums import MirrorFreshness
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.model.country import Country
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
from mirrorkeeper.model.mirrorstate import (  # noqa: F401 (LISTINGS)
    LISTINGS, MirrorState, listing_conditions as _listing_conditions,
    states_of, states_where)
from mirrorkeeper.model.probefindings import (
    freshness_history, why_disabled)
from mirrorkeeper.web.probelogs import places_found

# How many probes a mirror's page lists.
PROBE_HISTORY = 50
# How many days of probes a mirror's freshness chart shows.
FRESHNESS_HISTORY_DAYS = 30

# One mirror as listings, feeds and the API show it: its state, as the
# read model computes it for every reader.
MirrorSummary = MirrorState

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


def summaries_where(store, *conditions):
    """[MirrorSummary] of the mirrors matching `conditions` (on
    DistributionMirror's columns), ordered by country name and then
    registration."""
    return states_where(store, *conditions)


def summarise(store, mirrors):
    """[MirrorSummary] of `mirrors` (model objects), in their order."""
    found = states_of(store, [mirror.id for mirror in mirrors])
    return [found[mirror.id] for mirror in mirrors]


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


def listing_conditions(distribution, kind):
    """The conditions of one of LISTINGS (the read model's) for the
    mirrors of `distribution`."""
    return _listing_conditions(kind, _M.distribution_id == distribution.id)


def listing(store, distribution, kind, kept):
    """[MirrorSummary] of one of LISTINGS, ordered by country, from
    `kept` (the read model's KeptStates)."""
    if kind not in LISTINGS:
        raise NotFoundError("no listing is called %r" % (kind,))
    name = distribution.name
    return kept.where(store, lambda state: state.distribution == name
                      and kind in state.lists)


def country_exists(store, code):
    """Whether `code` is a country's ISO 3166 alpha-2 code."""
    return not store.find(Country, Country.iso3166code2 == code).is_empty()


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
    # Why the mirror is disabled, the prober's sentences from its last
    # probe (to those who may read its logs).
    why_disabled: tuple = ()
    # ((date, MirrorFreshness), ...) of its probes of the last
    # FRESHNESS_HISTORY_DAYS, oldest first.
    freshness_history: tuple = ()
    # The site (model.site) that runs it: (name, display name), or None.
    site: tuple | None = None


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
        probes = tuple(ProbeSummary(rid, date, taken)
                       for rid, date, taken in recent)
    why = ()
    if "logs" in permissions and not mirror.enabled:
        why = why_disabled(store, [mirror]).get(mirror.id, ())
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
        permissions=frozenset(permissions), why_disabled=why,
        freshness_history=freshness_history(
            store, [mirror.id], FRESHNESS_HISTORY_DAYS)[mirror.id],
        site=(mirror.site.name, mirror.site.display_name)
        if mirror.site is not None else None)


@attrs.frozen
class ProbeLog:
    mirror: str
    title: str
    id: int
    date: datetime
    log: str
    # What the probe found, place by place (probelogs.FoundPlace).
    places: tuple = ()


def probe_log(store, who, mirror, record_id):
    """The full log of one probe of `mirror`, if `who` may read it."""
    who.require(who.may_see_logs(mirror), "read this mirror's probe logs")
    record = store.find(
        MirrorProbeRecord, MirrorProbeRecord.id == record_id,
        MirrorProbeRecord.distribution_mirror_id == mirror.id).one()
    if record is None:
        raise NotFoundError("%s has no probe %r" % (mirror.name, record_id))
    return ProbeLog(mirror.name, mirror.title, record.id,
                    record.date_created, record.log,
                    places_found(store, record.id))
