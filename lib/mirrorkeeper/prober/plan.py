"""What to ask each mirror: plans made from the database before any probe.

The reactor never sees a Storm object.  Before the network work starts, the
database is read once into plain, immutable plans: for each mirror, the URLs
of the control files it should carry and, for each, the URLs whose presence
tells how fresh that part is.  What depends only on the distribution (the
freshness paths of its publishing history, which freshness detectors it
gets, the files they fetch and the master's history of each) is computed
once per distribution and shared by every mirror of it; the detectors'
judge (mirrorkeeper.prober.detectors) is given it as plain values.

Each mirror is also asked, with a GET, for its copy of the InRelease (or
Release, when the master has no InRelease) of each suite it is expected to
carry, and of each RPM repository's repomd.xml (ReleaseCheck): what it
serves tells whether the files of that suite are the master's current
ones.  A file a checksum detector fetches already is not fetched twice:
the detector's finding carries its SHA-256.
"""

import time

import attrs

from mirrorkeeper.enums import (
    MirrorContent, PackagePublishingPocket, SeriesStatus)
from mirrorkeeper.model.distroseries import series_expected_of
from mirrorkeeper.model.mirrorcontent import (
    binary_paths_to_check, source_paths_to_check)
from mirrorkeeper.prober.detectors import (
    MAX_CONTROL_FILE, TRACE_PATH, DetectorCheck)
from mirrorkeeper.timeutil import as_utc, utcnow


@attrs.frozen
class ContentCheck:
    """One part of the archive a mirror may carry.

    `kind` is 'binary' or 'source'; `place` is (arch series id or series id,
    pocket, component id); `freshness_urls` maps each MirrorFreshness band to
    a URL on the mirror, freshest first.
    """

    kind: str
    place: tuple
    label: str
    control_url: str
    freshness_urls: dict


@attrs.frozen
class ReleaseCheck:
    """A control file (`label`, its path on the master) whose copy a
    mirror serves at `url` tells which of the master's versions of a
    suite's or repository's files it holds; `current` is the SHA-256 of
    the master's newest, for the log."""

    label: str
    url: str
    current: str
    max_size: int = MAX_CONTROL_FILE


@attrs.frozen
class CDImageCheck:
    """The images of one (series, flavour) a CD image mirror may carry."""

    series_id: int
    series_name: str
    flavour: str
    urls: tuple


@attrs.frozen
class MirrorPlan:
    """What to ask one mirror.  Every URL of the checks is under
    `base_url`, the mirror's preferred URL; `base_urls` are all its URLs
    the prober speaks, ((scheme, base URL), ...) in order of preference,
    the content being probed at the first that answers.  `bands_as_of`
    is the instant (zoneless UTC) the content checks' freshness bands
    were told at: each band asks for an upload the master had published
    that long before then (None when no check has bands)."""

    mirror_id: int
    name: str
    base_url: str
    content: MirrorContent
    enabled: bool
    content_checks: tuple = ()
    cdimage_checks: tuple = ()
    detector_checks: tuple = ()
    base_urls: tuple = attrs.field()
    release_checks: tuple = ()
    bands_as_of: object = None

    @base_urls.default
    def _only_base_url(self):
        return ((self.base_url.split(":", 1)[0], self.base_url),)

    @property
    def urls(self):
        """Every URL the plan may ask for."""
        for check in self.content_checks:
            yield check.control_url
            yield from check.freshness_urls.values()
        for check in self.cdimage_checks:
            yield from check.urls
        for check in self.detector_checks:
            yield check.url
        for check in self.release_checks:
            yield check.url


@attrs.frozen
class _SeriesPlaces:
    """The places of one series a mirror that expects it is asked for:
    (kind, place, path, label, whether the master has its suite) of each
    Packages.gz and each Sources.gz, as guessPackagesPaths and
    guessSourcesPaths list them."""

    id: int
    status: SeriesStatus
    every_mirror: bool
    binary: tuple
    source: tuple


