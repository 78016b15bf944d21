"""What a probe log page tells besides the log: what the probe found,
place by place, read from the rows the prober recorded
(mirrorkeeper.model.probefindings), never from the log's text, which is
for people.  (How long a probe took is recorded with it too: schema
patch 0007, and `mirrorkeeper db upgrade` works it out once for older
records.)
"""

import attrs

from mirrorkeeper.model.probefindings import MirrorProbePlace

__all__ = ["FoundPlace", "places_found"]


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
