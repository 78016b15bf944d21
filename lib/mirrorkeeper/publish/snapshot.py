"""The mirror list snapshot: what the publication daemons know, built from
the database and written to one file.

The daemons never touch the database (they are stateless replicas behind
any load balancer, see the design's "Scale-out"): cron runs
cronscripts/generate-mirrorlist-snapshot.py, which calls build_snapshot()
and write_snapshot(); each daemon reads the file with read_snapshot() when
it changes.

The file is JSON, written to a temporary file beside its final name and
renamed over it, so that a reader sees the old snapshot or the new one,
never half of one.  A snapshot is never changed once written; each has a
serial one above the previous one's, recorded in the database too
(mirrorlist_snapshot_serial, schema patch 0012) so that a lost or corrupt
file does not restart the numbering (next_serial()).  Its top level:

``format``
    FORMAT, the version of this layout; readers refuse other versions.
``serial``, ``generated``
    The snapshot's number and when it was built (ISO 8601, UTC).
``distribution``
    The distribution's name.
``continents``
    {country code: continent code} of every country.
``places``
    [[series, arch, component, pocket], ...]: the archive places some
    mirror carries; arch is "source" for sources, pocket a lower-case
    pocket name ("release", "updates"...).
``repositories``
    [{"name", "path", "arch", "version"}, ...]: the master's RPM
    repositories (repository_name() says how a name is made).
``files``
    {path: [details, ...]}: the master's control files (Release,
    InRelease, repodata/repomd.xml) and a suite's Packages and Sources
    indexes, newest version first and at most FILE_VERSIONS of them;
    details are {"size", "timestamp" (POSIX
    seconds), "md5", "sha1", "sha256", "sha512"}.  Metalinks take the
    newest as the file and the older ones as alternates.
``copies``
    [{"dir", "path", "hashes", "versions"}, ...]: for each suite directory
    (.../dists/SUITE) and RPM repository of the master, the control file
    whose copy on a mirror tells which version of its files the mirror
    holds (``path``: the suite's InRelease, or its Release when it has
    none; the repository's repomd.xml), and the master's versions of it
    that still count, newest (the current one) first: [SHA-256, [index
    into ``hashes``, ...]], the indexes naming the SHA-256s of the index
    files that version lists, so that versions sharing an index share its
    hash.  A suite's older versions count while the scanner keeps what
    they list (``[archive] release_versions``); a repository has its
    current version only.
``pool_facts``
    true: the pool files' size and SHA-256, for their metalinks, are not
    in ``files`` but in the facts file of this serial that the generator
    writes beside the snapshot (mirrorkeeper.publish.poolfacts).
``mirrors``
    One object per published mirror: ``id``, ``name``, ``urls``
    ({scheme: base URL}), ``country``, ``continent``, ``bandwidth`` (Mbps),
    ``private``, ``internet2``, ``asn``, ``asn_clients``, ``netblocks``,
    ``countries_allowed``, ``has_ipv4``, ``has_ipv6`` (true, false, or
    null when the prober has not resolved the host), ``content``
    ("archive" or "cdimage"), ``freshness`` (the overall MirrorFreshness
    value), and what it carries, each grouped by freshness value so that
    a thousand mirrors' records stay small: ``archive`` {freshness:
    [index into places]}, ``repositories`` {freshness: [index into
    repositories]}, ``cdimages`` [[series, flavour], ...]; and
    ``detected``, the worst freshness the trace, timestamp and checksum
    detectors measured (the age of the mirror's last complete sync), when
    they measured one: it bounds the freshness of everything the mirror
    carries, so that the threshold filters mirror lists by sync age as
    oVirt's mirrorchecker does; ``lag``, the largest lag in seconds those
    detectors measured, when they measured one; ``probed``, when its last
    applied probe record was written (POSIX seconds), when it has one:
    the freshness of what it carries is as of then; ``copies``, {index
    into ``copies`` (a string): index of the version of it that last
    applied probe saw the mirror serve}, for the copies that are one of
    the versions that count.
``roots``
    {series: [root, moved]} of the series that live under a root of their
    own (IDistroSeries.root, e.g. "releases/14/") or were moved to the one
    they have: moved is when (POSIX seconds), or null.  A request path
    under a root is of that root's series: its dists/ and pool/ are there.
``pool``, ``pool_since``
    {path: [published, [index into places]]} of the pool files first
    published on the master at or after ``pool_since`` (POSIX seconds,
    POOL_WINDOW before the snapshot): when the file first appeared on the
    master and every place it is published in.  A path is as clients ask
    for it, under its series' root; a file of two series at two roots is
    two files.  A redirect for a pool file
    offers only mirrors that synced after it was published (see
    mirrorkeeper.publish.selection); a file older than the window is
    taken to be as old as ``pool_since``.

Which mirrors are published, and each one's freshness, detected, lag and
probed, are the read model's to say (mirrorkeeper.model.mirrorstate,
IMirrorState.published): a mirror is published when it is enabled, not
paused by its owner, not unreachable (its last trusted probe run could not
reach it), and official, or unofficial but allowed by the policy
(PublicationPolicy); of its URLs, only those that did not fail its last
probe are offered.
RPM repository content comes from mirror_rpm_repository (schema patch
0004); the master's file details from the scanner's master_file_detail
history (patch 0003).
"""