class _ArchivePlaces:
    """What every mirror of one distribution is asked, as plain values
    worked out once for all of them at `when`: its series' places, the
    freshness paths of each place, its freshness detectors' checks and
    the master's control files.  A plan is per mirror only in its base
    URL and its own records."""

    def __init__(self, store, distribution, mirror, when,
                 detectors=("publishing",), timestamp_file=None,
                 control_limit=MAX_CONTROL_FILE):
        """`mirror` is any mirror of `distribution`."""
        from mirrorkeeper.model.masterarchive import ArchiveScanStateSet
        self.when = when
        self.detectors = detectors
        self.control_limit = control_limit
        self._detector_checks = master_detector_checks(
            store, distribution, detectors, timestamp_file, control_limit)
        self._fetched = {check.label for check in self._detector_checks}
        self._release_files = master_release_files(store, distribution)
        self._repomd_directories = frozenset(
            directory for directory, path in self._release_files.items()
            if path[0].endswith("/repomd.xml"))
        # The suites the scanned master has; empty when it was never
        # scanned, and then every suite the registry implies is asked for.
        suites = frozenset(
            name[len("suite:"):] for name in
            ArchiveScanStateSet(store).all(distribution)
            if name.startswith("suite:"))
        self.series = tuple(
            self._series_places(mirror, series, suites)
            for series in distribution.series
            if series.status is not SeriesStatus.OBSOLETE)
        # {(kind, place): {band: path}}
        self._paths = {}
        # {(kind, place): (path, label)} of the places of mirrors' own
        # records that no series expects of them.
        self._recorded = {}
        # {(id of each series expected): the places expected}
        self._expected = {}

    @staticmethod
    def _series_places(mirror, series, suites):
        def on_master(pocket):
            return not suites or series.suite(pocket) in suites
        return _SeriesPlaces(
            series.id, series.status, series.every_mirror,
            tuple(("binary", (arch.id, pocket, component.id), path,
                   "%s/%s %s %s" % (series.name, arch.architecture_tag,
                                    component.name, pocket.name),
                   on_master(pocket))
                  for arch, pocket, component, path in
                  mirror.guessPackagesPaths([series])),
            tuple(("source", (series.id, pocket, component.id), path,
                   "%s source %s %s" % (series.name, component.name,
                                        pocket.name),
                   on_master(pocket))
                  for _, pocket, component, path in
                  mirror.guessSourcesPaths([series])))

    def _freshness_paths(self, store, kind, place):
        if (kind, place) not in self._paths:
            finder = binary_paths_to_check if kind == "binary" \
                else source_paths_to_check
            self._paths[(kind, place)] = finder(
                store, place[0], place[2], place[1], self.when)
        return self._paths[(kind, place)]

    def detector_checks_for(self, base_url):
        """The DetectorChecks of a mirror at `base_url`."""
        return tuple(attrs.evolve(check, url=base_url + check.url)
                     for check in self._detector_checks)

    def release_checks_for(self, base_url, paths):
        """The ReleaseChecks of a mirror at `base_url`: the InRelease (or
        Release) of the suite of each of `paths` (the content it is
        asked for), and every RPM repository's repomd.xml, but for the
        files its detector checks fetch already."""
        directories = set(self._repomd_directories)
        for path in paths:
            parts = path.split("/")
            if "dists" in parts:
                end = parts.index("dists") + 2
                directories.add("/".join(parts[:end]))
        return tuple(
            ReleaseCheck(path, base_url + path, current, self.control_limit)
            for path, current in sorted(
                self._release_files[directory] for directory in directories
                if directory in self._release_files)
            if path not in self._fetched)

    def expected_places(self, series, on_master=True):
        """(kind, place, path, label) of each place expected of a mirror
        expecting `series` (_SeriesPlaces), only those the master has
        unless `on_master` is false; the same for every mirror expecting
        the same series, so worked out once for each set of them."""
        key = (tuple(each.id for each in series), on_master)
        if key not in self._expected:
            self._expected[key] = tuple(
                place[:4] for kind in ("binary", "source")
                for each in series for place in getattr(each, kind)
                if place[4] or not on_master)
        return self._expected[key]

    def recorded_place(self, store, kind, place):
        """(path, label) of a place a mirror has a record of."""
        if (kind, place) not in self._recorded:
            from mirrorkeeper.model.distroseries import (
                Component, DistroArchSeries, DistroSeries)
            place_id, pocket, component_id = place
            component = store.get(Component, component_id)
            if kind == "binary":
                arch = store.get(DistroArchSeries, place_id)
                series = arch.distro_series
                self._recorded[(kind, place)] = (
                    series.packagesPath(pocket, component,
                                        arch.architecture_tag),
                    "%s/%s %s %s" % (series.name, arch.architecture_tag,
                                     component.name, pocket.name))
            else:
                series = store.get(DistroSeries, place_id)
                self._recorded[(kind, place)] = (
                    series.sourcesPath(pocket, component),
                    "%s source %s %s" % (series.name, component.name,
                                         pocket.name))
        return self._recorded[(kind, place)]

    def checks_for(self, store, base_url, series, records):
        """The ContentChecks of a mirror at `base_url` expecting `series`
        with content `records` ((kind, place) of each, in their order):
        every place expected of it that the master has, and the places of
        obsolete series, unofficial architectures and suites the master
        lacks only where it has a record of them already."""
        wanted = list(self.expected_places(series))
        expected = {(kind, place) for kind, place, _, _ in wanted}
        for kind, place in records:
            if (kind, place) not in expected:
                wanted.append((kind, place) + self.recorded_place(
                    store, kind, place))
        return tuple(
            ContentCheck(kind, place, label, base_url + path, {
                band: base_url + freshness_path
                for band, freshness_path in
                self._freshness_paths(store, kind, place).items()})
            for kind, place, path, label in wanted)


