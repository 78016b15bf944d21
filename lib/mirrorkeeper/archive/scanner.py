"""The master archive scanner: brings the database up to date with a master
tree on local disk.  See IArchiveScanner for the contract.

The parts of the master are scanned one at a time, each in a transaction of
its own: every Debian suite (dists/<suite>), every RPM repository, every
trace file.  A part is skipped, reading but never writing, when its
signature (its control file's SHA-256 and its directories' ctimes) is the
one its last successful scan recorded.

Dates of publication: on a suite's first scan, a package is dated by its
pool file's modification time (the best the master tells of when it came);
after that, by the time of the scan that first saw it.

Series that live under a root of their own (IDistroSeries.root: moved to
their release or archive location) are scanned there, <root>dists/<suite>,
and their pool paths are recorded relative to that root, as the mirrors
are asked for them under it.  A distribution's development root
(IDistribution.development_root, e.g. 'development/') is where its series
in development appear: a suite there of a series the registry does not
know (and the main dists/ does not have) is a new series in development,
recorded at its development location with that root.

New series: the series the master has at a distribution's first scan are
its series, expected of every mirror.  A series a later scan finds is a
new release: expected at once only of the mirrors that pick up new series
by themselves, while the owners of the others are told by mail, queued in
the transaction that records the series, so that they are told once
(mirrorkeeper.mail.releases).
"""

import hashlib
import os

import attrs
from zope.interface import implementer

from mirrorkeeper.archive import debian, rpm, trace
from mirrorkeeper.archive.files import (
    ArchiveFileError, details_of, read_file, utc_mtime)
from mirrorkeeper.archive.publications import (
    BINARY, SOURCE, NewPublication, PlaceSynchroniser)
from mirrorkeeper.enums import PackagePublishingPocket, SeriesStatus
from mirrorkeeper.errors import MirrorKeeperError
from mirrorkeeper.interfaces.archive import IArchiveScanner
from mirrorkeeper.mail.releases import queue_new_series
from mirrorkeeper.model.distroseries import (
    IN_DEVELOPMENT, ComponentSet, DistroSeriesSet)
from mirrorkeeper.model.masterarchive import (
    RELEASE_FILES, ArchiveScanStateSet, MasterFileDetailSet,
    RPMRepositorySet, TraceFileTimestampSet, is_package_index)
from mirrorkeeper.settings import Archive
from mirrorkeeper.timeutil import as_utc, utcnow

# Suite suffixes beyond the pockets' own (Debian names its proposed
# updates so).
_EXTRA_SUFFIXES = {"-proposed-updates": PackagePublishingPocket.PROPOSED}

# What Debian's Suite field tells of a new series' status; other archives
# (Ubuntu's Suite is the codename) get SUPPORTED, for an admin to adjust.
_DEBIAN_SUITE_STATUS = {
    "stable": SeriesStatus.CURRENT,
    "oldstable": SeriesStatus.SUPPORTED,
    "oldoldstable": SeriesStatus.SUPPORTED,
    "testing": SeriesStatus.DEVELOPMENT,
    "unstable": SeriesStatus.DEVELOPMENT,
    "experimental": SeriesStatus.EXPERIMENTAL,
}

# Architectures in a Release file that are not arch series.
_NOT_ARCHES = frozenset(["all", "source"])


@attrs.define
class ScanReport:
    """What a scan found and did.  `problems` are (path, message) pairs;
    `rows_written` counts every row the scan inserted or updated."""

    suites_scanned: list = attrs.Factory(list)
    suites_unchanged: list = attrs.Factory(list)
    repositories_scanned: list = attrs.Factory(list)
    repositories_unchanged: list = attrs.Factory(list)
    published: int = 0
    superseded: int = 0
    deleted: int = 0
    file_details: int = 0
    trace_timestamps: int = 0
    new_series: list = attrs.Factory(list)
    rows_written: int = 0
    problems: list = attrs.Factory(list)

    @property
    def failed(self):
        return bool(self.problems)


def split_suite(name):
    """(series name, PackagePublishingPocket) of a suite name."""
    suffixes = dict(_EXTRA_SUFFIXES)
    suffixes.update((pocket.suffix, pocket)
                    for pocket in PackagePublishingPocket if pocket.suffix)
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[:-len(suffix)], suffixes[suffix]
    return name, PackagePublishingPocket.RELEASE


