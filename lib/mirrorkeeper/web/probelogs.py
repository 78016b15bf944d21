"""What the web tells of probes besides their logs, read from what the
prober recorded: never from the log's text, which is for people.

How long a probe took is recorded with it (schema patch 0007; `mirrorkeeper
db upgrade` works it out once for older records).  What it found is in
rows (mirrorkeeper.model.probefindings): the places it checked, which the
probe log page lists, and why a mirror was disabled.
"""

import attrs

from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
from mirrorkeeper.model.probefindings import MirrorProbePlace

__all__ = ["FoundPlace", "durations", "places_found"]


def durations(store, record_ids):
    """{probe record id: seconds it took, or None when not recorded}."""
    record = MirrorProbeRecord
    found = {}
    record_ids = list(record_ids)
    for start in range(0, len(record_ids), 500):
        found.update(store.find(
            (record.id, record.duration_seconds),
            record.id.is_in(record_ids[start:start + 500])))
    return found


@attrs.frozen
class FoundPlace:
    """One place a probe checked, as a page shows it: `found` True, False
    or None (the network kept the probe from telling); `freshness` a
    MirrorFreshness or None; `lag_seconds` what a detector measured."""

    kind: str
    label: str
    found: bool | None
    freshness: object
    detector: str | None
    lag_seconds: int | None
    outcome: str | None


def places_found(store, record_id):
    """The FoundPlaces of the probe record `record_id`, in the order the
    probe checked them (none for a record written before the prober
    recorded them)."""
    place = MirrorProbePlace
    return tuple(FoundPlace(*row) for row in store.find(
        (place.kind, place.label, place.found, place.freshness,
         place.detector, place.lag_seconds, place.outcome),
        place.probe_record_id == record_id).order_by(place.id))
