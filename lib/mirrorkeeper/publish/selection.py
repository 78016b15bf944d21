"""Choosing mirrors for a client: pure functions over a loaded snapshot.

Nothing here reads a file, a socket or the clock: index_snapshot() turns a
snapshot dict (see mirrorkeeper.publish.snapshot) into a MirrorIndex once
per snapshot, and select() answers each request from it, with a random
number generator it is given (so that tests seed it).

The order of a list, as MirrorManager's (seed 003) with what mirrorkeeper
adds:

1. mirrors one of whose netblocks holds the client's address, the most
   specific netblock first;
2. mirrors in the client's autonomous system that serve it (asn_clients);
3. mirrors in the client's country (or the country= asked for);
4. the other mirrors of that country's continent (a country's continent
   may be overridden, as MirrorManager's CountryContinentRedirect puts
   Israel in Europe);
5. the rest of the world, only when fewer than `minimum` were found.

Within each group the order is a bandwidth-weighted random shuffle: a
1 Gbps mirror comes first a hundred times as often as a 10 Mbps one.

Which mirrors make each group depends on a few things only: the content,
the country asked for, the protocols, the client's IP family, the
netblocks holding its address, its ASN and its country.  select() works
the groups out once for each such combination and keeps them in the
MirrorIndex with a pool of ORDERS_PER_LIST shuffled orders of them (a
CandidateList, each order drawn the first time it is picked); a request
then picks one of the orders at random, and the daemon renders each
order once (remember()).  Each
group's first mirror is drawn stratified over the pool, so that across
the pool every mirror comes first as often as its bandwidth says, to
within one order.  The pools are bounded (MAX_CACHED_GROUPS lists,
MAX_POOL_BYTES in all, oldest out first), and a new snapshot is a new
index: a reload draws every pool afresh.

Only mirrors carrying the content at the freshness threshold or better
count.  A private mirror reaches only clients in its netblocks (or its
ASN, with asn_clients).  A mirror with countries_allowed reaches only
clients of those countries, unless a netblock of its own holds them.  An
IPv6 client gets only mirrors known to have an IPv6 address (has_ipv6
true); an IPv4 client gets every mirror not known to lack IPv4 (has_ipv4
false): a host the prober has not resolved yet (None) is assumed to have
IPv4, as nearly every host has, and not IPv6, which is what IPv6 users
asked for.  When that leaves an IPv6 client nothing, the caller may ask
again with `any_family` (see Request): the mirrors not known to lack IPv6
(dual-stack or not yet resolved) are better than no list.

A client whose own country is unknown stands, for countries_allowed, in
the country it asks for: /mirrors/CA.txt lists a mirror allowed for CA
only, whoever asks; a client known to be elsewhere still does not get it.

A redirect for a pool file offers only mirrors that synced after the file
was published on the master, whatever the freshness threshold
(file_requirement() and Request.since): a mirror synced at the time of
its last probe less the worst lag its freshness allows for a place the
file is published in (and its detectors' measured lag); "more than two
days behind" and "unknown" allow any lag, so such a mirror is not known
to have synced at all.  A file older than the snapshot's pool window is
taken as published at the window's start, and then the mirror's worst lag
over all it carries counts, since the file's places are not known.

The files of a suite (dists/SUITE/...) and of an RPM repository's
repodata/ are offered only by mirrors whose copy of its control file (the
suite's InRelease, or Release when the master has none; the repository's
repomd.xml), as their last applied probe saw it, is a version of the
master's that lists them (copy_requirement() and Request.copy), so that
metadata and the packages it lists come from copies that agree:

- the Release, InRelease and plain indexes of a suite, and every file of a
  repository's repodata/: the master's current version only;
- a suite's by-hash/SHA256/HASH: any version that still counts (see the
  snapshot's ``copies``) and lists an index of that hash, since a client
  that read an older Release asks for its indexes so.

A mirror whose copy is not known (never probed, the network failed, or
it served none) holds none.  When no mirror qualifies, the caller offers
its fallback, never a mirror that may lack the file or hold another
version of it.

A series may live under a root of its own (the snapshot's ``roots``:
'development/', 'releases/14/'): a request path under a root is of that
root's series, its suite's files at <root>dists/SUITE/ and its pool files
at <root>pool/ (split_root()).  A series moved to its root (the
archive's own included) is there only since it moved: its pool files
there are offered only by mirrors synced after that (its suite's files
by the mirrors the prober saw hold its InRelease there).
"""

import bisect
import ipaddress
import itertools
from dataclasses import dataclass, field

from mirrorkeeper.enums import MirrorFreshness, PackagePublishingPocket
from mirrorkeeper.publish.poolfacts import PoolFactsError

# Preference among a mirror's URLs when the request names no protocol.
DEFAULT_PROTOCOLS = ("https", "http")
PROTOCOLS = ("https", "http", "ftp", "rsync")
UNKNOWN = MirrorFreshness.UNKNOWN.value


class BadParameter(ValueError):
    """A query parameter whose value the daemon cannot take (a 400)."""