import json
import os
import re

from mirrorkeeper.atomicfile import write_atomically
from mirrorkeeper.enums import MirrorContent, PackagePublishingPocket
from mirrorkeeper.errors import MirrorKeeperError
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.mirrorstate import (  # noqa: F401 (PublicationPolicy)
    PublicationPolicy, states_where)
from mirrorkeeper.timeutil import utcnow

FORMAT = 1

# Versions of each control file kept: the newest and two alternates, which
# is what MirrorManager's metalinks carry and enough for a mirror a day or
# two behind to be accepted by dnf.
FILE_VERSIONS = 3

# How far back the snapshot lists pool files with their publishing dates:
# beyond the worst lag a freshness band can bound (two days and a half
# hour), with slack; older files are judged against the window's start.
POOL_WINDOW = 8 * 24 * 3600

_SCHEMES = ("http", "https", "ftp", "rsync")
_POCKETS = {pocket.value: pocket.name.lower()
            for pocket in PackagePublishingPocket}
_CONTENT = {MirrorContent.ARCHIVE: "archive",
            MirrorContent.RELEASE: "cdimage"}


class SnapshotError(MirrorKeeperError):
    """A snapshot file is missing, unreadable or of another format."""


def repository_name(path, roots=None):
    """The name dnf asks for a repository by (repo=): its path without the
    architecture and the trailing 'os', lower case, joined by '-'.
    'releases/40/Everything/x86_64/os' is 'releases-40-everything'.  Under
    the root of a series (`roots`: {series name: root}) the series' name
    stands for the root: with f42 at 'development/42/', then moved to
    'releases/42/', 'development/42/Everything/x86_64/os' and
    'releases/42/Everything/x86_64/os' are both 'f42-everything', so that
    dnf follows the repository through the series' life."""
    from mirrorkeeper.archive.rpm import RPM_ARCHES
    for series, root in sorted((roots or {}).items(),
                               key=lambda item: -len(item[1])):
        if root and (path + "/").startswith(root):
            path = series + "/" + path[len(root):]
            break
    parts = [part for part in path.split("/")
             if part and part not in RPM_ARCHES and part != "os"]
    return re.sub(r"[^a-z0-9._-]+", "-", "-".join(parts).lower()) or "root"


def _bool(value):
    return None if value is None else bool(value)


def _timestamp(date):
    from calendar import timegm
    return timegm(date.utctimetuple())


def build_snapshot(store, distribution, policy=PublicationPolicy(),
                   serial=1, now=None):
    """The snapshot (a dict, laid out as the module docstring says) of
    `distribution`'s published mirrors, read from `store` in a few queries
    (raw rows, not Storm objects: a thousand mirrors with hundreds of
    records each are read in seconds)."""
    now = now or utcnow()
    continents = dict(store.execute(
        "SELECT country.iso3166code2, continent.code FROM country "
        "JOIN continent ON continent.id = country.continent"))
    mirrors = _read_mirrors(store, distribution.id, policy)
    by_id = {mirror["id"]: mirror for mirror in mirrors}
    places = _read_archive(store, by_id)
    roots = _read_roots(store, distribution.id)
    repositories = _read_repositories(
        store, distribution.id, by_id,
        {series: root for series, (root, _) in roots.items()})
    for row in store.execute(
            "SELECT m.distribution_mirror, s.name, m.flavour "
            "FROM mirror_cd_image_distro_series m "
            "JOIN distro_series s ON s.id = m.distro_series "
            "ORDER BY m.id"):
        if row[0] in by_id:
            by_id[row[0]]["cdimages"].append([row[1], row[2]])
    pool_since = _timestamp(now) - POOL_WINDOW
    pool = _read_pool(store, distribution.id, places, pool_since)
    for mirror in mirrors:
        for key in ("archive", "repositories"):
            mirror[key] = {str(value): sorted(indexes) for value, indexes
                           in sorted(mirror[key].items())}
    copies = _read_copies(store, distribution.id, by_id, {
        repository["path"].rstrip("/") for repository in repositories})
    return {
        "format": FORMAT,
        "serial": serial,
        "generated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "distribution": distribution.name,
        "continents": continents,
        "places": places,
        "repositories": repositories,
        "roots": roots,
        "files": _read_files(store, distribution.id),
        "copies": copies,
        "pool_facts": True,
        "pool": pool,
        "pool_since": pool_since,
        "mirrors": mirrors,
    }


