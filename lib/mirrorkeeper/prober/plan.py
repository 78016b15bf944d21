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

import attrs

from mirrorkeeper.enums import MirrorContent, SeriesStatus
from mirrorkeeper.model.mirrorcontent import (
    binary_paths_to_check, source_paths_to_check)
from mirrorkeeper.prober.detectors import (
    MAX_CONTROL_FILE, TRACE_PATH, DetectorCheck)


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
    the content being probed at the first that answers."""

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


class _ArchivePlaces:
    """The places of one distribution's archive, with their freshness paths,
    and its freshness detectors' checks, computed once for all its
    mirrors."""

    def __init__(self, store, distribution, when, detectors=("publishing",),
                 timestamp_file=None, control_limit=MAX_CONTROL_FILE):
        self.store = store
        self.distribution = distribution
        self.when = when
        self.detectors = detectors
        self.control_limit = control_limit
        self._paths = {}
        # {(id of each series expected): the places expected}
        self._expected = {}
        self._detector_checks = master_detector_checks(
            store, distribution, detectors, timestamp_file, control_limit)
        self._release_files = master_release_files(store, distribution)
        from mirrorkeeper.model.masterarchive import ArchiveScanStateSet
        # The suites the scanned master has; empty when it was never
        # scanned, and then every suite the registry implies is asked for.
        self.suites = frozenset(
            name[len("suite:"):] for name in
            ArchiveScanStateSet(store).all(distribution)
            if name.startswith("suite:"))

    def on_master(self, series, pocket):
        """Whether the master has the suite of `series` and `pocket` (or
        was never scanned, so that nothing tells)."""
        return not self.suites or series.suite(pocket) in self.suites

    def _freshness_paths(self, kind, place):
        if (kind, place) not in self._paths:
            finder = binary_paths_to_check if kind == "binary" \
                else source_paths_to_check
            self._paths[(kind, place)] = finder(
                self.store, place[0], place[2], place[1], self.when)
        return self._paths[(kind, place)]

    def detector_checks_for(self, mirror):
        """The DetectorChecks of `mirror`, at its base URL."""
        return tuple(attrs.evolve(check, url=mirror.base_url + check.url)
                     for check in self._detector_checks)

    def release_checks_for(self, mirror, content_checks=None):
        """The ReleaseChecks of `mirror`: the InRelease (or Release) of
        each suite it is expected to carry (that its `content_checks` are
        of, when it has them), and every RPM repository's repomd.xml, but
        for the files its detector checks fetch already."""
        fetched = {check.label for check in self._detector_checks}
        base_url = mirror.base_url
        directories = {directory for directory, path in
                       self._release_files.items()
                       if path[0].endswith("/repomd.xml")}
        if content_checks is None:
            paths = [entry[-1] for entry in mirror.guessPackagesPaths()] + \
                [entry[-1] for entry in mirror.guessSourcesPaths()]
        else:
            paths = [check.control_url[len(base_url):]
                     for check in content_checks]
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
            if path not in fetched)

    def _expected_places(self, mirror):
        """(kind, place, path, label) of each place `mirror` is expected to
        carry that the master has: the same for every mirror expecting the
        same series, so worked out once for each set of them."""
        series = mirror.expectedSeries()
        key = tuple(each.id for each in series)
        if key in self._expected:
            return self._expected[key]
        wanted = []
        for arch, pocket, component, path in mirror.guessPackagesPaths(
                series):
            if not self.on_master(arch.distro_series, pocket):
                continue
            wanted.append(("binary", (arch.id, pocket, component.id), path,
                           "%s/%s %s %s" % (
                               arch.distro_series.name, arch.architecture_tag,
                               component.name, pocket.name)))
        for each, pocket, component, path in mirror.guessSourcesPaths(
                series):
            if not self.on_master(each, pocket):
                continue
            wanted.append(("source", (each.id, pocket, component.id), path,
                           "%s source %s %s" % (
                               each.name, component.name, pocket.name)))
        self._expected[key] = wanted = tuple(wanted)
        return wanted

    def checks_for(self, mirror):
        """The ContentChecks of `mirror`: every place it is expected to
        carry that the master has, and the places of obsolete series,
        unofficial architectures and suites the master lacks only where it
        has a record of them already."""
        base_url = mirror.base_url
        wanted = list(self._expected_places(mirror))
        expected = {(kind, place) for kind, place, _, _ in wanted}
        for record in mirror.arch_series:
            place = (record.distro_arch_series_id, record.pocket,
                     record.component_id)
            if ("binary", place) not in expected:
                arch = record.distro_arch_series
                wanted.append(("binary", place,
                               arch.distro_series.packagesPath(
                                   record.pocket, record.component,
                                   arch.architecture_tag),
                               "%s/%s %s %s" % (
                                   arch.distro_series.name,
                                   arch.architecture_tag,
                                   record.component.name, record.pocket.name)))
        for record in mirror.source_series:
            place = (record.distro_series_id, record.pocket,
                     record.component_id)
            if ("source", place) not in expected:
                series = record.distro_series
                wanted.append(("source", place, series.sourcesPath(
                                   record.pocket, record.component),
                               "%s source %s %s" % (
                                   series.name, record.component.name,
                                   record.pocket.name)))
        return tuple(
            ContentCheck(kind, place, label, base_url + path, {
                band: base_url + freshness_path
                for band, freshness_path in
                self._freshness_paths(kind, place).items()})
            for kind, place, path, label in wanted)


def plan_archive_mirrors(store, mirrors, when=None, freshness=None,
                         timestamp_file=None,
                         control_limit=MAX_CONTROL_FILE):
    """MirrorPlans for archive `mirrors` (model objects, read here).

    `freshness` is what [freshness] configures (see detectors_for; without
    it every distribution gets publishing history only); publishing history
    works through the content checks, the others through detector checks.
    `timestamp_file` names the planted timestamp file, for the timestamp
    detector.  What a distribution's mirrors share is planned once, at its
    first mirror.  `control_limit` bounds the control files fetched.
    """
    places = {}
    plans = []
    for mirror in mirrors:
        distribution = mirror.distribution
        if distribution.id not in places:
            detectors = ("publishing",) if freshness is None else \
                detectors_for(store, distribution, freshness)
            places[distribution.id] = _ArchivePlaces(
                store, distribution, when, detectors, timestamp_file,
                control_limit)
        archive = places[distribution.id]
        content = archive.checks_for(mirror) \
            if "publishing" in archive.detectors else None
        plans.append(MirrorPlan(
            mirror.id, mirror.name, mirror.base_url, mirror.content,
            mirror.enabled, content_checks=content or (),
            detector_checks=archive.detector_checks_for(mirror),
            base_urls=probed_base_urls(mirror),
            release_checks=archive.release_checks_for(mirror, content)))
    return plans


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