class ArchivePlanner:
    """Makes the MirrorPlans of archive mirrors, batch after batch, for one
    run: what a distribution's mirrors share (_ArchivePlaces) is worked
    out at its first mirror and kept, as plain values, for the batches
    that follow; each batch's own records are read in a few queries,
    whatever its number of mirrors.

    `freshness` is what [freshness] configures (see detectors_for; without
    it every distribution gets publishing history only); publishing history
    works through the content checks, the others through detector checks.
    `timestamp_file` names the planted timestamp file, for the timestamp
    detector.  `control_limit` bounds the control files fetched.  Bands
    are told at `when` (default: when the shared part is worked out)."""

    # Seconds what a distribution's mirrors share is kept before it is
    # worked out again, so that a long run's later batches ask for the
    # uploads the master gained meanwhile: well inside the half hour of
    # slack each freshness band has, for a few queries every 5 minutes.
    share_seconds = 300.0

    def __init__(self, when=None, freshness=None, timestamp_file=None,
                 control_limit=MAX_CONTROL_FILE):
        self.when = when
        self.freshness = freshness
        self.timestamp_file = timestamp_file
        self.control_limit = control_limit
        # {distribution id: (monotonic time made, _ArchivePlaces)}
        self._shared = {}

    def _places(self, store, mirror):
        distribution = mirror.distribution
        made, places = self._shared.get(distribution.id, (None, None))
        now = time.monotonic()
        if places is None or now - made > self.share_seconds:
            detectors = ("publishing",) if self.freshness is None else \
                detectors_for(store, distribution, self.freshness)
            places = _ArchivePlaces(
                store, distribution, mirror, self.when or utcnow(),
                detectors, self.timestamp_file, self.control_limit)
            self._shared[distribution.id] = (now, places)
        return places

    def __call__(self, store, mirrors):
        """The MirrorPlans of `mirrors` (model objects, read here, with
        `store`), in their order."""
        mirrors = list(mirrors)
        shared = {}
        for mirror in mirrors:
            if mirror.distribution_id not in shared:
                shared[mirror.distribution_id] = self._places(store, mirror)
        expected = {}
        for distribution_id, places in shared.items():
            expected.update(series_expected_of(store, places.series, [
                mirror for mirror in mirrors
                if mirror.distribution_id == distribution_id]))
        records = _content_records(store, [mirror.id for mirror in mirrors])
        plans = []
        for mirror in mirrors:
            places = shared[mirror.distribution_id]
            base_url = mirror.base_url
            series = expected[mirror.id]
            if "publishing" in places.detectors:
                content = places.checks_for(
                    store, base_url, series, records.get(mirror.id, ()))
                paths = [check.control_url[len(base_url):]
                         for check in content]
            else:
                content = ()
                paths = [place[2] for place in places.expected_places(
                    series, on_master=False)]
            plans.append(MirrorPlan(
                mirror.id, mirror.name, base_url, mirror.content,
                mirror.enabled, content_checks=content,
                detector_checks=places.detector_checks_for(base_url),
                base_urls=probed_base_urls(mirror),
                release_checks=places.release_checks_for(base_url, paths),
                bands_as_of=as_utc(places.when) if any(
                    check.freshness_urls for check in content) else None))
        return plans


