"""What each probe found, as rows: the places it checked and how its
requests ended.

The recording step (mirrorkeeper.prober.record) writes them with the
probe record, in the same transaction, from the findings it already holds
(`write_findings`); the readers below answer for many records or mirrors
at once, a few queries whatever their number.  Nothing reads a probe's log
back: the log is for people.

- `series_freshness`: for each record, how fresh each series and pocket
  was found (the propagation page's past days).
- `freshness_history`: each mirror's freshness at each of its probes over
  the last days.
- `why_disabled`: why a mirror is disabled, in sentences, from its last
  probe's rows (the owner's mail and the mirror's page).
- `control_file_copies`: the SHA-256 of each mirror's copies of the
  master's control files, as its last applied probe saw them (the
  snapshot's consistency rule).
"""

from collections import defaultdict
from datetime import timedelta

from storm.expr import Max, Select
from storm.locals import Bool, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.database.bulk import insert_rows
from mirrorkeeper.enums import (
    MirrorFreshness, PackagePublishingPocket, ProbeRecordState)
from mirrorkeeper.freshness import overall_freshness
from mirrorkeeper.interfaces.probefindings import (
    IMirrorProbeOutcome, IMirrorProbePlace, IMirrorProbeResult)
from mirrorkeeper.model.base import EnumCol
from mirrorkeeper.model.distroseries import DistroArchSeries
from mirrorkeeper.model.mirrorcontent import MirrorProbeRecord
from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.timeutil import utcnow

__all__ = ["MirrorProbeOutcome", "MirrorProbePlace", "MirrorProbeResult",
           "control_file_copies", "freshness_history", "has_findings",
           "read_findings", "read_findings_of", "series_freshness",
           "why_disabled", "why_disabled_by_record", "write_findings"]

# The kinds of place a probe checks (mirror_probe_place.kind); a
# 'release' row is a mirror's copy of a suite's InRelease or Release (or
# of a repomd.xml no detector fetched), with its SHA-256.
CONTENT_KINDS = ("binary", "source")
PLACE_KINDS = CONTENT_KINDS + ("cdimage", "detector", "release")

# Ids per IN (...) list: well under what either backend takes in one
# statement.
_CHUNK = 500


@implementer(IMirrorProbeResult)
class MirrorProbeResult(Storm):
    """What one probe came to as a whole."""

    __storm_table__ = "mirror_probe_result"

    probe_record_id = Int(name="probe_record", primary=True)
    probe_record = Reference(probe_record_id, "MirrorProbeRecord.id")
    requests = Int(allow_none=False)
    unreachable = Bool(allow_none=False)
    lies = Unicode()
    base_url = Unicode()


@implementer(IMirrorProbeOutcome)
class MirrorProbeOutcome(Storm):
    """How many of a probe's requests ended with one ProbeOutcome."""

    __storm_table__ = "mirror_probe_outcome"
    __storm_primary__ = "probe_record_id", "outcome"

    probe_record_id = Int(name="probe_record")
    outcome = Unicode()
    requests = Int(allow_none=False)


@implementer(IMirrorProbePlace)
class MirrorProbePlace(Storm):
    """One place a probe checked: an index file of the archive, a series'
    CD images, or a file a freshness detector fetched."""

    __storm_table__ = "mirror_probe_place"

    id = Int(primary=True)
    probe_record_id = Int(name="probe_record", allow_none=False)
    probe_record = Reference(probe_record_id, "MirrorProbeRecord.id")
    kind = Unicode(allow_none=False)
    distro_series_id = Int(name="distro_series")
    distro_arch_series_id = Int(name="distro_arch_series")
    pocket = EnumCol(enum=PackagePublishingPocket)
    component_id = Int(name="component")
    flavour = Unicode()
    rpm_repository_id = Int(name="rpm_repository")
    label = Unicode(allow_none=False)
    url = Unicode()
    found = Bool()
    freshness = EnumCol(enum=MirrorFreshness)
    detector = Unicode()
    lag_seconds = Int()
    outcome = Unicode()
    images = Int()
    missing = Int()
    syncing = Bool()
    note = Unicode()
    sha256 = Unicode()

    def __repr__(self):
        return "<MirrorProbePlace %s %s %s>" % (
            self.probe_record_id, self.kind, self.label)