def _read_mirrors(store, distribution_id, policy):
    """The published mirrors' entries, their state from the read model."""
    mine = DistributionMirror.distribution_id == distribution_id
    states = sorted((state for state in states_where(store, mine)
                     if state.published(policy)),
                    key=lambda state: state.name)
    if not states:
        return []
    publication = {}
    ids = [state.id for state in states]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for (mirror_id, private, internet2, asn, asn_clients, has_ipv4,
             has_ipv6) in store.execute(
                "SELECT id, private, internet2, asn, asn_clients, has_ipv4, "
                "has_ipv6 FROM distribution_mirror WHERE id IN (%s)"
                % ", ".join("?" * len(chunk)), chunk):
            publication[mirror_id] = {
                "private": bool(private), "internet2": bool(internet2),
                "asn": asn, "asn_clients": bool(asn_clients),
                "has_ipv4": _bool(has_ipv4), "has_ipv6": _bool(has_ipv6)}
    mirrors = []
    for state in states:
        mirror = {
            "id": state.id, "name": state.name,
            "urls": state.published_urls, "country": state.country_code,
            "continent": state.continent_code,
            "bandwidth": state.bandwidth_mbps, "netblocks": [],
            "countries_allowed": [], "content": _CONTENT[state.content],
            "freshness": state.freshness.value, "archive": {},
            "repositories": {}, "cdimages": []}
        mirror.update(publication[state.id])
        if state.detected is not None:
            mirror["detected"] = state.detected.value
        if state.measured_lag_seconds is not None:
            mirror["lag"] = state.measured_lag_seconds
        if state.last_applied_probe is not None:
            mirror["probed"] = _timestamp(state.last_applied_probe)
        mirrors.append(mirror)
    by_id = {mirror["id"]: mirror for mirror in mirrors}
    for mirror_id, netblock in store.execute(
            "SELECT distribution_mirror, netblock FROM mirror_netblock "
            "ORDER BY id"):
        if mirror_id in by_id:
            by_id[mirror_id]["netblocks"].append(netblock)
    for mirror_id, country in store.execute(
            "SELECT a.distribution_mirror, c.iso3166code2 "
            "FROM mirror_country_allowed a "
            "JOIN country c ON c.id = a.country ORDER BY a.id"):
        if mirror_id in by_id:
            by_id[mirror_id]["countries_allowed"].append(country)
    return mirrors


def _read_archive(store, by_id):
    """Fill each mirror's "archive" and return the places list."""
    places, place_index = [], {}
    binary = store.execute(
        "SELECT m.distribution_mirror, s.name, a.architecture_tag, c.name, "
        "m.pocket, m.freshness FROM mirror_distro_arch_series m "
        "JOIN distro_arch_series a ON a.id = m.distro_arch_series "
        "JOIN distro_series s ON s.id = a.distro_series "
        "JOIN component c ON c.id = m.component").get_all()
    source = store.execute(
        "SELECT m.distribution_mirror, s.name, 'source', c.name, "
        "m.pocket, m.freshness FROM mirror_distro_series_source m "
        "JOIN distro_series s ON s.id = m.distro_series "
        "JOIN component c ON c.id = m.component").get_all()
    for rows in (binary, source):
        for mirror_id, series, arch, component, pocket, freshness in rows:
            mirror = by_id.get(mirror_id)
            if mirror is None:
                continue
            place = (series, arch, component, _POCKETS[pocket])
            index = place_index.get(place)
            if index is None:
                index = place_index[place] = len(places)
                places.append(list(place))
            mirror["archive"].setdefault(freshness, []).append(index)
    return places