def _content_records(store, mirror_ids):
    """{mirror id: [(kind, place) of each of its content records, binary
    ones first, each kind in the order they were made]}, a query per kind
    for hundreds of mirrors."""
    records = {}
    for kind, table, place in (
            ("binary", "mirror_distro_arch_series", "distro_arch_series"),
            ("source", "mirror_distro_series_source", "distro_series")):
        for start in range(0, len(mirror_ids), _MIRRORS_A_QUERY):
            chunk = mirror_ids[start:start + _MIRRORS_A_QUERY]
            for mirror_id, place_id, pocket, component_id in store.execute(
                    "SELECT distribution_mirror, %s, pocket, component "
                    "FROM %s WHERE distribution_mirror IN (%s) ORDER BY id"
                    % (place, table, ", ".join("?" * len(chunk))), chunk):
                records.setdefault(mirror_id, []).append((kind, (
                    place_id, PackagePublishingPocket(pocket),
                    component_id)))
    return records


# Mirror ids in one IN (...): well under SQLite's oldest limit of 999
# parameters.
_MIRRORS_A_QUERY = 500


def plan_archive_mirrors(store, mirrors, when=None, freshness=None,
                         timestamp_file=None,
                         control_limit=MAX_CONTROL_FILE):
    """MirrorPlans for archive `mirrors` (model objects, read here), made
    by an ArchivePlanner of these arguments: one batch."""
    return ArchivePlanner(when, freshness, timestamp_file, control_limit)(
        store, mirrors)


def detectors_for(store, distribution, configured):
    """The freshness detectors the prober uses for `distribution`, a tuple.

    `configured` is what [freshness] says: {distribution name or "*": (
    detector, ...)}, "*" standing for its "default" entry.  An entry named
    after the distribution is taken as it is: the admin chose.  Otherwise
    the default entry applies (none if there is no default), and the
    master's content adds what it needs: a distribution whose master
    carries RPM repositories also gets "checksum", the only detector that
    reads a repository's repomd.xml and so tells which mirrors carry it.
    """
    if distribution.name in configured:
        return tuple(configured[distribution.name])
    detectors = tuple(configured.get("*", ()))
    if "checksum" not in detectors and _has_rpm_repositories(
            store, distribution):
        detectors += ("checksum",)
    return detectors


def _has_rpm_repositories(store, distribution):
    from mirrorkeeper.model.masterarchive import RPMRepository
    return not store.find(
        RPMRepository, RPMRepository.distribution_id == distribution.id,
        RPMRepository.date_removed == None).is_empty()  # noqa: E711


def master_release_files(store, distribution):
    """{directory: (path, SHA-256 of the master's newest version)} of the
    control files whose copy on a mirror tells whether its files of a
    suite or RPM repository are the master's (consistency_files()); of
    the RPM repositories, only those the master still has, where it has
    them."""
    from storm.expr import Desc
    from mirrorkeeper.model.masterarchive import (
        MasterFileDetail, RPMRepositorySet, consistency_files)
    repositories = {repository.path.rstrip("/") for repository in
                    RPMRepositorySet(store).getByDistribution(distribution)}
    newest = {}
    for path, sha256 in store.find(
            (MasterFileDetail.path, MasterFileDetail.sha256),
            MasterFileDetail.distribution_id == distribution.id).order_by(
                MasterFileDetail.path, Desc(MasterFileDetail.date_first_seen),
                Desc(MasterFileDetail.id)):
        newest.setdefault(path, sha256)
    return {directory: (path, newest[path]) for directory, path in
            consistency_files(newest).items()
            if directory in repositories or not path.endswith("/repomd.xml")}