# Writing.

_PLACE_COLUMNS = (
    "probe_record", "kind", "distro_series", "distro_arch_series", "pocket",
    "component", "flavour", "rpm_repository", "label", "url", "found",
    "freshness", "detector", "lag_seconds", "outcome", "images", "missing",
    "syncing", "note", "sha256")


def _place_rows(record_id, findings):
    """The mirror_probe_place rows of `findings`, as tuples in the order
    of _PLACE_COLUMNS."""
    for finding in findings.get("content", ()):
        binary = finding["kind"] == "binary"
        yield (record_id, finding["kind"],
               None if binary else finding["place"],
               finding["place"] if binary else None,
               finding["pocket"], finding["component"], None, None,
               finding["label"], finding["url"], finding["found"],
               finding["freshness"], finding.get("detector"), None,
               finding["outcome"], None, None, None, None, None)
    for finding in findings.get("cdimages", ()):
        yield (record_id, "cdimage", finding["series"], None, None, None,
               finding["flavour"], None,
               "%s images" % (finding["flavour"],), None, finding["found"],
               None, None, None, None, finding["images"], finding["missing"],
               None, None, None)
    for finding in findings.get("detectors", ()):
        found = finding["found"] if finding["observed"] else None
        yield (record_id, "detector", None, None, None, None, None,
               finding["rpm_repository"], finding["label"], None, found,
               finding["freshness"], finding["detector"],
               finding["lag_seconds"], None, None, None, finding["syncing"],
               finding["note"],
               finding.get("sha256") if finding["observed"] else None)
    for finding in findings.get("releases", ()):
        yield (record_id, "release", None, None, None, None, None, None,
               finding["label"], finding["url"], finding["found"], None,
               None, None, finding["outcome"], None, None, None,
               finding["note"], finding["sha256"])


def write_findings(store, record_id, findings):
    """Write the rows of what the probe record `record_id` found:
    `findings` is the record's findings as plain values (the form
    mirrorkeeper.prober.record.findings_of makes, the one its findings
    JSON holds).  Does not commit: the rows go in the transaction of the
    record."""
    store.execute(
        "INSERT INTO mirror_probe_result (probe_record, requests, "
        "unreachable, lies, base_url) VALUES (?, ?, ?, ?, ?)",
        (record_id, findings["requests"], bool(findings["unreachable"]),
         findings["lies"] or None, findings.get("base_url") or None),
        noresult=True)
    insert_rows(store, "mirror_probe_outcome",
                ("probe_record", "outcome", "requests"),
                [(record_id, outcome, count) for outcome, count in
                 sorted(findings["outcomes"].items())])
    insert_rows(store, "mirror_probe_place", _PLACE_COLUMNS,
                list(_place_rows(record_id, findings)))


def read_findings(store, record_id):
    """What the probe record `record_id` found, from its rows, in the form
    `write_findings` takes (its "content", "cdimages" and "detectors",
    and how its requests ended), or None if it has no rows.  Applying a
    record reads it so: the per-place lists are stored once, as rows."""
    return read_findings_of(store, [record_id]).get(record_id)