def directory_signature(root, top):
    """A digest of the ctimes of `top` and every directory below it."""
    digest = hashlib.sha256()
    for directory, subdirs, _ in os.walk(os.path.join(root, top)):
        subdirs.sort()
        digest.update(b"%s:%d\n" % (os.fsencode(directory),
                                    os.stat(directory).st_ctime_ns))
    return digest.hexdigest()


@implementer(IArchiveScanner)
class ArchiveScanner:
    """Scans the master tree at `root` for `distribution`, writing with
    `store`; `when` (default: now) is the time of the scan."""

    def __init__(self, store, distribution, root, logger, when=None,
                 progress=None, config=None,
                 release_versions=Archive.release_versions.default):
        """`progress`, if given, is called as progress(done, total, label)
        after each part of the master (a suite, an RPM repository, a trace
        file) is scanned.  `config` (a Config or a MailSettings; default:
        what load_config() finds) is for the mail about new series.
        `release_versions` versions of each Release and InRelease keep the
        index files they list."""
        self.release_versions = release_versions
        self.store = store
        self.distribution = distribution
        self.root = os.path.abspath(root)
        self.logger = logger
        self.when = as_utc(when) or utcnow()
        self.progress = progress
        self.config = config
        self.report = None
        self._states = {}
        self._first_scan = False
        self._announced = []  # new series of the part being scanned
        self._suite_root = ""  # the root of the suite being scanned

    def scan(self):
        self.report = ScanReport()
        self._states = {name: state.signature for name, state in
                        ArchiveScanStateSet(self.store).all(
                            self.distribution).items()}
        self._first_scan = not self._states
        roots = {series.name: series.root
                 for series in self.distribution.series}
        development_root = self.distribution.development_root
        self.store.rollback()  # Reading began a transaction; end it.
        suites = self._suite_dirs(roots, development_root)
        found = rpm.find_repositories(self.root)
        traces = trace.find_trace_files(self.root)
        parts = [(suite_dir, self._scan_suite, suite_dir)
                 for suite_dir in suites]
        parts += [(path or ".", self._scan_repository, path)
                  for path in found]
        parts.append(("(rpm repositories)", self._mark_removed_repositories,
                      found))
        parts += [(path, self._scan_trace, path) for path in traces]
        for done, (label, function, argument) in enumerate(parts, 1):
            self._in_transaction(label, function, argument)
            if self.progress is not None:
                self.progress(done, len(parts), label)
        return self.report

    def _in_transaction(self, label, function, *args):
        """Run one part: committed if it succeeds, rolled back and reported
        if the master is at fault."""
        self._announced = []
        try:
            function(*args)
            self.store.commit()
            self.report.new_series += self._announced
        except ArchiveFileError as error:
            self.store.rollback()
            self._problem(error.path, error.problem)
        except MirrorKeeperError as error:
            self.store.rollback()
            self._problem(label, str(error))
        except BaseException:
            self.store.rollback()
            raise

    def _problem(self, path, message):
        self.report.problems.append((path, message))
        self.logger.error("%s: %s", path, message)

    def _save_state(self, name, signature):
        ArchiveScanStateSet(self.store).save(self.distribution, name,
                                             signature, self.when)
        self.report.rows_written += 1

    def _record_details(self, path, data, stat_result, control=True):
        """Record a master file's details; `control` false for a package
        index, which is not a control file version of the report."""
        details = MasterFileDetailSet(self.store)
        detail = details.record(self.distribution, path,
                                details_of(data, stat_result), self.when)
        if detail is not None:
            if control:
                self.report.file_details += 1
            self.report.rows_written += 1
            if path.rsplit("/", 1)[-1] in RELEASE_FILES:
                # What it lists, for the clients that read it.
                listed = {name: (entry.sha256, entry.size) for name, entry
                          in debian.parse_release(data, path).files.items()
                          if entry.sha256}
                details.recordListed(detail, listed, self.release_versions)
                self.report.rows_written += len(listed)

    # Debian suites.

    def _suite_names(self, dists_dir):
        dists = os.path.join(self.root, dists_dir)
        try:
            entries = sorted(os.scandir(dists), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return []
        # Symbolic links (stable -> bookworm) name suites scanned already.
        return [entry.name for entry in entries
                if entry.is_dir(follow_symlinks=False) and any(
                    os.path.isfile(os.path.join(entry.path, name))
                    for name in ("InRelease", "Release"))]

    def _suite_dirs(self, roots, development_root=None):
        """The suites to scan, as directories relative to the root: those
        of dists/, but for the series (`roots`: {name: root}) that live
        under a root of their own, whose suites are scanned there; and
        those under `development_root` of series neither knows."""
        main = self._suite_names("dists")
        suite_dirs = ["dists/" + name for name in main
                      if not roots.get(split_suite(name)[0])]
        for series_name, root in sorted(roots.items()):
            if root:
                suite_dirs += [
                    root + "dists/" + name
                    for name in self._suite_names(root + "dists")
                    if split_suite(name)[0] == series_name]
        if development_root:
            known = set(roots) | {split_suite(name)[0] for name in main}
            suite_dirs += [
                development_root + "dists/" + name
                for name in self._suite_names(development_root + "dists")
                if split_suite(name)[0] not in known]
        return suite_dirs

    def _scan_suite(self, suite_dir):
        name = suite_dir.rsplit("/", 1)[1]
        # Pool paths in the indexes are relative to the series' root.
        self._suite_root = suite_dir[:-len("dists/" + name)]
        release_files = [(path,) + read_file(self.root, path)
                         for path in (suite_dir + "/InRelease",
                                      suite_dir + "/Release")
                         if os.path.isfile(os.path.join(self.root, path))]
        signature = " ".join(
            [hashlib.sha256(data).hexdigest() for _, data, _ in
             release_files] + [directory_signature(self.root, suite_dir)])
        state_name = "suite:" + name
        first_scan = state_name not in self._states
        if self._states.get(state_name) == signature:
            self.report.suites_unchanged.append(name)
            return
        path, data, _ = release_files[0]
        release = debian.parse_release(data, path)
        series_name, pocket = split_suite(name)
        series = self._ensure_series(series_name, release)
        components = ComponentSet(self.store)
        for component_name in release.components:
            component = components.ensure(component_name.rsplit("/", 1)[-1])
            series.addComponent(component)
            self._scan_component(release, suite_dir, series, component,
                                 component_name, pocket, first_scan)
        for path, data, stat_result in release_files:
            self._record_details(path, data, stat_result)
        # Its Packages and Sources indexes too, for their metalinks.
        for listed in sorted(release.files):
            path = "%s/%s" % (suite_dir, listed)
            if is_package_index(listed) and \
                    os.path.isfile(os.path.join(self.root, path)):
                self._record_details(path, *read_file(self.root, path),
                                     control=False)
        self._save_state(state_name, signature)
        self._states[state_name] = signature
        self.report.suites_scanned.append(name)

    def _ensure_series(self, name, release):
        series = DistroSeriesSet(self.store).findByName(self.distribution,
                                                        name)
        if series is None:
            status = _DEBIAN_SUITE_STATUS.get(release.suite,
                                              SeriesStatus.SUPPORTED)
            if self._suite_root and status not in IN_DEVELOPMENT:
                # Found under the development root: not released yet.
                status = SeriesStatus.DEVELOPMENT
            series = self.distribution.newSeries(
                name, release.version, status,
                date_created=release.date or self.when,
                every_mirror=self._first_scan, root=self._suite_root)
            self.report.rows_written += 1
            if not self._first_scan:
                self._announce(series)
        elif not series.version and release.version:
            series.version = release.version
        existing = {arch.architecture_tag for arch in series.architectures}
        for tag in release.architectures:
            if tag not in _NOT_ARCHES and tag not in existing:
                series.newArch(tag)
                self.report.rows_written += 1
        return series

    def _announce(self, series):
        """A new release: expected of the mirrors that pick up new series;
        the owners of the others are told."""
        told = queue_new_series(self.store, series, self.config)
        self._announced.append(series.name)
        self.report.rows_written += 1 + len(told)
        self.logger.info("New series %s: %d owner(s) of mirrors that do "
                         "not pick up new series told.", series.name,
                         len(told))

    def _index(self, release, suite_dir, base, parse):
        path, text = debian.read_index(self.root, suite_dir, release, base)
        return parse(text, path)

    def _scan_component(self, release, suite_dir, series, component,
                        component_path, pocket, first_scan):
        synchroniser = PlaceSynchroniser(self.store)
        base = release.index_base(component_path, "source")
        if release.lists(base):
            entries = {(entry.name, entry.version): entry for entry in
                       self._index(release, suite_dir, base,
                                   debian.parse_sources)}
            self._count(synchroniser.synchronise(
                SOURCE, series.id, component.id, pocket, entries,
                lambda entry: self._new_source(entry, first_scan, release),
                self.when))
        arch_all = []
        base = release.index_base(component_path, "binary", "all")
        if release.no_arch_all_in_packages and release.lists(base):
            arch_all = self._index(release, suite_dir, base,
                                   debian.parse_packages)
        for arch in series.architectures:
            bases = [release.index_base(component_path, kind,
                                        arch.architecture_tag)
                     for kind in ("binary", "udeb")]
            bases = [base for base in bases if release.lists(base)]
            if not bases:
                continue
            entries = {(entry.name, entry.version): entry
                       for entry in arch_all}
            for base in bases:
                for entry in self._index(release, suite_dir, base,
                                         debian.parse_packages):
                    entries[(entry.name, entry.version)] = entry
            self._count(synchroniser.synchronise(
                BINARY, arch.id, component.id, pocket, entries,
                lambda entry: self._new_binary(entry, first_scan, release),
                self.when))

    def _count(self, changes):
        self.report.published += changes.added
        self.report.superseded += changes.superseded
        self.report.deleted += changes.deleted
        # A release, its files and a publication for each one added.
        self.report.rows_written += changes.added * 3 + changes.superseded \
            + changes.deleted

    def _date(self, path, first_scan, release):
        if not first_scan:
            return self.when
        if path:
            try:
                return utc_mtime(os.stat(os.path.join(
                    self.root, self._suite_root + path)))
            except OSError:
                pass
        return release.date or self.when

    def _new_binary(self, entry, first_scan, release):
        return NewPublication(
            (entry.name, entry.version, entry.source_name),
            ((entry.filename, entry.filetype, entry.path, entry.size,
              entry.sha256),),
            self._date(entry.path, first_scan, release))

    def _new_source(self, entry, first_scan, release):
        files = tuple((filename, filetype, entry.directory + "/" + filename,
                       size, sha256)
                      for filename, filetype, size, sha256 in entry.files)
        return NewPublication((entry.name, entry.version), files,
                              self._date(entry.dsc_path, first_scan, release))

    # RPM repositories.

    def _scan_repository(self, path):
        repomd_path = "%s/%s" % (path, rpm.REPOMD) if path else rpm.REPOMD
        data, stat_result = read_file(self.root, repomd_path)
        signature = "%s %s" % (hashlib.sha256(data).hexdigest(),
                               directory_signature(
                                   self.root, os.path.dirname(repomd_path)))
        state_name = "rpm:" + path
        if self._states.get(state_name) == signature:
            self.report.repositories_unchanged.append(path)
            return
        repomd = rpm.parse_repomd(data, repomd_path)
        rpm.check_repodata(self.root, path, repomd, repomd_path)
        arch, version = rpm.guess_arch_and_version(path)
        RPMRepositorySet(self.store).ensure(self.distribution, path, arch,
                                            version, self.when)
        self._record_details(repomd_path, data, stat_result)
        self._save_state(state_name, signature)
        self._states[state_name] = signature
        self.report.repositories_scanned.append(path)

    def _mark_removed_repositories(self, found):
        found = set(found)
        for repository in RPMRepositorySet(self.store).getByDistribution(
                self.distribution):
            if repository.path not in found:
                repository.date_removed = self.when
                self.report.rows_written += 1

    # Trace files.

    def _scan_trace(self, path):
        data, _ = read_file(self.root, path)
        when = trace.parse_trace(data, path)
        if TraceFileTimestampSet(self.store).record(
                self.distribution, path, when, self.when) is not None:
            self.report.trace_timestamps += 1
            self.report.rows_written += 1