def parse_protocols(text):
    """The protocols a ?protocol= value names, in the order given, once
    each; None for no value (the endpoint's default).  BadParameter for
    a name not in PROTOCOLS, or a value naming none."""
    if text is None or not text.strip():
        return None
    protocols = []
    for name in text.split(","):
        name = name.strip().lower()
        if not name:
            continue
        if name not in PROTOCOLS:
            raise BadParameter(
                "unknown protocol %r in protocol=%s; valid values, one or "
                "more comma-separated: %s" % (name, text, ",".join(PROTOCOLS)))
        if name not in protocols:
            protocols.append(name)
    if not protocols:
        raise BadParameter("protocol=%s names no protocol; valid values, one "
                           "or more comma-separated: %s"
                           % (text, ",".join(PROTOCOLS)))
    return tuple(protocols)


def redirect_protocols(asked, secure, default=DEFAULT_PROTOCOLS):
    """The protocols a redirect may send a client to: those it asked for
    (parse_protocols()) if any; else https only when it asked over https
    (never a downgrade to http unless asked), else `default`."""
    if asked:
        return asked
    return ("https",) if secure else default


def url_scheme(url):
    """The lower-case scheme of `url` ('' when it has none)."""
    scheme, colon, _ = url.partition(":")
    return scheme.lower() if colon else ""


def fallback_urls(urls, protocols):
    """The configured fallback `urls` whose scheme is one of `protocols`,
    in the configured order."""
    return [url for url in urls if url_scheme(url) in protocols]


class UnknownContent(ValueError):
    """The request names content the snapshot does not know; `valid` is
    the list of what it does know, for the 404 body."""

    def __init__(self, message, valid):
        ValueError.__init__(self, message)
        self.valid = valid


@dataclass(frozen=True, slots=True)
class Mirror:
    """A published mirror, as selection sees it."""

    index: int
    name: str
    urls: dict
    country: str
    continent: str
    bandwidth: int
    private: bool = False
    asn: int = None
    asn_clients: bool = False
    netblocks: tuple = ()
    countries_allowed: frozenset = frozenset()
    has_ipv4: bool = None
    has_ipv6: bool = None

    def url(self, protocols):
        """The mirror's base URL for the first of `protocols` it serves,
        or None."""
        for protocol in protocols:
            url = self.urls.get(protocol)
            if url:
                return url
        return None

    def reachable_by(self, version, any_family=False):
        """Whether a client of IP `version` (4 or 6) can reach it; with
        `any_family`, whether it is not known that it cannot."""
        if version == 6:
            return self.has_ipv6 is not False if any_family \
                else self.has_ipv6 is True
        return self.has_ipv4 is not False


@dataclass(frozen=True)
class Client:
    """Who asks: its address (an ipaddress object), and what GeoIP told of
    it (None when unknown)."""

    address: object
    country: str = None
    asn: int = None


@dataclass(frozen=True)
class Request:
    """What is asked.  `content` is a content key (see content_key());
    `country` overrides the client's ("global" for the whole world);
    `strict_country` gives that country's mirrors only (the per-country
    lists); `protocols` are acceptable protocols, preferred first;
    `any_family` takes mirrors not known to lack the client's IP family
    (see Mirror.reachable_by), for when none is known to have it."""

    content: tuple
    country: str = None
    strict_country: bool = False
    protocols: tuple = DEFAULT_PROTOCOLS
    any_family: bool = False
    # (published, places) of a pool file: only mirrors that synced at or
    # after `published` (POSIX seconds) for one of `places` (indexes into
    # the snapshot's places; None: all they carry) count.
    since: tuple = None
    # (copy, versions) of a suite's or repository's file: only mirrors
    # holding one of `versions` (a frozenset of version numbers) of the
    # snapshot's copy number `copy` count (copy_requirement()).
    copy: tuple = None


@dataclass(frozen=True)
class Choice:
    mirror: Mirror
    url: str
    group: str