def read_findings_of(store, record_ids):
    """{record id: what it found, as read_findings says} of those of the
    probe records `record_ids` that have rows: three queries for a few
    hundred records."""
    found = {}
    record_ids = list(record_ids)
    for chunk in _chunks(record_ids):
        marks = ", ".join("?" * len(chunk))
        for record_id, requests, unreachable, lies, base_url in \
                store.execute(
                    "SELECT probe_record, requests, unreachable, lies, "
                    "base_url FROM mirror_probe_result WHERE probe_record "
                    "IN (%s)" % (marks,), chunk):
            found[record_id] = {
                "requests": requests, "unreachable": bool(unreachable),
                "lies": lies or "", "base_url": base_url or "",
                "outcomes": {}, "content": [], "cdimages": [],
                "detectors": []}
        for record_id, outcome, requests in store.execute(
                "SELECT probe_record, outcome, requests FROM "
                "mirror_probe_outcome WHERE probe_record IN (%s)"
                % (marks,), chunk):
            if record_id in found:
                found[record_id]["outcomes"][outcome] = requests
        for (record_id, kind, series_id, arch_series_id, pocket,
             component_id, flavour, repository_id, label, url, carried,
             freshness, detector, lag_seconds, outcome, images, missing,
             syncing, note) in store.execute(
                "SELECT probe_record, kind, distro_series, "
                "distro_arch_series, pocket, component, flavour, "
                "rpm_repository, label, url, found, freshness, detector, "
                "lag_seconds, outcome, images, missing, syncing, note "
                "FROM mirror_probe_place WHERE probe_record IN (%s) "
                "ORDER BY id" % (marks,), chunk):
            if record_id not in found:
                continue
            record = found[record_id]
            carried = None if carried is None else bool(carried)
            if kind in CONTENT_KINDS:
                record["content"].append({
                    "kind": kind, "pocket": pocket,
                    "component": component_id,
                    "place": (arch_series_id if kind == "binary"
                              else series_id),
                    "label": label, "url": url, "found": carried,
                    "freshness": freshness, "detector": detector,
                    "outcome": outcome})
            elif kind == "cdimage":
                record["cdimages"].append({
                    "series": series_id, "flavour": flavour,
                    "found": carried, "images": images, "missing": missing})
            elif kind == "detector":
                # found is NULL for a file the network kept the probe
                # from.
                record["detectors"].append({
                    "detector": detector, "label": label,
                    "freshness": freshness, "lag_seconds": lag_seconds,
                    "syncing": None if syncing is None else bool(syncing),
                    "note": note, "found": bool(carried),
                    "observed": carried is not None,
                    "rpm_repository": repository_id})
    return found


def has_findings(store, record_id):
    """Whether the rows of what the record `record_id` found are written
    (records from before schema patch 0013 have none until made from
    their findings JSON)."""
    return store.get(MirrorProbeResult, record_id) is not None


# Reading.

def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def series_freshness(store, record_ids):
    """{probe record id: {(series id, PackagePublishingPocket):
    MirrorFreshness}} of what each record found carried: for each series
    and pocket, the worst known freshness of its architectures, sources
    and components (UNKNOWN if none is known).  A record that found
    nothing carried maps to {}."""
    place = MirrorProbePlace
    bands = defaultdict(lambda: defaultdict(list))
    for chunk in _chunks(record_ids):
        rows = list(store.find(
            (place.probe_record_id, DistroArchSeries.distro_series_id,
             place.pocket, place.freshness),
            place.distro_arch_series_id == DistroArchSeries.id,
            place.kind == "binary", place.found == True,  # noqa: E712
            place.probe_record_id.is_in(chunk)))
        rows += list(store.find(
            (place.probe_record_id, place.distro_series_id, place.pocket,
             place.freshness),
            place.kind == "source", place.found == True,  # noqa: E712
            place.probe_record_id.is_in(chunk)))
        for record_id, series_id, pocket, freshness in rows:
            bands[record_id][(series_id, pocket)].append(freshness)
    return {record_id: {
        where: overall_freshness(found)
        for where, found in bands.get(record_id, {}).items()}
        for record_id in record_ids}


