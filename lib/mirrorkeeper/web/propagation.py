"""How far each series and pocket has reached the mirrors: now, and on
each of the last days.

"Now" comes from the content records (what the last probe of each mirror
found).  The days before come from what each probe found, as rows
(mirrorkeeper.model.probefindings.series_freshness): for each day, the
newest probe of each mirror up to that moment.  A mirror not probed in
the two days before a moment counts as UNKNOWN then.  A past day never
changes, so what a probe found is kept in memory, by probe record id, for
as long as the PropagationCache lives (the web process).

Both count the distribution's enabled, official archive mirrors of today:
a chart of the mirrors people are offered, not of every mirror that ever
was.  When those mirrors are in more than one tier (mirrorkeeper.model.
tiers.tiers_of: 1 pulls from the master, 2 from a tier-1 mirror ...),
each pocket's counts are also split by tier, now and on each day, from
the same per-mirror findings: the tiers cost one query per request.
"""

import threading
from collections import Counter
from datetime import timedelta

import attrs

from mirrorkeeper.enums import MirrorFreshness, POCKET_ORDER, ProbeRecordState
from mirrorkeeper.freshness import overall_freshness
from mirrorkeeper.model.distroseries import DistroArchSeries
from mirrorkeeper.model.mirrorcontent import (
    MirrorDistroArchSeries, MirrorDistroSeriesSource, MirrorProbeRecord)
from mirrorkeeper.model.probefindings import series_freshness
from mirrorkeeper.model.tiers import tiers_of
from mirrorkeeper.timeutil import utcnow

# A probe older than this before a moment says nothing about that moment:
# the prober runs daily, so a mirror missing two runs is not known.
STALE_AFTER = timedelta(days=2)


@attrs.frozen
class TierPropagation:
    tier: int                 # 1: pulls from the master
    now: dict                 # {MirrorFreshness: mirrors}
    history: tuple            # ((moment, {MirrorFreshness: mirrors}), ...)


@attrs.frozen
class PocketPropagation:
    pocket: str
    now: dict                 # {MirrorFreshness: mirrors}
    history: tuple            # ((moment, {MirrorFreshness: mirrors}), ...)
    # (TierPropagation, ...) by tier, adding up to `now` and `history`;
    # empty when every counted mirror is in one tier.
    tiers: tuple = ()


@attrs.frozen
class SeriesPropagation:
    name: str
    version: str
    pockets: tuple


@attrs.frozen
class Propagation:
    distribution: str
    title: str
    mirror_count: int
    days: int
    series: tuple
    tiers: int = 1            # how many tiers the counted mirrors are in


class PropagationCache:
    """What each probe found, by record id: {(series id, pocket):
    freshness}.  Shared by the database threads, hence the lock."""

    def __init__(self, limit=200000):
        self._lock = threading.Lock()
        self._found = {}
        self.limit = limit

    def get(self, record_id):
        with self._lock:
            return self._found.get(record_id)

    def put(self, record_id, found):
        with self._lock:
            if len(self._found) >= self.limit:
                self._found.clear()
            self._found[record_id] = found


def _now_by_mirror(store, mirror_ids):
    """{mirror id: {(series id, pocket): freshness}} from the records."""
    places = {}
    for start in range(0, len(mirror_ids), 500):
        chunk = mirror_ids[start:start + 500]
        binary, source = MirrorDistroArchSeries, MirrorDistroSeriesSource
        rows = list(store.find(
            (binary.distribution_mirror_id, DistroArchSeries.distro_series_id,
             binary.pocket, binary.freshness),
            binary.distro_arch_series_id == DistroArchSeries.id,
            binary.distribution_mirror_id.is_in(chunk)))
        rows += list(store.find(
            (source.distribution_mirror_id, source.distro_series_id,
             source.pocket, source.freshness),
            source.distribution_mirror_id.is_in(chunk)))
        for mirror_id, series_id, pocket, freshness in rows:
            places.setdefault(mirror_id, {}).setdefault(
                (series_id, pocket), []).append(freshness)
    return {mirror_id: {place: overall_freshness(bands)
                        for place, bands in found.items()}
            for mirror_id, found in places.items()}


def _count(per_mirror, mirror_ids, place):
    counts = Counter()
    for mirror_id in mirror_ids:
        counts[per_mirror.get(mirror_id, {}).get(
            place, MirrorFreshness.UNKNOWN)] += 1
    return dict(counts)


def _moments(now, days):
    return [now - timedelta(days=day) for day in range(days, 0, -1)]


def _history_by_mirror(store, mirror_ids, moments, cache):
    """{moment: {mirror id: {(series id, pocket): freshness}}}."""
    if not moments:
        return {}
    record = MirrorProbeRecord
    probes = {}
    for start in range(0, len(mirror_ids), 500):
        for row in store.find(
                (record.distribution_mirror_id, record.date_created,
                 record.id),
                record.distribution_mirror_id.is_in(
                    mirror_ids[start:start + 500]),
                record.date_created > moments[0] - STALE_AFTER,
                record.date_created <= moments[-1],
                # What a distrusted or abandoned run found never took
                # effect: it says nothing of the mirror.
                record.state == ProbeRecordState.APPLIED):
            probes.setdefault(row[0], []).append(row[1:])
    chosen = {}
    for moment in moments:
        chosen[moment] = {}
        for mirror_id, found in probes.items():
            before = [(date, rid) for date, rid in found
                      if moment - STALE_AFTER < date <= moment]
            if before:
                chosen[moment][mirror_id] = max(before)[1]
    wanted = {rid for per in chosen.values() for rid in per.values()
              if cache.get(rid) is None}
    for rid, found in series_freshness(store, sorted(wanted)).items():
        cache.put(rid, found)
    return {moment: {mirror_id: cache.get(rid) or {}
                     for mirror_id, rid in per.items()}
            for moment, per in chosen.items()}


def propagation(store, distribution, days=7, cache=None, now=None):
    """The Propagation of `distribution`'s series over its mirrors."""
    cache = cache if cache is not None else PropagationCache()
    now = now or utcnow()
    mirror_ids = [mirror.id for mirror in distribution.archive_mirrors]
    current = _now_by_mirror(store, mirror_ids)
    moments = _moments(now, days)
    history = _history_by_mirror(store, mirror_ids, moments, cache)
    tier_of = tiers_of(store, distribution)
    by_tier = {}
    for mirror_id in mirror_ids:
        by_tier.setdefault(tier_of.get(mirror_id, 1), []).append(mirror_id)
    split = sorted(by_tier.items()) if len(by_tier) > 1 else []

    def tally(ids, place):
        return (_count(current, ids, place),
                tuple((moment, _count(history[moment], ids, place))
                      for moment in moments))
    series_list = []
    for series in distribution.series:
        pockets = []
        for pocket in POCKET_ORDER:
            now_counts, past = tally(mirror_ids, (series.id, pocket))
            known = sum(count for band, count in now_counts.items()
                        if band is not MirrorFreshness.UNKNOWN)
            known += sum(count for _, counts in past
                         for band, count in counts.items()
                         if band is not MirrorFreshness.UNKNOWN)
            if known:
                tiers = tuple(
                    TierPropagation(tier, *tally(ids, (series.id, pocket)))
                    for tier, ids in split)
                pockets.append(PocketPropagation(pocket.title, now_counts,
                                                 past, tiers))
        if pockets:
            series_list.append(SeriesPropagation(series.name, series.version,
                                                 tuple(pockets)))
    return Propagation(distribution.name, distribution.title,
                       len(mirror_ids), days, tuple(series_list),
                       max(len(by_tier), 1))