@dataclass
class MirrorIndex:
    """A snapshot made ready for select(): read-only once built."""

    serial: int
    generated: str
    mirrors: list
    # {content key: frozenset of mirror indexes fresh enough}
    carriers: dict
    # {content key: [mirror indexes]}, in snapshot order, for the world
    carriers_list: dict
    by_country: dict
    by_continent: dict
    # [(version, network int, mask int, prefix length, mirror index)],
    # most specific first
    netblocks: list
    by_asn: dict
    continents: dict
    # {(repo name, arch): repository dict}; {path: repository dict}
    repositories: dict
    repositories_by_path: dict
    files: dict
    series: list = field(default_factory=list)
    # [(version, mask int, prefix length)], most specific first, and
    # {(version, prefix length, network int): [mirror indexes]} in
    # snapshot order: a client's netblock matches in one look-up per
    # prefix length.
    netblock_masks: list = field(default_factory=list)
    netblock_table: dict = field(default_factory=dict)
    # select()'s CandidateLists per combination of what decides them (see
    # the module docstring), filled as requests come, and about how many
    # bytes they hold, orders and renderings.
    groups_cache: dict = field(default_factory=dict, repr=False)
    pool_bytes: int = field(default=0, repr=False)
    # file_facts() of the archive files asked for lately.
    files_cache: dict = field(default_factory=dict, repr=False)
    # {(mirror index, protocols, group): Choice}, shared by the cached
    # groups; 1 / bandwidth of each mirror, by mirror index.
    choices: dict = field(default_factory=dict, repr=False)
    exponents: list = field(default_factory=list, repr=False)
    # The snapshot's pool {path: (published, places)} and its window's
    # start, or None when the snapshot carries none; per mirror index,
    # {place index: when it synced it} and when it synced all it carries
    # (POSIX seconds; left out or None: not known).
    pool: dict = None
    pool_since: int = None
    synced: list = field(default_factory=list, repr=False)
    synced_all: list = field(default_factory=list, repr=False)
    # The snapshot's copies: {directory: copy number}, {suite name: copy
    # number}, per copy whether it is a repository's (repomd.xml) and
    # {listed SHA-256: frozenset of the version numbers listing it}; per
    # mirror index, {copy number: version number it holds}.
    copy_dirs: dict = field(default_factory=dict, repr=False)
    copy_suites: dict = field(default_factory=dict, repr=False)
    copy_repository: list = field(default_factory=list, repr=False)
    copy_listed: list = field(default_factory=list, repr=False)
    copies: list = field(default_factory=list, repr=False)
    # The PoolFacts of the snapshot (mirrorkeeper.publish.poolfacts), or
    # None when none was opened.
    pool_facts: object = field(default=None, repr=False)
    # {root: (series names, when the latest of them moved there or None)}
    # of the series roots but '', longest first; {series: root}; {series:
    # when it moved to its root} of the series that moved; the series of
    # each place.
    roots: dict = field(default_factory=dict, repr=False)
    series_roots: dict = field(default_factory=dict, repr=False)
    series_moved: dict = field(default_factory=dict, repr=False)
    place_series: tuple = field(default=(), repr=False)

    def continent_of(self, country):
        return self.continents.get(country)

    def file_versions(self, path):
        """The master's versions of the archive file `path`, newest first:
        a control file's from the snapshot, a pool file's from its facts;
        None when neither knows it.  PoolFactsError when the facts cannot
        be read."""
        versions = self.files.get(path)
        if versions or self.pool_facts is None:
            return versions or None
        return self.pool_facts.versions(path)

    def synced_since(self, position, since):
        """Whether mirror `position` synced after a file published as
        `since` says (see Request.since)."""
        published, places = since
        if places is None:
            synced = self.synced_all[position]
            return synced is not None and synced >= published
        synced = self.synced[position]
        return any(synced.get(place, -1) >= published for place in places)

    def holds_copy(self, position, copy):
        """Whether mirror `position` holds a version of a copy that
        `copy` (see Request.copy) accepts."""
        number, versions = copy
        return self.copies[position].get(number) in versions


def _combine(worst, value):
    """overall_freshness, one value at a time: the worst known value, or
    UNKNOWN when none is known."""
    if worst is None or worst == UNKNOWN:
        return value
    if value == UNKNOWN:
        return worst
    return max(worst, value)


def _parse_netblock(text):
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return (network.version, int(network.network_address),
            int(network.netmask), network.prefixlen)


