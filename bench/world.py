"""A reproducible world of mirrors for the benchmarks.

A world is plain data, generated from a seed: a distribution with its series,
architectures, components and pockets; a publishing history spread over a few
weeks; and K mirrors spread over the continents, each with a country,
bandwidth, netblocks, an ASN, a loopback address, a per-request latency and a
behaviour:

    fresh        carries everything, synced a few minutes ago
    behind       carries everything, last synced `lag_hours` ago
    partial      carries some series, architectures or components only
    slow         fresh, but every answer takes several times longer
    flaky        fresh, but about one request in seven answers 503
    redirecting  answers every request with a 302 to the same path on its
                 new host (127.78.x.y), which serves a fresh mirror
    empty        answers 404 to everything
    refusing     nothing listens at its address: connections are refused
    dead         accepts connections and never answers

    world = generate_world("quick", mirrors=300, seed=1, port=8080)
    world.answer(world.mirrors[0], "/ubuntu/dists/...")   # (200, None)
    build_database(world, "sqlite:/tmp/x/world.db")

Mirror i is generated from (seed, i) alone, so the first K mirrors of a
bigger world are the same mirrors: scaling runs compare like with like.
The farm (bench/farm.py) answers from `World.answer`; the benchmark checks
the prober's records against `World.expected_records`, which is worked out
from the world's description, not from the database.
"""

from __future__ import annotations

import json
import math
import random
import zlib
from datetime import datetime, timedelta

from mirrorkeeper.enums import (
    POCKET_ORDER, BinaryPackageFileType, MirrorContent, MirrorFreshness,
    MirrorPulseType, MirrorSpeed, MirrorStatus, PackagePublishingPocket,
    SeriesStatus, SourcePackageFileType)
from mirrorkeeper.freshness import freshness_found, uploads_to_check
from mirrorkeeper.model.publishing import pool_path

# The sizes `python -m bench --size` knows.  Every size has the same archive
# (so a mirror costs about the same number of requests in each); they differ
# in the numbers of mirrors the prober is run against.
SIZES = {
    "quick": {"mirror_counts": (100, 300)},
    "large": {"mirror_counts": (100, 1000, 5000)},
}

SERIES_NAMES = ["aurora", "boreal", "cirrus", "drizzle", "ember", "fjord"]
ARCHITECTURES = ["amd64", "arm64", "ppc64el", "s390x", "armhf", "i386"]
UNOFFICIAL_ARCHITECTURES = ["riscv64"]
COMPONENTS = ["main", "universe", "restricted", "multiverse"]

# The shape of the archive every size shares: with it a fresh mirror is asked
# about 200 URLs (60 index files and the uploads telling their freshness).
ARCHIVE_SHAPE = {"series": 3, "architectures": 2, "components": 2,
                 "weeks": 2}

# Uploads a day into each pocket of the development series and of the
# others; universe gets half as many as main.
DEVELOPMENT_RATES = {"RELEASE": 48.0, "PROPOSED": 24.0}
STABLE_RATES = {"SECURITY": 6.0, "UPDATES": 12.0, "PROPOSED": 24.0,
                "BACKPORTS": 1.0}

# continent: (share of the mirrors, countries, latency range in seconds).
# Latencies are loopback stand-ins for round trips from one prober.
CONTINENTS = {
    "EU": (40, ["DE", "FR", "GB", "NL", "SE", "FI", "CZ", "PL", "IT", "ES"],
           (0.010, 0.030)),
    "NA": (25, ["US", "CA", "MX"], (0.030, 0.060)),
    "AS": (18, ["JP", "CN", "IN", "KR", "SG", "TW", "ID"], (0.050, 0.090)),
    "SA": (7, ["BR", "AR", "CL"], (0.050, 0.080)),
    "OC": (5, ["AU", "NZ"], (0.070, 0.100)),
    "AF": (5, ["ZA", "KE", "EG"], (0.060, 0.100)),
}

# behaviour: share of the mirrors.
BEHAVIOURS = {
    "fresh": 40, "behind": 26, "partial": 8, "slow": 4, "flaky": 6,
    "redirecting": 5, "empty": 4, "refusing": 5, "dead": 2,
}
BEHIND_LAGS = [1.0, 2.0, 4.0, 12.0, 30.0, 60.0, 200.0]
# A slow mirror answers in 100-150 ms wherever it is.
SLOW_LATENCY = (0.100, 0.150)
FLAKY_PERCENT = 15
BANDWIDTHS = [(100, MirrorSpeed.S100M), (1000, MirrorSpeed.S1G),
              (10000, MirrorSpeed.S10G), (40000, MirrorSpeed.S40G)]