def freshness_history(store, mirror_ids, days=30, now=None):
    """{mirror id: ((date, MirrorFreshness), ...)}: each mirror's
    freshness at each of its probes of the last `days` days whose findings
    took effect, oldest first.  A probe's freshness is the worst known of
    the places it found carried (index files, and the files freshness
    detectors judged: CD images tell none); UNKNOWN when it knew none, so
    a probe of an unreachable mirror says UNKNOWN."""
    now = now or utcnow()
    record, place = MirrorProbeRecord, MirrorProbePlace
    history = {mirror_id: [] for mirror_id in mirror_ids}
    for chunk in _chunks(mirror_ids):
        probes = list(store.find(
            (record.distribution_mirror_id, record.id, record.date_created),
            record.distribution_mirror_id.is_in(chunk),
            record.date_created > now - timedelta(days=days),
            record.date_created <= now,
            # What a distrusted or abandoned run found never took effect.
            record.state == ProbeRecordState.APPLIED))
        bands = defaultdict(list)
        for record_id, freshness in store.find(
                (place.probe_record_id, place.freshness),
                place.probe_record_id == record.id,
                record.distribution_mirror_id.is_in(chunk),
                record.date_created > now - timedelta(days=days),
                record.date_created <= now,
                record.state == ProbeRecordState.APPLIED,
                place.kind.is_in(CONTENT_KINDS + ("detector",)),
                place.found == True,  # noqa: E712
                place.freshness != None):  # noqa: E711
            bands[record_id].append(freshness)
        for mirror_id, record_id, date in probes:
            history[mirror_id].append(
                (date, record_id, overall_freshness(bands[record_id])))
    return {mirror_id: tuple((date, freshness) for date, _, freshness in
                             sorted(probes))
            for mirror_id, probes in history.items()}


def _outcome_words(value):
    try:
        return ProbeOutcome(value).message.rstrip(".").lower()
    except ValueError:
        return value


def _unreachable_sentence(outcomes, runs):
    outcomes = sorted(outcomes, key=lambda item: (-item[1], item[0]))
    how = "; ".join("%s (%d requests)" % (_outcome_words(outcome), count)
                    for outcome, count in outcomes[:3])
    return ("The mirror could not be reached in %d consecutive probe runs; "
            "in the last one, every request failed: %s." % (runs, how))


def _lies_sentence(url):
    return ("The mirror answered 200 (found) for %s, a file that cannot "
            "exist. A server that answers every path so proves nothing by "
            "its answers, so it is taken to carry nothing." % (url,))


def _missing_sentences(places):
    """Why a mirror that answered was found carrying nothing, from its
    probe's places in the order they were checked."""
    content = [p for p in places if p.kind in CONTENT_KINDS]
    if content:
        by_outcome = {}
        for found in content:
            by_outcome.setdefault(found.outcome, []).append(found.url)
        sentences = ["None of the %d index files probed (Packages.gz and "
                     "Sources.gz of each place the mirror should carry) is "
                     "there." % (len(content),)]
        for outcome, urls in sorted(by_outcome.items(),
                                    key=lambda item: -len(item[1])):
            sentences.append("%d answered: %s, for example %s." % (
                len(urls), _outcome_words(outcome), urls[0]))
        return tuple(sentences)
    images = [p for p in places if p.kind == "cdimage"]
    if images:
        missing = sum(image.missing for image in images)
        total = sum(image.images for image in images)
        return ("%d of the %d CD images it should carry are missing."
                % (missing, total),)
    return ("The probe found none of the content the mirror is expected "
            "to carry.",)