def index_snapshot(snapshot, threshold=MirrorFreshness.ONEDAYBEHIND,
                   continent_overrides=None):
    """The MirrorIndex of a snapshot dict: which mirrors carry each content
    key at `threshold` or fresher, mirrors by country, continent, ASN and
    netblock.  `continent_overrides` is {country code: continent code}."""
    limit = MirrorFreshness(threshold).value
    continents = dict(snapshot["continents"])
    continents.update(continent_overrides or {})
    places = snapshot["places"]
    repositories = snapshot["repositories"]
    mirrors, carriers_list = [], {}
    by_country, by_continent, by_asn, netblocks = {}, {}, {}, []
    synced, synced_all, copies = [], [], []
    for position, data in enumerate(snapshot["mirrors"]):
        places_synced, all_synced = _synced(data)
        synced.append(places_synced)
        synced_all.append(all_synced)
        copies.append({int(number): version for number, version in
                       (data.get("copies") or {}).items()})
        blocks = tuple(filter(None, map(_parse_netblock,
                                        data.get("netblocks", ()))))
        continent = continents.get(data["country"], data["continent"])
        mirror = Mirror(
            position, data["name"], data["urls"], data["country"],
            continent, max(1, int(data["bandwidth"] or 1)),
            bool(data.get("private")), data.get("asn"),
            bool(data.get("asn_clients")), blocks,
            frozenset(data.get("countries_allowed") or ()),
            data.get("has_ipv4"), data.get("has_ipv6"))
        mirrors.append(mirror)
        for key, value in _content_freshness(data, places,
                                             repositories).items():
            if value <= limit:
                carriers_list.setdefault(key, []).append(position)
        by_country.setdefault(mirror.country, []).append(position)
        by_continent.setdefault(continent, []).append(position)
        if mirror.asn is not None and mirror.asn_clients:
            by_asn.setdefault(mirror.asn, []).append(position)
        for version, network, mask, prefix in blocks:
            netblocks.append((version, network, mask, prefix, position))
    netblocks.sort(key=lambda block: -block[3])
    netblock_masks, netblock_table = [], {}
    for version, network, mask, prefix, position in netblocks:
        if (version, mask, prefix) not in netblock_masks:
            netblock_masks.append((version, mask, prefix))
        netblock_table.setdefault((version, prefix, network), []).append(
            position)
    # Every content the snapshot knows is a key, even if no mirror carries
    # it fresh enough: that is an empty list, not a 404.
    for place in places:
        for key in _place_keys(place):
            carriers_list.setdefault(key, [])
    for repository in repositories:
        carriers_list.setdefault(
            ("repo", repository["name"], repository["arch"]), [])
    carriers_list.setdefault(("archive",), [])
    return MirrorIndex(
        serial=snapshot["serial"], generated=snapshot["generated"],
        mirrors=mirrors,
        carriers={key: frozenset(value)
                  for key, value in carriers_list.items()},
        carriers_list=carriers_list, by_country=by_country,
        by_continent=by_continent, netblocks=netblocks, by_asn=by_asn,
        continents=continents,
        repositories={(r["name"], r["arch"]): r for r in repositories},
        repositories_by_path={r["path"]: r for r in repositories},
        files=snapshot.get("files", {}),
        series=sorted({place[0] for place in places}),
        netblock_masks=netblock_masks, netblock_table=netblock_table,
        exponents=[1.0 / mirror.bandwidth for mirror in mirrors],
        pool={path: (int(entry[0]), tuple(entry[1])) for path, entry
              in snapshot["pool"].items()} if "pool" in snapshot else None,
        pool_since=snapshot.get("pool_since"),
        synced=synced, synced_all=synced_all, copies=copies,
        roots=_roots(snapshot.get("roots", {})),
        series_roots={series: entry[0] for series, entry
                      in snapshot.get("roots", {}).items()},
        series_moved={series: entry[1] for series, entry
                      in snapshot.get("roots", {}).items()
                      if entry[1] is not None},
        place_series=tuple(place[0] for place in places),
        **_copies(snapshot.get("copies", ())))


def _roots(roots):
    """MirrorIndex.roots of the snapshot's {series: [root, moved]}."""
    found = {}
    for series, (root, moved) in sorted(roots.items()):
        if root:
            names, latest = found.get(root, ((), None))
            if moved is not None and (latest is None or moved > latest):
                latest = moved
            found[root] = (names + (series,), latest)
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def split_root(index, path):
    """(root, path under it) of a request path: the longest series root
    it is under, else '' and the path."""
    for root in index.roots:
        if path.startswith(root):
            return root, path[len(root):]
    return "", path


def _copies(entries):
    """The MirrorIndex fields of the snapshot's "copies"."""
    dirs, suites, repository, listed = {}, {}, [], []
    for number, entry in enumerate(entries):
        directory = entry["dir"]
        dirs[directory] = number
        parts = directory.split("/")
        if len(parts) > 1 and parts[-2] == "dists":
            suites.setdefault(parts[-1], number)
        repository.append(entry.get("path", "").endswith("/repomd.xml"))
        hashes = entry["hashes"]
        versions = {}
        for version, (_, indexes) in enumerate(entry["versions"]):
            for index in indexes:
                versions.setdefault(hashes[index], set()).add(version)
        listed.append({value: frozenset(numbers)
                       for value, numbers in versions.items()})
    return {"copy_dirs": dirs, "copy_suites": suites,
            "copy_repository": repository, "copy_listed": listed}


def _worst_lag(value):
    """The largest lag (seconds) freshness `value` allows, or None when it
    allows any ("more than two days behind", "unknown")."""
    freshness = MirrorFreshness(int(value))
    if freshness in (MirrorFreshness.ONEWEEKBEHIND, MirrorFreshness.UNKNOWN):
        return None
    return freshness.threshold.total_seconds()


def _synced(data):
    """({place index: when the mirror synced it}, when it synced all it
    carries) of one snapshot mirror, POSIX seconds, None where not known:
    its last probe less the worst lag of the place's freshness and of its
    detectors' (their measured lag when they measured one)."""
    probed = data.get("probed")
    if probed is None:
        return {}, None
    detected = None
    if data.get("lag") is not None:
        detected = max(0, int(data["lag"]))
    elif data.get("detected") is not None:
        detected = _worst_lag(data["detected"])
        if detected is None:
            return {}, None
    places, worst = {}, 0
    for value, indexes in data.get("archive", {}).items():
        lag = _worst_lag(value)
        if lag is None:
            worst = None
            continue
        if detected is not None:
            lag = max(lag, detected)
        if worst is not None:
            worst = max(worst, lag)
        for index in indexes:
            places[index] = probed - lag
    if not places:
        return places, None
    return places, None if worst is None else probed - worst


