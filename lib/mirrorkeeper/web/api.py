"""The JSON API, version 1: what each endpoint answers, as JSON values.

    GET /api/1/                     these endpoints, a line each
    GET /api/1/distributions        every distribution and its mirror counts
    GET /api/1/mirrors              mirrors, filtered by ?distribution=,
                                    ?country= (alpha-2), ?content= (archive,
                                    release), ?status= (pending-review,
                                    unofficial, official, broken),
                                    ?freshness= (up ... unknown), ?enabled=
                                    (true, false)
    GET /api/1/mirrors/NAME         one mirror: details, records, last probe
                                    (a date, as everywhere) and how long it
                                    took
    GET /api/1/status               every mirror's freshness, lag in seconds
                                    and last probe, with totals
                                    (mirrorchecker's GET endpoints),
                                    ?distribution= or ?mirror= to narrow it
    GET /api/1/sites                every site (the organisation that runs
                                    mirrors, model.site) and its mirrors'
                                    names

Each mirror is written by mirrorkeeper.mirrorjson.mirror_json from its
state in the read model (mirrorkeeper.model.mirrorstate), as `mirrorkeeper
mirror list --json` and `mirror show --json` write it (the latter adding
what only admins read): enum values spelt as the command line spells them
('pending-review', 'onedaybehind'), times in ISO 8601 UTC.  Probe logs are
not part of the API: they are for the mirror's owner and the admins, on
the mirror's page.

The functions here run in a database thread and return plain values.
The site keeps what status() answers for a few seconds (see answers):
its "generated" is when it was computed.
"""

from collections import Counter

from mirrorkeeper.enums import MirrorContent, MirrorFreshness, MirrorStatus
from mirrorkeeper.errors import InvalidValueError, NotFoundError
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, DistributionMirrorSet)
from mirrorkeeper.model.site import Site
from mirrorkeeper.mirrorjson import enum_label, json_date, mirror_json
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.web import queries

VERSION = 1

# What /api/1/ answers: each endpoint with a line about it.
ENDPOINTS = [
    ("/api/1/distributions", "every distribution and its mirror counts"),
    ("/api/1/mirrors", "mirrors, filtered by ?distribution=, ?country=, "
     "?content=, ?status=, ?freshness=, ?enabled="),
    ("/api/1/mirrors/NAME", "one mirror: details, records, last probe"),
    ("/api/1/status", "every mirror's freshness, lag and last probe, with "
     "totals; ?distribution= or ?mirror= to narrow it"),
    ("/api/1/sites", "every site and its mirrors' names"),
]


# The fields of each mirror in /api/1/status, as mirror_json writes them.
STATUS_FIELDS = ("name", "distribution", "site", "content", "status",
                 "listed", "enabled", "owner_paused", "unreachable",
                 "freshness", "lag_seconds", "last_probe",
                 "last_probe_duration_seconds")


def index(store=None):
    """The endpoints of this version of the API."""
    return {"api_version": VERSION,
            "endpoints": [{"path": path, "description": description}
                          for path, description in ENDPOINTS]}


def distributions(store):
    result = []
    for distribution in DistributionSet(store):
        mirrors = distribution.mirrors
        result.append({
            "name": distribution.name,
            "display_name": distribution.display_name,
            "title": distribution.title,
            "supports_mirrors": distribution.supports_mirrors,
            "mirrors": len(mirrors),
            "archive_mirrors": len(distribution.archive_mirrors),
            "cdimage_mirrors": len(distribution.cdimage_mirrors),
        })
    return {"api_version": VERSION, "distributions": result}


def sites(store):
    """Every site by name, with the names of the mirrors it runs, in two
    queries whatever their number."""
    names = {}
    for site_id, name in store.find(
            (DistributionMirror.site_id, DistributionMirror.name),
            DistributionMirror.site_id != None).order_by(  # noqa: E711
                DistributionMirror.name):
        names.setdefault(site_id, []).append(name)
    return {"api_version": VERSION, "sites": [{
        "name": site.name, "display_name": site.display_name,
        "web_url": site.web_url, "mirrors": names.get(site.id, [])}
        for site in store.find(Site).order_by(Site.name)]}


def _parse_filter(enum_class, text, name):
    try:
        return enum_class.by_name(text.strip())
    except ValueError:
        raise InvalidValueError("invalid %s %r: choose one of %s" % (
            name, text, ", ".join(enum_label(item) for item in enum_class))
        ) from None


def _distribution_condition(store, filters):
    if not filters.get("distribution"):
        return []
    distribution = queries.get_distribution(store, filters["distribution"])
    return [DistributionMirror.distribution_id == distribution.id]


def mirrors(store, filters):
    """{"mirrors": [...]} of the mirrors matching `filters` ({name:
    text} from the query string)."""
    mirror = DistributionMirror
    conditions = _distribution_condition(store, filters)
    if filters.get("country"):
        try:
            country = CountrySet(store)[filters["country"].strip()]
        except NotFoundError:
            raise InvalidValueError("invalid country %r: give an ISO 3166 "
                                    "alpha-2 code" % (filters["country"],)
                                    ) from None
        conditions.append(mirror.country_id == country.id)
    if filters.get("content"):
        conditions.append(mirror.content == _parse_filter(
            MirrorContent, filters["content"], "content"))
    if filters.get("status"):
        conditions.append(mirror.status == _parse_filter(
            MirrorStatus, filters["status"], "status"))
    if filters.get("enabled"):
        wanted = filters["enabled"].strip().lower()
        if wanted not in ("true", "false"):
            raise InvalidValueError("invalid enabled %r: give true or false"
                                    % (filters["enabled"],))
        conditions.append(mirror.enabled == (wanted == "true"))
    summaries = sorted(queries.summaries_where(store, *conditions),
                       key=lambda summary: summary.name)
    if filters.get("freshness"):
        freshness = _parse_filter(MirrorFreshness, filters["freshness"],
                                  "freshness")
        summaries = [s for s in summaries if s.freshness is freshness]
    return {"api_version": VERSION,
            "mirrors": [mirror_json(s) for s in summaries]}


def mirror(store, name):
    """One mirror, with its content records and last probe."""
    model = DistributionMirrorSet(store)[name]
    (summary,) = queries.summarise(store, [model])
    return {"api_version": VERSION, "mirror": mirror_json(summary, model)}


def status(store, filters, kept):
    """The overall status of every mirror: freshness, whether listed,
    last probe and how long it took, and totals by freshness; the states
    from `kept` (the read model's KeptStates)."""
    distribution = filters.get("distribution")
    if distribution:
        distribution = queries.get_distribution(store, distribution).name
    name = filters.get("mirror")
    summaries = sorted(kept.where(store, lambda state: (
        not distribution or state.distribution == distribution) and (
        not name or state.name == name)), key=lambda summary: summary.name)
    if filters.get("mirror") and not summaries:
        raise NotFoundError("no mirror is called %r" % (filters["mirror"],))
    entries = [mirror_json(summary, fields=STATUS_FIELDS)
               for summary in summaries]
    totals = Counter(entry["freshness"] for entry in entries)
    return {"api_version": VERSION, "generated": json_date(utcnow()),
            "mirrors": entries,
            "totals": {enum_label(band): totals.get(enum_label(band), 0)
                       for band in MirrorFreshness}}