def _read_repositories(store, distribution_id, by_id, roots):
    """Fill each mirror's "repositories" and return the repository list;
    `roots` {series: root} name them (repository_name())."""
    repositories, index_of = [], {}
    for repo_id, path, arch, version in store.execute(
            "SELECT id, path, arch, version FROM rpm_repository "
            "WHERE distribution = ? AND date_removed IS NULL ORDER BY path",
            (distribution_id,)):
        index_of[repo_id] = len(repositories)
        repositories.append({"name": repository_name(path, roots),
                             "path": path,
                             "arch": arch or "noarch", "version": version})
    # All rows at once: iterating a result row by row costs twice as much.
    for mirror_id, repo_id, freshness in store.execute(
            "SELECT distribution_mirror, rpm_repository, freshness "
            "FROM mirror_rpm_repository").get_all():
        mirror = by_id.get(mirror_id)
        if mirror is not None and repo_id in index_of:
            mirror["repositories"].setdefault(freshness, []).append(
                index_of[repo_id])
    return repositories


def _datetime(value):
    if isinstance(value, str):  # SQLite without type detection
        from datetime import datetime
        return datetime.fromisoformat(value)
    return value


def _read_roots(store, distribution_id):
    """The snapshot's "roots": {series: [root, moved]}."""
    return {name: [root, None if moved is None
                   else _timestamp(_datetime(moved))]
            for name, root, moved in store.execute(
                "SELECT name, root, date_moved FROM distro_series "
                "WHERE distribution = ? AND (root != '' OR date_moved "
                "IS NOT NULL) ORDER BY name", (distribution_id,))}


def _read_pool(store, distribution_id, places, since):
    """The snapshot's "pool": {path: [first published, [place indexes]]}
    of the pool files some publication of which is at or after `since`
    (POSIX seconds), keeping those whose first publication is.  A file
    published again (copied to another pocket or series) is on the master
    since its first publication: the pool holds one copy.  Paths are under
    their series' root."""
    from datetime import datetime, timezone
    cutoff = datetime.fromtimestamp(since, timezone.utc).replace(
        tzinfo=None)
    place_index = {tuple(place): n for n, place in enumerate(places)}
    queries = (
        "SELECT s.root || f.path, h.date_published, s.name, "
        "a.architecture_tag, c.name, h.pocket FROM binary_package_file f "
        "JOIN binary_package_publishing_history h "
        "ON h.binary_package_release = f.binary_package_release "
        "JOIN distro_arch_series a ON a.id = h.distro_arch_series "
        "JOIN distro_series s ON s.id = a.distro_series "
        "JOIN component c ON c.id = h.component "
        "WHERE s.distribution = ? AND h.date_published IS NOT NULL "
        "AND f.path IN (SELECT f2.path FROM binary_package_file f2 "
        "JOIN binary_package_publishing_history h2 "
        "ON h2.binary_package_release = f2.binary_package_release "
        "WHERE h2.date_published >= ?)",
        "SELECT s.root || f.path, h.date_published, s.name, 'source', "
        "c.name, h.pocket FROM source_package_file f "
        "JOIN source_package_publishing_history h "
        "ON h.source_package_release = f.source_package_release "
        "JOIN distro_series s ON s.id = h.distro_series "
        "JOIN component c ON c.id = h.component "
        "WHERE s.distribution = ? AND h.date_published IS NOT NULL "
        "AND f.path IN (SELECT f2.path FROM source_package_file f2 "
        "JOIN source_package_publishing_history h2 "
        "ON h2.source_package_release = f2.source_package_release "
        "WHERE h2.date_published >= ?)")
    first, where = {}, {}
    for query in queries:
        for path, date, series, arch, component, pocket in store.execute(
                query, (distribution_id, cutoff)):
            published = _timestamp(_datetime(date))
            if path not in first or published < first[path]:
                first[path] = published
            index = place_index.get((series, arch, component,
                                     _POCKETS[pocket]))
            if index is not None:
                where.setdefault(path, set()).add(index)
    return {path: [published, sorted(where.get(path, ()))]
            for path, published in sorted(first.items())
            if published >= since}