def file_requirement(index, path):
    """The Request.since of a redirect or metalink for the pool file
    `path`: who synced after the master's copy of it appeared, (published,
    places) from the snapshot's pool, or (the pool window's start, None)
    for an older one; under a series' root, no earlier than when the
    series moved there.  A file the master did not have when the snapshot
    was built (by its facts: published since, or never) asks what no
    mirror can be known to have, and so goes to the fallback.  None for
    other paths, or when the snapshot has no pool."""
    root, under = split_root(index, path)
    parts = under.split("/")
    if parts[0] != "pool" or index.pool is None:
        return None
    since = index.pool.get(path)
    if since is None:
        since = (AFTER_THE_SNAPSHOT if _new_to_snapshot(index, path)
                 else index.pool_since or 0, None)
    moved = _moved(index, root, since[1])
    if moved is not None and moved > since[0]:
        since = (moved, since[1])
    return since


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What a redirect or metalink for an archive file depends on of the
    file: its content key (content_for_path()), Request.since
    (file_requirement()) and Request.copy (copy_requirement()), and the
    master's versions of it (MirrorIndex.file_versions(), None when not
    known) or the PoolFactsError that stopped them being read."""

    content: tuple
    since: tuple
    copy: tuple
    versions: list
    error: PoolFactsError = None


# The archive files whose FileFacts an index keeps: a suite's indexes
# and the popular packages are asked for over and over, and each costs a
# few path look-ups (and a pool file a query of its facts) to work out.
MAX_CACHED_FILES = 16384


def file_facts(index, path):
    """The FileFacts of the archive file `path` in `index`, worked out once
    for the MAX_CACHED_FILES asked for last (oldest out first)."""
    cache = index.files_cache
    found = cache.get(path)
    if found is None:
        versions = error = None
        try:
            versions = index.file_versions(path)
        except PoolFactsError as failed:
            error = failed
        found = FileFacts(content_for_path(index, path),
                          file_requirement(index, path),
                          copy_requirement(index, path), versions, error)
        if len(cache) >= MAX_CACHED_FILES:
            del cache[next(iter(cache))]
        cache[path] = found
    return found


# When a pool file unknown to the snapshot's facts was published, as far as
# the snapshot can tell: after every probe it knows of.
AFTER_THE_SNAPSHOT = float("inf")


def _new_to_snapshot(index, path):
    """Whether the snapshot's pool facts say the master had no file `path`
    when the snapshot was built.  False when it has no facts, or they
    cannot be read: then the pool window decides, as before facts were
    kept (the metalink says why they cannot be read)."""
    if index.pool_facts is None:
        return False
    try:
        return not index.pool_facts.versions(path)
    except PoolFactsError:
        return False


def _moved(index, root, places):
    """When a pool file under `root`, of `places` (or None), came to be
    where it is by a move of its series, or None: when the first of its
    places' series to have it there did (a file one of them had there all
    along did not move); else when the latest series at `root` moved."""
    if places:
        return min(index.series_moved.get(index.place_series[place], 0)
                   for place in places) or None
    return index.roots.get(root, ((), None))[1]


# The current version of a copy: the newest, first in the snapshot.
CURRENT = frozenset([0])


def copy_requirement(index, path):
    """The Request.copy of a redirect or metalink for `path`, a file of a
    suite or of an RPM repository's repodata/ (see the module docstring):
    (copy number, the version numbers of it whose holders may be sent
    there), or None for another file, or one the snapshot knows no copy
    of.  A by-hash path no version lists accepts none."""
    parts = path.split("/")
    for end in range(len(parts) - 1, -1, -1):
        number = index.copy_dirs.get("/".join(parts[:end]))
        if number is None:
            continue
        rest = parts[end:]
        if index.copy_repository[number]:
            return (number, CURRENT) if rest[0] == "repodata" else None
        if len(rest) >= 3 and rest[-3:-1] == ["by-hash", "SHA256"]:
            return (number, index.copy_listed[number].get(rest[-1],
                                                          frozenset()))
        return (number, CURRENT)
    return None


def suite_copy(index, suite):
    """The Request.copy of an apt list of `suite` (?series=): the mirrors
    holding the master's current Release of it; None when the snapshot
    knows no copy of it."""
    number = index.copy_suites.get(suite)
    return None if number is None else (number, CURRENT)


def _place_keys(place):
    series, arch = place[0], place[1]
    return (("archive",), ("archive", series), ("archive", series, arch))


def _content_freshness(data, places, repositories):
    """{content key: freshness value} of one mirror's records."""
    worst = {}
    for value, indexes in data.get("archive", {}).items():
        value = int(value)
        for index in indexes:
            for key in _place_keys(places[index]):
                worst[key] = _combine(worst.get(key), value)
    for value, indexes in data.get("repositories", {}).items():
        value = int(value)
        for index in indexes:
            repository = repositories[index]
            key = ("repo", repository["name"], repository["arch"])
            worst[key] = _combine(worst.get(key), value)
    up = MirrorFreshness.UP.value
    for series, flavour in data.get("cdimages", ()):
        for key in (("cdimage",), ("cdimage", series),
                    ("cdimage", series, flavour)):
            worst[key] = up
    detected = data.get("detected")
    if detected is not None:
        # The age of the mirror's last complete sync bounds all it carries.
        worst = {key: _combine(value, detected)
                 for key, value in worst.items()}
    return worst


