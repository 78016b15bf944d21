"""Reading what a probe log says: when the probe ran, how long it took,
and which content it found at which freshness.

The prober (mirrorkeeper.prober.run) writes one line per event, each
starting with an ISO 8601 UTC timestamp with milliseconds:

    2025-01-05T10:00:00.000Z Probing valid-mirror (Archive) at http://...
    2025-01-05T10:00:00.120Z Carries warty/i386 main RELEASE: UP
    2025-01-05T10:00:00.150Z Carries warty source main RELEASE: ONEDAYBEHIND
    2025-01-05T10:00:01.300Z Done: 12 requests

The database keeps the log as text; the web reads durations and past
freshness back from it rather than adding columns the prober would have
to fill.
"""

import re
from datetime import datetime

from storm.expr import Func

from mirrorkeeper.enums import MirrorFreshness, PackagePublishingPocket
from mirrorkeeper.freshness import overall_freshness
from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord

_TIMESTAMP = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z"
_FIRST = re.compile(r"^" + _TIMESTAMP + " ")
_ANY = re.compile(r"^" + _TIMESTAMP + " ", re.MULTILINE)
_CARRIES = re.compile(
    r"^\S+ Carries (?P<series>[^\s/]+)(?:/\S+)? (?:source )?"
    r"(?P<component>\S+) (?P<pocket>[A-Z]+): (?P<freshness>[A-Z]+)$",
    re.MULTILINE)

# How much of a log's end holds its last line's timestamp, in characters.
TAIL = 160


def _parse(text):
    return datetime.fromisoformat(text)


def duration(head, tail):
    """Seconds between the first line's timestamp (in `head`, the log's
    start) and the last one's (in `tail`, its end), or None if the log
    does not have them."""
    first = _FIRST.match(head or "")
    last = _ANY.findall(tail or "")
    if first is None or not last:
        return None
    seconds = (_parse(last[-1]) - _parse(first.group(1))).total_seconds()
    return seconds if seconds >= 0 else None


def durations(store, record_ids):
    """{probe record id: seconds or None}, reading only each log's ends."""
    record = MirrorProbeRecord
    # Where the tail starts: max(length - TAIL, 0) + 1, written with abs()
    # because the two backends spell max() differently, and SQLite reads
    # a negative start as counting from the end.
    over = Func("length", record.log) - TAIL
    tail_start = (over + Func("abs", over)) / 2 + 1
    found = {}
    record_ids = list(record_ids)
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start:start + 500]
        for record_id, head, tail in store.find(
                (record.id, Func("substr", record.log, 1, 40),
                 Func("substr", record.log, tail_start)),
                record.id.is_in(chunk)):
            found[record_id] = duration(head, tail)
    return found


def freshness_by_series_pocket(log):
    """{(series name, PackagePublishingPocket): MirrorFreshness} of what a
    probe found: for each series and pocket, the worst known freshness of
    its architectures, sources and components (UNKNOWN if none known)."""
    found = {}
    for match in _CARRIES.finditer(log):
        try:
            pocket = PackagePublishingPocket[match.group("pocket")]
            freshness = MirrorFreshness[match.group("freshness")]
        except KeyError:
            continue
        found.setdefault((match.group("series"), pocket), []).append(
            freshness)
    return {place: overall_freshness(bands) for place, bands in found.items()}