def _sentences(store, record_ids, runs_by_record, only_wanting=False):
    """{record id: sentences} for the records with rows; `only_wanting`:
    only those that found their mirror wanting (unreachable, lying, or
    lacking what it should carry)."""
    results = {}
    for chunk in _chunks(record_ids):
        results.update((result.probe_record_id, result) for result in
                       store.find(MirrorProbeResult,
                                  MirrorProbeResult.probe_record_id.is_in(
                                      chunk)))
    unreachable = [rid for rid, result in results.items()
                   if result.unreachable]
    judged = [rid for rid, result in results.items()
              if not result.unreachable and not result.lies]
    outcomes, places = defaultdict(list), defaultdict(list)
    for chunk in _chunks(unreachable):
        for row in store.find(MirrorProbeOutcome,
                              MirrorProbeOutcome.probe_record_id.is_in(
                                  chunk)):
            outcomes[row.probe_record_id].append((row.outcome, row.requests))
    for chunk in _chunks(judged):
        for row in store.find(
                MirrorProbePlace,
                MirrorProbePlace.probe_record_id.is_in(chunk)).order_by(
                    MirrorProbePlace.id):
            places[row.probe_record_id].append(row)
    why = {}
    for record_id, result in results.items():
        if result.unreachable:
            why[record_id] = (_unreachable_sentence(
                outcomes[record_id], runs_by_record[record_id]),)
        elif result.lies:
            why[record_id] = (_lies_sentence(result.lies),)
        elif not only_wanting or _wanting(places[record_id]):
            why[record_id] = _missing_sentences(places[record_id])
        # Else the probe found what it looked for: it is not why the
        # mirror is off.
    return why


def _wanting(places):
    """Whether a probe that answered found its mirror wanting, as the
    prober judges it: a CD image mirror lacking images, another carrying
    nothing (no index file, CD image or RPM repository)."""
    images = [place for place in places if place.kind == "cdimage"]
    if images and not any(place.kind in CONTENT_KINDS for place in places):
        return any(place.found is False for place in images)
    return not any(place.found and place.kind != "release" and (
        place.kind != "detector" or place.rpm_repository_id is not None)
        for place in places)


def why_disabled_by_record(store, record_id, runs):
    """Why the probe record `record_id` disables its mirror, in sentences
    for its owner, from the record's rows; `runs` is how many runs in a
    row the mirror could not be reached (it counts when the record found
    it so).  () when the record has no rows."""
    return _sentences(store, [record_id], {record_id: runs}).get(
        record_id, ())


def why_disabled(store, mirrors):
    """{mirror id: sentences}: why each of `mirrors` (disabled ones, as a
    rule) was found wanting by its last probe whose findings took effect,
    from that probe's rows.  A mirror with no such probe, whose last probe
    has no rows (written before schema patch 0008: it has no findings), or
    whose last probe found what it looked for (an admin disabled it, say)
    is left out."""
    record = MirrorProbeRecord
    runs = {mirror.id: mirror.failed_runs for mirror in mirrors}
    last = {}
    for chunk in _chunks(runs):
        last.update(store.find(
            (record.id, record.distribution_mirror_id),
            record.id.is_in(Select(
                Max(record.id),
                (record.distribution_mirror_id.is_in(chunk)) &
                (record.state == ProbeRecordState.APPLIED),
                group_by=record.distribution_mirror_id))))
    why = _sentences(store, list(last),
                     {rid: runs[mid] for rid, mid in last.items()},
                     only_wanting=True)
    return {last[rid]: sentences for rid, sentences in why.items()}


def control_file_copies(store, mirror_ids):
    """{mirror id: {master path: SHA-256}}: what each of `mirror_ids`
    served for the master's Release, InRelease and repomd.xml files at its
    last probe whose findings took effect (a distrusted or abandoned run's
    never count).  A file the mirror lacked, or served too large, or that
    the network kept from being seen, is left out: its copy is not known
    to be any of the master's."""
    record, place = MirrorProbeRecord, MirrorProbePlace
    copies = {mirror_id: {} for mirror_id in mirror_ids}
    for chunk in _chunks(mirror_ids):
        last = Select(Max(record.id),
                      record.distribution_mirror_id.is_in(chunk) &
                      (record.state == ProbeRecordState.APPLIED),
                      group_by=record.distribution_mirror_id)
        for mirror_id, label, sha256 in store.find(
                (record.distribution_mirror_id, place.label, place.sha256),
                place.probe_record_id == record.id, record.id.is_in(last),
                place.kind.is_in(("detector", "release")),
                place.sha256 != None):  # noqa: E711
            copies[mirror_id][label] = sha256
    return copies