def content_key(index, kind, series=None, arch=None, flavour=None,
                repo=None):
    """The content key of a request, or UnknownContent naming the valid
    values.  `kind` is "archive" (optionally a series, and an arch of it),
    "cdimage" (optionally a series and flavour) or "repo" (repo and arch,
    both required)."""
    if kind == "repo":
        if (repo, arch) in index.repositories:
            return ("repo", repo, arch)
        valid = sorted("repo=%s&arch=%s" % key for key in index.repositories)
        raise UnknownContent("unknown repository repo=%s&arch=%s"
                             % (repo, arch), valid)
    key = tuple(part for part in (kind, series, arch if kind == "archive"
                                  else flavour) if part)
    if key in index.carriers:
        return key
    valid = sorted(
        "/".join(k[1:]) for k in index.carriers if k[0] == kind and len(k) > 1)
    raise UnknownContent("unknown %s content %s" % (
        kind, "/".join(key[1:]) or "(none)"), valid)


def content_for_path(index, path):
    """The content key a file path of the archive belongs to, for
    redirects: an RPM repository's files its repository; dists/SUITE/...
    that suite's series (and binary-ARCH's arch); a file under the root of
    one series that series; anything else the archive as a whole."""
    parts = [part for part in path.split("/") if part]
    for end in range(len(parts), 0, -1):
        repository = index.repositories_by_path.get("/".join(parts[:end]))
        if repository is not None:
            return ("repo", repository["name"], repository["arch"])
    root, under = split_root(index, "/".join(parts))
    parts = under.split("/")
    if len(parts) > 2 and parts[0] == "dists":
        series = suite_series(index, parts[1])
        for part in parts[2:]:
            if part.startswith("binary-"):
                key = ("archive", series, part[len("binary-"):])
                if key in index.carriers:
                    return key
        if ("archive", series) in index.carriers:
            return ("archive", series)
    series = index.roots.get(root, ((), None))[0]
    if len(series) == 1 and ("archive", series[0]) in index.carriers:
        return ("archive", series[0])
    return ("archive",)


def suite_series(index, suite):
    """The series an apt suite name is of: 'alpha-updates' is alpha's
    updates pocket, which the mirrors of alpha carry.  A name the snapshot
    knows as it is (a series may have a hyphen in its name), or that no
    pocket suffix ends, is returned as given."""
    if not suite or ("archive", suite) in index.carriers:
        return suite
    for pocket in PackagePublishingPocket:
        if pocket.suffix and suite.endswith(pocket.suffix):
            series = suite[:-len(pocket.suffix)]
            if ("archive", series) in index.carriers:
                return series
    return suite


def weighted_shuffle(mirrors, rng):
    """`mirrors` in a random order in which each comes first with a
    probability proportional to its bandwidth (Efraimidis and Spirakis'
    weighted sampling without replacement)."""
    return sorted(mirrors,
                  key=lambda mirror: -rng.random() ** (1.0 / mirror.bandwidth))


# How many combinations of content, place and network select() keeps the
# pool of orders of, per snapshot; past it the oldest go.
MAX_CACHED_GROUPS = 10000
# The orders of each combination.  With the first mirror of each group
# drawn stratified, each mirror comes first in the pool as often as its
# bandwidth says to within one order in 256, and every mirror of a group
# of up to 256 can come first.  An order of n mirrors costs about 8n + 100
# bytes once drawn (the Choices are shared), its renderings their length.
ORDERS_PER_LIST = 256
# What the pools of one snapshot hold in all, orders and renderings (about,
# in bytes); past it the oldest lists go.  Each worker process holds its
# own.
MAX_POOL_BYTES = 64 * 2 ** 20
# What an Order or a rendering costs besides its length (about).
_OVERHEAD = 100


@dataclass(frozen=True, slots=True)
class CandidateGroup:
    """One group of a list before its shuffle: its Choices in snapshot
    order and the reciprocal of each one's bandwidth (the shuffle's
    exponent)."""

    choices: tuple
    exponents: tuple


def _netblock_matches(index, version, address):
    """The netblocks holding `address`, most specific first, as
    (prefix length, network int, [mirror indexes])."""
    matches = []
    table = index.netblock_table
    for block_version, mask, prefix in index.netblock_masks:
        if block_version == version:
            network = address & mask
            positions = table.get((version, prefix, network))
            if positions is not None:
                matches.append((prefix, network, positions))
    return matches