def master_detector_checks(store, distribution, detectors,
                           timestamp_file=None,
                           control_limit=MAX_CONTROL_FILE):
    """The DetectorChecks of the named `detectors` for any mirror of
    `distribution`, each with the master's history of its file and, for
    URL, the file's path under a mirror's base URL (publishing needs none:
    it works on content records); `timestamp_file` is the planted file's
    name."""
    from mirrorkeeper.model.masterarchive import (
        MasterFileDetail, RPMRepositorySet, TraceFileTimestampSet,
        is_control_file)
    from mirrorkeeper.model.timestamps import PlantedTimestampSet
    checks = []
    if "timestamp" in detectors and timestamp_file:
        history = tuple(
            (entry.date_stamp, entry.date_planted) for entry in
            PlantedTimestampSet(store).getHistory(distribution))
        checks.append(DetectorCheck("timestamp", timestamp_file,
                                    timestamp_file, "time", history))
    if "trace" in detectors:
        history = tuple(
            (entry.date_trace, entry.date_trace) for entry in
            TraceFileTimestampSet(store).getHistory(distribution, TRACE_PATH))
        checks.append(DetectorCheck("trace", TRACE_PATH, TRACE_PATH, "time",
                                    history))
    if "checksum" in detectors:
        repositories = {repository.path.rstrip("/") + "/repodata/repomd.xml":
                        repository.id for repository in
                        RPMRepositorySet(store).getByDistribution(
                            distribution)}
        paths = sorted(set(store.find(
            MasterFileDetail,
            MasterFileDetail.distribution_id == distribution.id).values(
                MasterFileDetail.path)))
        # Control files only: the indexes' details are for metalinks; a
        # series' only where it lives, a repository's only while the master
        # has it.
        roots = {series.name: series.root
                 for series in distribution.series}
        gone = {repository.path.rstrip("/") + "/repodata/repomd.xml"
                for repository in RPMRepositorySet(store).getByDistribution(
                    distribution, include_removed=True)
                if repository.date_removed is not None}
        for path in filter(is_control_file, paths):
            if path in gone and path not in repositories or \
                    not _at_its_root(path, roots):
                continue
            details = store.find(
                MasterFileDetail, distribution_id=distribution.id, path=path
            ).order_by(MasterFileDetail.date_first_seen)
            history = tuple(reversed([(detail.sha256, detail.date_first_seen)
                                      for detail in details]))
            checks.append(DetectorCheck(
                "checksum", path, path, "sha256", history,
                repositories.get(path), control_limit))
    return tuple(checks)


def _at_its_root(path, roots):
    """Whether the suite file `path` (<root>dists/<suite>/...) is at the
    root of its series (`roots`: {series name: root}), or is not a suite
    file of a known series: a series moved elsewhere is not asked for at
    its old place."""
    from mirrorkeeper.archive.scanner import split_suite
    root, found, rest = path.rpartition("dists/")
    if not found or (root and not root.endswith("/")):
        return True
    series = split_suite(rest.split("/", 1)[0])[0]
    return series not in roots or roots[series] == root


# The schemes the prober speaks, in the order a mirror's URLs are tried.
PROBED_SCHEMES = ("https", "http", "ftp", "rsync")


def probed_base_urls(mirror):
    """((scheme, base URL), ...) of the mirror's URLs the prober speaks,
    the preferred (mirror.base_url) first."""
    return tuple((scheme, getattr(mirror, scheme + "_base_url"))
                 for scheme in PROBED_SCHEMES
                 if getattr(mirror, scheme + "_base_url"))


@attrs.frozen
class ManifestEntry:
    flavour: str
    series: str
    path: str
    size: int


class ManifestError(ValueError):
    """The CD image manifest is malformed; the message names the line."""


def parse_cdimage_manifest(text):
    """The entries of a CD image manifest: one image a line, tab separated:
    flavour, series, path (relative to a mirror's base URL), size."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise ManifestError(
                "manifest line %d has %d fields, not 4 (flavour, series, "
                "path, size): %r" % (number, len(fields), line[:200]))
        flavour, series, path, size = (field.strip() for field in fields)
        try:
            size = int(size)
        except ValueError:
            raise ManifestError("manifest line %d: size %r is not a number"
                                % (number, size)) from None
        entries.append(ManifestEntry(flavour, series, path.lstrip("/"),
                                     size))
    return entries


def expected_cdimage_series(distribution, entries):
    """{(series, flavour): [paths]} of the manifest entries whose series the
    distribution has and has not made obsolete."""
    series_by_name = {series.name: series for series in distribution.series
                      if series.status is not SeriesStatus.OBSOLETE}
    expected = {}
    for entry in entries:
        series = series_by_name.get(entry.series)
        if series is not None:
            expected.setdefault((series, entry.flavour), []).append(
                entry.path)
    return expected


def plan_cdimage_mirrors(mirrors, entries):
    """MirrorPlans for CD image `mirrors` against the manifest `entries`."""
    plans = []
    for mirror in mirrors:
        expected = expected_cdimage_series(mirror.distribution, entries)
        base_url = mirror.base_url
        checks = tuple(
            CDImageCheck(series.id, series.name, flavour,
                         tuple(base_url + path for path in paths))
            for (series, flavour), paths in sorted(
                expected.items(), key=lambda item: (item[0][0].name,
                                                    item[0][1])))
        plans.append(MirrorPlan(mirror.id, mirror.name, base_url,
                                mirror.content, mirror.enabled,
                                cdimage_checks=checks,
                                base_urls=probed_base_urls(mirror)))
    return plans