# How long a run may start after the world was generated without an upload
# changing freshness band: no upload's age lies this close below a band's
# threshold.
BAND_MARGIN = timedelta(minutes=10)

BASE_PATH = "/ubuntu/"
LOOPBACK_PREFIX = "127.77"


MOVED_PREFIX = "127.78"


def mirror_address(index, prefix=LOOPBACK_PREFIX):
    """The loopback address of mirror `index`: 127.77.x.y, one per mirror
    (127.78.x.y for the new host of a redirecting mirror)."""
    return "%s.%d.%d" % (prefix, index // 250, index % 250 + 1)


def _weighted(rng, table):
    total = sum(table.values())
    pick = rng.uniform(0, total)
    for key, weight in table.items():
        pick -= weight
        if pick <= 0:
            return key
    return key


def _stable_percent(*parts):
    return zlib.crc32("\0".join(parts).encode()) % 100


class World:
    """A generated world: `description` is JSON-able plain data."""

    def __init__(self, description):
        self.description = description
        self.now = datetime.fromisoformat(description["now"])
        self.port = description["port"]
        self.mirrors = description["mirrors"]
        self.series = description["series"]
        # Every host the farm serves: the mirrors, and the new hosts the
        # redirecting mirrors send their clients to.
        self.hosts = list(self.mirrors)
        for mirror in self.mirrors:
            if mirror["behaviour"] == "redirecting":
                self.hosts.append({
                    "index": mirror["index"], "name": mirror["name"] +
                    "-moved", "address": mirror["moved_to"],
                    "latency": mirror["latency"], "behaviour": "fresh"})
        self._by_name = {m["name"]: m for m in self.hosts}
        self._by_address = {m["address"]: m for m in self.hosts}
        self._index_files()

    # Serialisation.

    def to_json(self):
        return json.dumps(self.description, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls(json.loads(text))

    # The archive as paths.

    def _index_files(self):
        """Every path the archive has, with what it belongs to."""
        self.index_places = {}  # dists/... -> place
        self.pool_files = {}    # pool/... -> (place, published)
        self.place_uploads = {}  # place -> [(published, path)], newest first
        for series in self.series:
            for pocket in POCKET_ORDER:
                suite = series["name"] + pocket.suffix
                for component in series["components"]:
                    for arch, _ in series["architectures"]:
                        self.index_places[
                            "dists/%s/%s/binary-%s/Packages.gz"
                            % (suite, component, arch)] = (
                                series["name"], arch, pocket.name, component)
                    self.index_places["dists/%s/%s/source/Sources.gz" % (
                        suite, component)] = (
                            series["name"], "source", pocket.name, component)
        for upload in self.description["uploads"]:
            published = self.now - timedelta(seconds=upload["age"])
            for place, path in self.upload_files(upload):
                self.pool_files[path] = (place, published)
                self.place_uploads.setdefault(place, []).append(
                    (published, path))
        for uploads in self.place_uploads.values():
            uploads.sort(reverse=True)

    def upload_files(self, upload):
        """[(place, pool path)] of an upload: its .dsc and one .deb per
        architecture of its series."""
        series = self.series_by_name(upload["series"])
        name, version, component = (upload["source"], upload["version"],
                                    upload["component"])
        files = [((series["name"], "source", upload["pocket"], component),
                  pool_path(component, name, "%s_%s.dsc" % (name, version)))]
        for arch, _ in series["architectures"]:
            files.append(((series["name"], arch, upload["pocket"], component),
                          pool_path(component, name, "%s_%s_%s.deb"
                                    % (name, version, arch))))
        return files

    def series_by_name(self, name):
        for series in self.series:
            if series["name"] == name:
                return series
        raise KeyError(name)

    def mirror(self, name):
        return self._by_name[name]

    def base_url(self, mirror):
        return "http://%s:%d%s" % (mirror["address"], self.port, BASE_PATH)

    # What a mirror answers.

    def carries(self, mirror, place):
        carried = mirror.get("carries")
        if carried is None:
            return True
        series, arch, _, component = place
        return (series in carried["series"]
                and arch in carried["architectures"]
                and component in carried["components"])

    def answer(self, mirror, target):
        """(status, location or None) of a HEAD of `target` (the request
        target, a str) on `mirror`.  Refusing and dead mirrors never get
        this far: the farm does not listen for, or never answers, them."""
        behaviour = mirror["behaviour"]
        if behaviour == "redirecting":
            path = target[len(BASE_PATH):] if target.startswith(BASE_PATH) \
                else target.lstrip("/")
            return 302, self.base_url(
                self._by_address[mirror["moved_to"]]) + path
        if behaviour == "empty" or not target.startswith(BASE_PATH):
            return 404, None
        if behaviour == "flaky" and \
                _stable_percent(mirror["name"], target) < FLAKY_PERCENT:
            return 503, None
        path = target[len(BASE_PATH):]
        place = self.index_places.get(path)
        if place is not None:
            return (200 if self.carries(mirror, place) else 404), None
        found = self.pool_files.get(path)
        if found is not None:
            place, published = found
            synced = self.now - timedelta(hours=mirror.get("lag_hours", 0))
            if self.carries(mirror, place) and published <= synced:
                return 200, None
        return 404, None

    def found(self, mirror, target):
        """True if a probe of `target` on `mirror` ends in a 200, following
        redirects as the prober does."""
        for _ in range(5):
            if mirror["behaviour"] in ("refusing", "dead"):
                return False
            status, location = self.answer(mirror, target)
            if status != 302:
                return status == 200
            rest = location.split("://", 1)[1]
            address = rest.split(":", 1)[0]
            mirror = self._by_address[address]
            target = "/" + rest.split("/", 1)[1]
        return False

    def probed_places(self):
        """The places the prober asks a mirror about that has no records
        yet: those of series that are not obsolete, official
        architectures only."""
        places = []
        for series in self.series:
            if series["status"] == SeriesStatus.OBSOLETE.name:
                continue
            official = [arch for arch, is_official in series["architectures"]
                        if is_official]
            for pocket in POCKET_ORDER:
                for component in series["components"]:
                    for arch in official + ["source"]:
                        places.append((series["name"], arch, pocket.name,
                                       component))
        return places

    def index_path(self, place):
        series, arch, pocket, component = place
        suite = series + PackagePublishingPocket[pocket].suffix
        if arch == "source":
            return "dists/%s/%s/source/Sources.gz" % (suite, component)
        return "dists/%s/%s/binary-%s/Packages.gz" % (suite, component, arch)

    def expected_records(self, mirror, when):
        """{place: MirrorFreshness name} of the records a run starting at
        `when` should leave for `mirror` (which had none before)."""
        records = {}
        for place in self.probed_places():
            if not self.found(mirror, BASE_PATH + self.index_path(place)):
                continue
            uploads = [(published, path) for published, path
                       in self.place_uploads.get(place, ())
                       if published <= when]
            chosen = uploads_to_check(uploads, when)
            found = {path for path in chosen.values()
                     if self.found(mirror, BASE_PATH + path)}
            records[place] = freshness_found(chosen, found).name
        return records


def _upload_ages(rng, per_day, weeks):
    """Ages in seconds of a pocket's uploads, a Poisson process over
    `weeks`, none just below a freshness band's threshold."""
    ages, age = [], 0.0
    horizon = weeks * 7 * 86400
    thresholds = [band.threshold.total_seconds()
                  for band in MirrorFreshness if band.threshold is not None]
    margin = BAND_MARGIN.total_seconds()
    while per_day > 0:
        age += rng.expovariate(per_day / 86400.0)
        if age > horizon:
            break
        if age < 120 or any(t - margin <= age < t for t in thresholds):
            continue
        ages.append(round(age, 1))
    return ages


def _generate_archive(rng, shape):
    series = []
    count = shape["series"]
    for i in range(count):
        if i == count - 1:
            status = SeriesStatus.DEVELOPMENT
        elif i == count - 2:
            status = SeriesStatus.CURRENT
        elif i == 0 and count >= 3:
            status = SeriesStatus.OBSOLETE
        else:
            status = SeriesStatus.SUPPORTED
        architectures = [[arch, True] for arch in
                         ARCHITECTURES[:shape["architectures"]]]
        architectures += [[arch, False] for arch in UNOFFICIAL_ARCHITECTURES]
        series.append({
            "name": SERIES_NAMES[i], "version": "%d.04" % (20 + 2 * i),
            "status": status.name,
            "components": COMPONENTS[:shape["components"]],
            "architectures": architectures})
    uploads = []
    number = 0
    for s in series:
        if s["status"] == SeriesStatus.OBSOLETE.name:
            continue
        rates = DEVELOPMENT_RATES if s["status"] == \
            SeriesStatus.DEVELOPMENT.name else STABLE_RATES
        for pocket in POCKET_ORDER:
            for c, component in enumerate(s["components"]):
                per_day = rates.get(pocket.name, 0) / (1 + c)
                for age in _upload_ages(rng, per_day, shape["weeks"]):
                    number += 1
                    source = ("libpkg%d" if number % 5 == 0 else "pkg%d") \
                        % number
                    uploads.append({
                        "series": s["name"], "pocket": pocket.name,
                        "component": component, "source": source,
                        "version": "%d.0-1" % (number % 7 + 1), "age": age})
    return series, uploads


def _netblocks(rng):
    blocks = []
    for _ in range(rng.randint(1, 2)):
        first = rng.choice([23, 31, 45, 62, 80, 91, 130, 141, 151, 185, 193,
                            203, 213])
        blocks.append("%d.%d.%d.0/%d" % (first, rng.randrange(256),
                                         rng.randrange(256),
                                         rng.choice([22, 23, 24])))
    if rng.random() < 0.5:
        blocks.append("2a0%x:%x::/32" % (rng.randrange(16),
                                         rng.randrange(1, 65536)))
    return blocks


def _generate_mirror(seed, index, series):
    """Mirror `index`, from (seed, index) alone."""
    rng = random.Random("%s:mirror:%d" % (seed, index))
    continent = _weighted(rng, {c: v[0] for c, v in CONTINENTS.items()})
    _, countries, (low, high) = CONTINENTS[continent]
    country = rng.choice(countries)
    bandwidth, speed = rng.choice(BANDWIDTHS)
    behaviour = _weighted(rng, BEHAVIOURS)
    mirror = {
        "index": index,
        "name": "mirror-%05d-%s" % (index, country.lower()),
        "address": mirror_address(index),
        "country": country, "continent": continent,
        "bandwidth_mbps": bandwidth, "speed": speed.name,
        "asn": 64512 + rng.randrange(2000) if rng.random() < 0.3
        else rng.randrange(1000, 60000),
        "netblocks": _netblocks(rng),
        "latency": round(rng.uniform(low, high), 4),
        "status": "OFFICIAL" if rng.random() < 0.8 else "UNOFFICIAL",
        "behaviour": behaviour,
    }
    if behaviour == "behind":
        mirror["lag_hours"] = rng.choice(BEHIND_LAGS)
    elif behaviour == "slow":
        mirror["latency"] = round(rng.uniform(*SLOW_LATENCY), 4)
    elif behaviour == "partial":
        names = [s["name"] for s in series]
        architectures = sorted({arch for s in series
                                for arch, _ in s["architectures"]})
        components = series[0]["components"]
        carries = {"series": names, "architectures":
                   architectures + ["source"], "components": components}
        what = rng.choice(["series", "architectures", "components"])
        if what == "series":
            carries["series"] = names[-1:]
        elif what == "architectures":
            carries["architectures"] = [architectures[0], "source"]
        else:
            carries["components"] = components[:1]
        mirror["carries"] = carries
        mirror["lag_hours"] = rng.choice([0.0, 0.0, 4.0])
    elif behaviour == "redirecting":
        mirror["moved_to"] = mirror_address(index, MOVED_PREFIX)
    return mirror


def generate_world(size="quick", mirrors=100, seed=1, port=8080, now=None,
                   shape=None):
    """A World of `mirrors` mirrors whose mirror base URLs are
    http://127.77.x.y:`port`/ubuntu/; upload dates are relative to `now`
    (default: the current time, UTC)."""
    if size not in SIZES:
        raise ValueError("unknown size %r; choose from %s"
                         % (size, ", ".join(SIZES)))
    from mirrorkeeper.timeutil import utcnow
    now = now or utcnow().replace(microsecond=0)
    shape = dict(shape or ARCHIVE_SHAPE)
    series, uploads = _generate_archive(
        random.Random("%s:archive" % (seed,)), shape)
    generated = [_generate_mirror(seed, index, series)
                 for index in range(mirrors)]
    return World({
        "seed": seed, "size": size, "now": now.isoformat(), "port": port,
        "shape": shape, "series": series, "uploads": uploads,
        "mirrors": generated,
    })


def build_database(world, store):
    """Write `world` into `store` (schema applied, registry empty) through
    the model, as registration and the archive scanner would, and commit."""
    from mirrorkeeper.model.country import CountrySet
    from mirrorkeeper.model.distribution import DistributionSet
    from mirrorkeeper.model.distroseries import ComponentSet
    from mirrorkeeper.model.person import PersonSet
    from mirrorkeeper.model.publishing import PublishingSet

    people = PersonSet(store)
    admin = people.new("mirror-admin", "Mirror Admin", "admin@example.com")
    admins = people.newTeam("mirror-admins", "Mirror Admins",
                            members=[admin])
    distribution = DistributionSet(store).new(
        "ubuntu", "Ubuntu", "Ubuntu", owner=admin, mirror_admin=admins)
    components = {}
    for series in world.series:
        for name in series["components"]:
            if name not in components:
                components[name] = ComponentSet(store).ensure(name)
    series_objects, arch_objects = {}, {}
    for i, series in enumerate(world.series):
        s = distribution.newSeries(
            series["name"], series["version"],
            SeriesStatus[series["status"]],
            [components[c] for c in series["components"]],
            world.now - timedelta(days=180 * (len(world.series) - i)))
        series_objects[series["name"]] = s
        for arch, official in series["architectures"]:
            arch_objects[(series["name"], arch)] = s.newArch(
                arch, official=official)
    publishing = PublishingSet(store)
    for upload in world.description["uploads"]:
        series = world.series_by_name(upload["series"])
        pocket = PackagePublishingPocket[upload["pocket"]]
        component = components[upload["component"]]
        published = world.now - timedelta(seconds=upload["age"])
        name, version = upload["source"], upload["version"]
        publishing.publishSource(
            series_objects[series["name"]], component, pocket, name, version,
            [("%s_%s.dsc" % (name, version), SourcePackageFileType.DSC)],
            published)
        for arch, _ in series["architectures"]:
            publishing.publishBinary(
                arch_objects[(series["name"], arch)], component, pocket,
                name, version,
                [("%s_%s_%s.deb" % (name, version, arch),
                  BinaryPackageFileType.DEB)], published)
    countries = CountrySet(store)
    owners = []
    for mirror in world.mirrors:
        if mirror["index"] % 5 == 0:
            number = len(owners)
            owners.append(people.new(
                "owner-%d" % number, "Mirror Owner %d" % number,
                "owner-%d@example.org" % number))
        new = distribution.newMirror(
            owners[-1], mirror["name"], MirrorSpeed[mirror["speed"]],
            countries[mirror["country"]], MirrorContent.ARCHIVE,
            MirrorPulseType.PULL, http_base_url=world.base_url(mirror),
            official_candidate=True, enabled=True,
            netblocks=mirror["netblocks"],
            bandwidth_mbps=mirror["bandwidth_mbps"], asn=mirror["asn"])
        new.status = MirrorStatus[mirror["status"]]
        new.reviewer = admin
        new.date_reviewed = world.now - timedelta(days=30)
    store.commit()
    return distribution


def lower_bound(hosts, max_parallel, per_host):
    """The shortest time a run could take, in seconds, and what sets it.

    `hosts` is {host: (answered, latency, hung, timeout)}: the requests a
    host answered, each after `latency` seconds, and those it never
    answered, each given up after `timeout`.  One host can take at most
    `per_host` requests at once, so it needs at least
    ceil(answered / per_host) * latency + ceil(hung / per_host) * timeout;
    the run can have at most `max_parallel` requests in flight, so it needs
    at least the sum of all request times divided by `max_parallel`.
    Returns {"seconds", "global", "host", "slowest_host"}.
    """
    worst_host, worst = None, 0.0
    total = 0.0
    for host, (answered, latency, hung, timeout) in hosts.items():
        seconds = math.ceil(answered / per_host) * latency + \
            math.ceil(hung / per_host) * timeout
        total += answered * latency + hung * timeout
        if seconds > worst:
            worst_host, worst = host, seconds
    global_bound = total / max_parallel
    return {"seconds": max(worst, global_bound), "global": global_bound,
            "host": worst, "slowest_host": worst_host}