def candidate_groups(index, client, request, minimum=5):
    """The groups of the list for `client` asking `request`, best group
    first, each a CandidateGroup not yet shuffled (empty groups left
    out).  These are the selection rules of the module docstring; select()
    shuffles each group by bandwidth."""
    eligible = index.carriers[request.content]
    version = client.address.version
    any_family = request.any_family
    since = request.since
    synced_since = index.synced_since
    copy = request.copy
    holds_copy = index.holds_copy
    mirrors = index.mirrors
    protocols = request.protocols
    groups, taken = [], set()
    count = 0
    # Where the client is, for countries_allowed: where GeoIP says, or
    # else the country it asks for.
    place = client.country or (
        request.country if request.country != "global" else None)

    def usable(position):
        mirror = mirrors[position]
        return (position in eligible and position not in taken
                and mirror.reachable_by(version, any_family)
                and mirror.url(protocols) is not None
                and (since is None or synced_since(position, since))
                and (copy is None or holds_copy(position, copy)))

    def public(mirror):
        return not mirror.private and (
            not mirror.countries_allowed or
            place in mirror.countries_allowed)

    made = index.choices
    exponents = index.exponents

    def choice(position, group):
        # One Choice object per mirror, protocols and group, shared by
        # every cached list it is in.
        key = (position, protocols, group)
        found = made.get(key)
        if found is None:
            mirror = mirrors[position]
            found = made[key] = Choice(mirror, mirror.url(protocols), group)
        return found

    def add(group, positions):
        nonlocal count
        if not positions:
            return
        groups.append(CandidateGroup(
            tuple(choice(p, group) for p in positions),
            tuple(exponents[p] for p in positions)))
        taken.update(positions)
        count += len(positions)

    # 1. Netblocks, most specific first.
    matches = _netblock_matches(index, version, int(client.address))
    prefix, group = None, []
    for length, _, positions in matches:
        if length != prefix:
            add("netblock", group)
            prefix, group = length, []
        for position in positions:
            if usable(position) and position not in group:
                group.append(position)
    add("netblock", group)
    # 2. The client's autonomous system.
    if client.asn is not None:
        add("asn", [p for p in index.by_asn.get(client.asn, ())
                    if usable(p) and (
                        not mirrors[p].countries_allowed or
                        place in mirrors[p].countries_allowed)])
    # 3, 4, 5. Country, continent, world.
    country = request.country or client.country
    if country == "global":
        add("world", [p for p in index.carriers_list[request.content]
                      if usable(p) and public(mirrors[p])])
        return groups
    if country:
        add("country", [p for p in index.by_country.get(country, ())
                        if usable(p) and public(mirrors[p])])
        if request.strict_country:
            return groups
        continent = index.continent_of(country)
        if continent:
            add("continent", [p for p in index.by_continent.get(
                continent, ()) if usable(p) and public(mirrors[p])])
    if count < minimum:
        add("world", [p for p in index.carriers_list[request.content]
                      if usable(p) and public(mirrors[p])])
    return groups


def _groups_key(index, client, request, minimum):
    """What decides candidate_groups(): two clients with the same key get
    the same groups.  Of the address only its family and the netblocks
    holding it count; an ASN no mirror serves counts as none."""
    version = client.address.version
    netblocks = tuple((prefix, network) for prefix, network, _ in
                      _netblock_matches(index, version,
                                        int(client.address))) \
        if index.netblock_masks else ()
    asn = client.asn if client.asn in index.by_asn else None
    return (request.content, request.country, request.strict_country,
            request.protocols, version, netblocks, asn, client.country,
            minimum, request.any_family, request.since, request.copy)


class CandidateList:
    """The list of one combination of what decides it: its groups
    (CandidateGroups, best first) and the ORDERS_PER_LIST orders of them
    a request picks from, each drawn the first time it is picked
    (order()); about how many bytes the drawn orders and their
    renderings hold (`size`); `cached` while the index keeps it.

    Each group's first mirror is drawn stratified: for a group, the
    orders split [0, 1) into as many strata, given out in a random order,
    and each order's first is the mirror at a random point of its stratum
    along the group's cumulative bandwidths; the rest of the group then
    follows in a weighted shuffle, which is what a shuffle gives once its
    first is known.  So across the orders each mirror is first in its
    bandwidth's share of them, to within one, where independent draws
    would let chance move that share by several."""

    __slots__ = ("groups", "orders", "size", "cached", "_strata",
                 "_cumulative")

    def __init__(self, groups, rng, count=None):
        count = count or ORDERS_PER_LIST
        self.groups = groups
        self.orders = [None] * (count if groups else 1)
        self.size = 8 * len(self.orders) + _OVERHEAD
        self.cached = False
        self._strata, self._cumulative = [], []
        for group in groups:
            if len(group.choices) == 1:
                self._strata.append(None)
                self._cumulative.append(None)
                continue
            strata = list(range(count))
            rng.shuffle(strata)
            self._strata.append(strata)
            self._cumulative.append(list(itertools.accumulate(
                1.0 / exponent for exponent in group.exponents)))

    def order(self, number, rng):
        """Order `number`, drawn with `rng` if it has not been yet."""
        found = self.orders[number]
        if found is None:
            count = len(self.orders)
            firsts = []
            for strata, cumulative in zip(self._strata, self._cumulative):
                if strata is None:
                    firsts.append(None)
                    continue
                point = (strata[number] + rng.random()) / count * \
                    cumulative[-1]
                firsts.append(min(len(cumulative) - 1, bisect.bisect_right(
                    cumulative, point)))
            found = self.orders[number] = Order(
                _shuffled(self.groups, rng, firsts), self)
            self.size += 8 * len(found) + _OVERHEAD
        return found