def _read_files(store, distribution_id):
    files = {}
    for path, size, modified, md5, sha1, sha256, sha512 in store.execute(
            "SELECT path, size, date_modified, md5, sha1, sha256, sha512 "
            "FROM master_file_detail WHERE distribution = ? "
            "ORDER BY path, date_first_seen DESC, id DESC",
            (distribution_id,)):
        versions = files.setdefault(path, [])
        if len(versions) < FILE_VERSIONS:
            modified = _datetime(modified)
            versions.append({"size": size, "timestamp": _timestamp(modified),
                             "md5": md5, "sha1": sha1, "sha256": sha256,
                             "sha512": sha512})
    return files


def _read_copies(store, distribution_id, by_id, repositories):
    """The snapshot's "copies" (see the module docstring), filling each
    mirror's "copies" with what its last applied probe saw it serve;
    `repositories` are the paths of the RPM repositories the master has
    now."""
    from mirrorkeeper.model.masterarchive import consistency_files
    from mirrorkeeper.model.probefindings import control_file_copies
    rows = store.execute(
        "SELECT d.id, d.path, d.sha256, i.sha256 FROM master_file_detail d "
        "LEFT JOIN master_release_index i ON i.master_file_detail = d.id "
        "WHERE d.distribution = ? "
        "ORDER BY d.path, d.date_first_seen DESC, d.id DESC, i.path",
        (distribution_id,)).get_all()
    history = {}
    for detail_id, path, sha256, listed in rows:
        versions = history.setdefault(path, {})
        versions.setdefault(detail_id, (sha256, []))[1].extend(
            [listed] if listed else [])
    copies, entry_of = [], {}
    for directory, path in sorted(consistency_files(history).items()):
        if path.endswith("/repomd.xml") and directory not in repositories:
            continue
        hashes, position = [], {}
        versions = []
        for number, (sha256, listed) in enumerate(history[path].values()):
            if number and (not listed or path.endswith("/repomd.xml")):
                continue  # No longer counts.
            for value in listed:
                if value not in position:
                    position[value] = len(hashes)
                    hashes.append(value)
            versions.append([sha256, sorted({position[value]
                                             for value in listed})])
        entry_of[path] = (len(copies), {
            sha256: number for number, (sha256, _) in enumerate(versions)})
        copies.append({"dir": directory, "path": path, "hashes": hashes,
                       "versions": versions})
    for mirror_id, seen in control_file_copies(store, list(by_id)).items():
        held = {}
        for path, sha256 in seen.items():
            entry, numbers = entry_of.get(path, (None, {}))
            if sha256 in numbers:
                held[str(entry)] = numbers[sha256]
        if held:
            by_id[mirror_id]["copies"] = held
    return copies