class Order(list):
    """One drawn order of a CandidateList (`pool`, None once the index
    forgets the list): its Choices, best first (not to be changed), and
    what the daemon rendered of it (`rendered`, {what: bytes}, kept by
    remember())."""

    __slots__ = ("pool", "rendered")

    def __init__(self, choices, pool):
        list.__init__(self, choices)
        self.pool = pool
        self.rendered = {}


def cached_groups(index, client, request, rng, minimum=5):
    """The CandidateList of candidate_groups(), worked out and drawn once
    per combination that decides them (kept in the index, at most
    MAX_CACHED_GROUPS lists and MAX_POOL_BYTES, oldest out first); `rng`
    gives out the strata of its orders."""
    key = _groups_key(index, client, request, minimum)
    cache = index.groups_cache
    found = cache.get(key)
    if found is None:
        found = CandidateList(
            tuple(candidate_groups(index, client, request, minimum)), rng)
        if len(cache) >= MAX_CACHED_GROUPS:
            _forget_oldest(index)
        cache[key] = found
        found.cached = True
        index.pool_bytes += found.size
        _trim(index, keep=found)
    return found


def remember(index, order, what, body):
    """Keep `body`, what the daemon rendered of `order` (drawn by select())
    for `what` (bytes, or tuples of bytes), in `order.rendered`, within the
    index's MAX_POOL_BYTES; nothing is kept of an order whose list the
    index no longer holds."""
    pool = order.pool
    if pool is None:
        return
    before = order.rendered.get(what)
    size = _size(body) + (_OVERHEAD if before is None else -_size(before))
    order.rendered[what] = body
    pool.size += size
    index.pool_bytes += size
    _trim(index, keep=pool)


def _size(rendered):
    """About how many bytes `rendered` (bytes, or tuples of them) holds."""
    if isinstance(rendered, tuple):
        return sum(map(_size, rendered)) + 8 * len(rendered)
    return len(rendered)


def _forget_oldest(index):
    cache = index.groups_cache
    pool = cache.pop(next(iter(cache)))
    pool.cached = False
    index.pool_bytes -= pool.size
    # Its orders and what was rendered of them go now, not when the
    # cyclic garbage collector next looks (an order names its list).
    for order in pool.orders:
        if order is not None:
            order.pool = None
            order.rendered.clear()


def _trim(index, keep):
    """Forget the oldest lists until the index holds MAX_POOL_BYTES, all
    but `keep`."""
    cache = index.groups_cache
    while index.pool_bytes > MAX_POOL_BYTES and len(cache) > 1:
        if next(iter(cache.values())) is keep:
            # The newest is the oldest too when alone; else move it last.
            key = next(iter(cache))
            cache[key] = cache.pop(key)
        _forget_oldest(index)


def shuffle_groups(groups, rng):
    """The Choices of `groups` (CandidateGroups, best first), each group
    in a bandwidth-weighted random order: Efraimidis and Spirakis' keys
    random() ** (1 / bandwidth), largest first, drawn in snapshot order
    (so a seeded generator gives what weighted_shuffle() gives)."""
    return _shuffled(groups, rng, [None] * len(groups))


def _shuffled(groups, rng, firsts):
    """shuffle_groups(), with the group at each place in `firsts` that is
    not None (an index into its choices) put first."""
    random = rng.random
    chosen = []
    for group, first in zip(groups, firsts):
        choices = group.choices
        if len(choices) == 1:
            random()
            chosen.append(choices[0])
            continue
        keys = [random() ** exponent for exponent in group.exponents]
        if first is not None:
            # Above every key, which are at most 1.
            keys[first] = 2.0
        # Largest first; sorted() keeps equal keys in order even reversed.
        chosen.extend(map(choices.__getitem__, sorted(
            range(len(keys)), key=keys.__getitem__, reverse=True)))
    return chosen


def select(index, client, request, rng, minimum=5):
    """The Choices for `client` asking `request`, best first.

    `index` is a MirrorIndex, `client` a Client, `request` a Request,
    `rng` a random.Random; fewer than `minimum` mirrors from the client's
    network, country and continent bring in the rest of the world.  An
    empty list means no mirror qualifies (the caller may offer its
    fallback list).  KeyError if the request's content key is not one of
    the index's (content_key() checks that first).

    The answer is an Order: one of the orders drawn for the combination
    of what decides the list, picked with `rng`; the caller may keep what
    it renders of it with remember()."""
    return pick(index, cached_groups(index, client, request, rng, minimum),
                rng)


def pick(index, pool, rng):
    """One of the orders of `pool` (a CandidateList of cached_groups()),
    picked with `rng` and drawn if it was not yet: select() for a caller
    that keeps the list."""
    size = pool.size
    order = pool.order(int(rng.random() * len(pool.orders)), rng)
    if pool.size != size and pool.cached:
        index.pool_bytes += pool.size - size
        _trim(index, keep=pool)
    return order