def write_snapshot(snapshot, path):
    """Write `snapshot` to `path` atomically: a temporary file in the same
    folder, flushed to disk, then renamed over `path`.  Returns the size in
    bytes."""
    data = json.dumps(snapshot, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")
    write_atomically(path, data, prefix=".snapshot-")
    return len(data)


def read_snapshot(path):
    """The snapshot dict in the file `path`, or SnapshotError."""
    try:
        with open(path, "rb") as f:
            snapshot = json.loads(f.read())
    except OSError as error:
        raise SnapshotError("cannot read the snapshot %s: %s"
                            % (path, error.strerror)) from None
    except ValueError as error:
        raise SnapshotError("the snapshot %s is not JSON: %s"
                            % (path, error)) from None
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        raise SnapshotError("the snapshot %s is not of format %d"
                            % (path, FORMAT))
    return snapshot


def _serial_in_name(path):
    """The number a snapshot's file name ends with ('mirrorlist-13.json',
    or what a symbolic link by that name points at), or 0."""
    match = re.search(r"(\d+)(\.json)?$",
                      os.path.basename(os.path.realpath(path)))
    return int(match.group(1)) if match else 0


def next_serial(path, recorded=None):
    """The serial of the next snapshot: one more than the largest of the
    serial in the file at `path` (or, when it cannot be read, the number
    its name ends with) and `recorded`, the serial the database last
    recorded (see recorded_serial()); 1 when there is neither.  A corrupt
    or lost file must not restart the numbering: daemons refuse a snapshot
    older than the one they serve."""
    try:
        serial = read_snapshot(path)["serial"]
        if isinstance(serial, bool) or not isinstance(serial, int):
            raise ValueError(serial)
    except (SnapshotError, KeyError, ValueError):
        serial = _serial_in_name(path)
    return max(serial, recorded or 0) + 1


def recorded_serial(store, distribution):
    """The serial of the last snapshot of `distribution` that
    record_serial() recorded in `store`, or None."""
    row = store.execute(
        "SELECT serial FROM mirrorlist_snapshot_serial "
        "WHERE distribution = ?", (distribution.id,)).get_one()
    return row[0] if row else None


def record_serial(store, distribution, serial, now=None):
    """Record in `store` that snapshot `serial` of `distribution` was
    written (schema patch 0012); the caller commits."""
    now = now or utcnow()
    if recorded_serial(store, distribution) is None:
        store.execute(
            "INSERT INTO mirrorlist_snapshot_serial (distribution, serial, "
            "date_written) VALUES (?, ?, ?)",
            (distribution.id, serial, now), noresult=True)
    else:
        store.execute(
            "UPDATE mirrorlist_snapshot_serial SET serial = ?, "
            "date_written = ? WHERE distribution = ?",
            (serial, now, distribution.id), noresult=True)


# What each top-level key of a snapshot holds, checked before a daemon
# indexes it: a file of the right format but the wrong shape (written by
# hand, or by another version) is a SnapshotError that says what is wrong,
# not a KeyError from the middle of the indexing.
_SHAPE = (("serial", int), ("generated", str), ("continents", dict),
          ("places", list), ("repositories", list), ("mirrors", list))
_MIRROR_SHAPE = (("name", str), ("urls", dict), ("country", str),
                 ("continent", str))


def check_shape(snapshot, path):
    """SnapshotError naming what is missing or wrong in the snapshot dict
    read from `path`, if anything is."""
    def wrong(what):
        raise SnapshotError("the snapshot %s is malformed: %s"
                            % (path, what))

    for key, kind in _SHAPE:
        value = snapshot.get(key)
        if value is None:
            wrong("no %r" % (key,))
        if not isinstance(value, kind) or isinstance(value, bool):
            wrong("%r is not a %s" % (key, kind.__name__))
    for key in ("files", "pool", "roots"):
        if not isinstance(snapshot.get(key, {}), dict):
            wrong("%r is not a dict" % (key,))
    copies = snapshot.get("copies", [])
    if not isinstance(copies, list):
        wrong("'copies' is not a list")
    for position, entry in enumerate(copies):
        if not _copy_entry(entry):
            wrong("copy %d is not {dir, path, hashes, versions}, each "
                  "version [SHA-256, [index into hashes]]" % (position,))
    for position, place in enumerate(snapshot["places"]):
        if not isinstance(place, list) or len(place) != 4:
            wrong("place %d is not [series, arch, component, pocket]"
                  % (position,))
    for series, entry in snapshot.get("roots", {}).items():
        if not (isinstance(entry, list) and len(entry) == 2 and
                isinstance(entry[0], str) and (entry[1] is None or
                                               isinstance(entry[1], int))):
            wrong("the root of %s is not [root, moved]" % (series,))
    for position, repository in enumerate(snapshot["repositories"]):
        if not isinstance(repository, dict) or not all(
                key in repository for key in ("name", "path", "arch")):
            wrong("repository %d lacks a name, path or arch" % (position,))
    for position, mirror in enumerate(snapshot["mirrors"]):
        if not isinstance(mirror, dict):
            wrong("mirror %d is not an object" % (position,))
        for key, kind in _MIRROR_SHAPE:
            if not isinstance(mirror.get(key), kind):
                wrong("mirror %d (%s) has no %s %r" % (
                    position, mirror.get("name"), kind.__name__, key))
        if "bandwidth" not in mirror:
            wrong("mirror %d (%s) has no 'bandwidth'"
                  % (position, mirror["name"]))
        held = mirror.get("copies", {})
        if not isinstance(held, dict) or not all(
                number.isdigit() and int(number) < len(copies)
                and _whole(version) for number, version in held.items()):
            wrong("mirror %d (%s) has 'copies' that are not {copy index: "
                  "version index}" % (position, mirror["name"]))


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool) \
        and value >= 0


def _copy_entry(entry):
    """Whether `entry` is one of a snapshot's "copies"."""
    if not isinstance(entry, dict) or not isinstance(entry.get("dir"), str) \
            or not isinstance(entry.get("path", ""), str):
        return False
    hashes, versions = entry.get("hashes"), entry.get("versions")
    if not isinstance(hashes, list) or not isinstance(versions, list):
        return False
    return all(isinstance(version, list) and len(version) == 2
               and isinstance(version[1], list)
               and all(_whole(index) and index < len(hashes)
                       for index in version[1])
               for version in versions)
