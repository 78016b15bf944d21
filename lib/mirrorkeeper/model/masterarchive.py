"""What the master archive scanner keeps besides publishing history: the
history of the master's control files and trace files, its RPM
repositories, and what each part looked like when last scanned.

For each of the newest versions of a suite's Release and InRelease the
index files it lists are kept too (MasterReleaseIndex): a mirror serving
such a version serves those indexes, also by hash, so that a client that
read it may be sent there (mirrorkeeper.publish.selection).  How many
versions keep them is the scan's `[archive] release_versions`; an older
version is no longer valid.
"""

from storm.expr import Desc
from storm.locals import DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.interfaces.archive import (
    IMasterFileDetail, IMasterFileDetailSet, IRPMRepository,
    IRPMRepositorySet, ITraceFileTimestamp, ITraceFileTimestampSet)
from mirrorkeeper.model.base import StoreBoundSet
from mirrorkeeper.timeutil import as_utc

# The master's control files, whose copy on a mirror tells how old it is
# (the checksum detector reads them); the other files whose details are
# kept, a suite's Packages and Sources indexes, are for metalinks only.
CONTROL_FILES = frozenset(["InRelease", "Release", "repomd.xml"])
PACKAGE_INDEXES = frozenset(["Packages", "Sources"])
# A suite's files, the signed one first: the one a mirror's copy of is
# fetched and compared (consistency_files()).
RELEASE_FILES = ("InRelease", "Release")


def is_control_file(path):
    """Whether the master file `path` is a Release, an InRelease or a
    repomd.xml."""
    return path.rsplit("/", 1)[-1] in CONTROL_FILES


def is_package_index(path):
    """Whether the file `path` (of a suite) is a Packages or Sources
    index, plain or compressed."""
    return path.rsplit("/", 1)[-1].split(".", 1)[0] in PACKAGE_INDEXES


def consistency_files(paths):
    """{directory: path} of the master's control files (`paths`) a
    mirror's copy of tells whether its files agree with the master's:
    for each suite directory (.../dists/SUITE) its InRelease, or its
    Release when it has none; for each RPM repository (the directory
    holding repodata/) its repomd.xml."""
    chosen = {}
    for path in sorted(paths):
        directory, _, name = path.rpartition("/")
        if name == "repomd.xml" and directory.endswith("repodata"):
            chosen[directory[:-len("/repodata")]] = path
        elif name in RELEASE_FILES and \
                directory.rsplit("/", 2)[-2:-1] == ["dists"]:
            other = chosen.get(directory)
            if other is None or RELEASE_FILES.index(name) < \
                    RELEASE_FILES.index(other.rsplit("/", 1)[1]):
                chosen[directory] = path
    return chosen


@implementer(IMasterFileDetail)
class MasterFileDetail(Storm):
    __storm_table__ = "master_file_detail"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    path = Unicode(allow_none=False)
    size = Int(allow_none=False)
    date_modified = DateTime(allow_none=False)
    md5 = Unicode(allow_none=False)
    sha1 = Unicode(allow_none=False)
    sha256 = Unicode(allow_none=False)
    sha512 = Unicode(allow_none=False)
    date_first_seen = DateTime(allow_none=False)

    def __init__(self, distribution, path, details, date_first_seen):
        self.distribution = distribution
        self.path = path
        self.size = details.size
        self.date_modified = as_utc(details.mtime)
        self.md5 = details.md5
        self.sha1 = details.sha1
        self.sha256 = details.sha256
        self.sha512 = details.sha512
        self.date_first_seen = as_utc(date_first_seen)

    def __repr__(self):
        return "<MasterFileDetail %s %s>" % (self.path, self.sha256[:12])


@implementer(IMasterFileDetailSet)
class MasterFileDetailSet(StoreBoundSet):

    def getHistory(self, distribution, path):
        return list(self.store.find(
            MasterFileDetail, distribution_id=distribution.id, path=path
        ).order_by(Desc(MasterFileDetail.date_first_seen),
                   Desc(MasterFileDetail.id)))

    def record(self, distribution, path, details, when):
        history = self.getHistory(distribution, path)
        newest = history[0] if history else None
        if newest is not None and (
                newest.size, newest.date_modified, newest.sha256) == (
                details.size, as_utc(details.mtime), details.sha256):
            return None
        detail = MasterFileDetail(distribution, path, details, when)
        self.store.add(detail)
        return detail

    def recordListed(self, detail, listed, keep):
        """Record the index files the Release or InRelease version `detail`
        lists (`listed`: {path under the suite's directory: (sha256,
        size)}), and forget those of the versions of its file older than
        the newest `keep`."""
        for path, (sha256, size) in sorted(listed.items()):
            self.store.add(MasterReleaseIndex(detail, path, sha256, size))
        self.store.flush()
        older = [version.id for version in self.getHistory(
            detail.distribution, detail.path)[keep:]]
        if older:
            self.store.find(
                MasterReleaseIndex,
                MasterReleaseIndex.master_file_detail_id.is_in(older)
            ).remove()

    def findBySHA256(self, distribution, sha256):
        return list(self.store.find(
            MasterFileDetail, distribution_id=distribution.id, sha256=sha256
        ).order_by(Desc(MasterFileDetail.date_first_seen),
                   Desc(MasterFileDetail.id)))


class MasterReleaseIndex(Storm):
    """An index file a version of a suite's Release or InRelease lists:
    its path under the suite's directory, SHA-256 and size."""

    __storm_table__ = "master_release_index"
    __storm_primary__ = "master_file_detail_id", "path"

    master_file_detail_id = Int(name="master_file_detail")
    master_file_detail = Reference(master_file_detail_id,
                                   "MasterFileDetail.id")
    path = Unicode()
    sha256 = Unicode(allow_none=False)
    size = Int(allow_none=False)

    def __init__(self, detail, path, sha256, size):
        self.master_file_detail = detail
        self.path = path
        self.sha256 = sha256
        self.size = size


@implementer(IRPMRepository)
class RPMRepository(Storm):
    __storm_table__ = "rpm_repository"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    path = Unicode(allow_none=False)
    arch = Unicode()
    version = Unicode()
    date_created = DateTime(allow_none=False)
    date_removed = DateTime()

    def __init__(self, distribution, path, arch, version, date_created):
        self.distribution = distribution
        self.path = path
        self.arch = arch
        self.version = version
        self.date_created = as_utc(date_created)

    def __repr__(self):
        return "<RPMRepository %s>" % (self.path,)


@implementer(IRPMRepositorySet)
class RPMRepositorySet(StoreBoundSet):

    def ensure(self, distribution, path, arch, version, when):
        repository = self.store.find(
            RPMRepository, distribution_id=distribution.id, path=path).one()
        if repository is None:
            repository = RPMRepository(distribution, path, arch, version,
                                       when)
            self.store.add(repository)
        else:
            if repository.date_removed is not None:
                repository.date_removed = None
            if (repository.arch, repository.version) != (arch, version):
                repository.arch, repository.version = arch, version
        return repository

    def getByDistribution(self, distribution, include_removed=False):
        conditions = [RPMRepository.distribution_id == distribution.id]
        if not include_removed:
            conditions.append(RPMRepository.date_removed == None)  # noqa
        return list(self.store.find(RPMRepository, *conditions).order_by(
            RPMRepository.path))


@implementer(ITraceFileTimestamp)
class TraceFileTimestamp(Storm):
    __storm_table__ = "trace_file_timestamp"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    path = Unicode(allow_none=False)
    date_trace = DateTime(allow_none=False)
    date_first_seen = DateTime(allow_none=False)

    def __init__(self, distribution, path, date_trace, date_first_seen):
        self.distribution = distribution
        self.path = path
        self.date_trace = as_utc(date_trace)
        self.date_first_seen = as_utc(date_first_seen)

    def __repr__(self):
        return "<TraceFileTimestamp %s %s>" % (self.path, self.date_trace)


@implementer(ITraceFileTimestampSet)
class TraceFileTimestampSet(StoreBoundSet):

    def getHistory(self, distribution, path):
        return list(self.store.find(
            TraceFileTimestamp, distribution_id=distribution.id, path=path
        ).order_by(Desc(TraceFileTimestamp.date_first_seen),
                   Desc(TraceFileTimestamp.id)))

    def record(self, distribution, path, date_trace, when):
        history = self.getHistory(distribution, path)
        if history and history[0].date_trace == as_utc(date_trace):
            return None
        entry = TraceFileTimestamp(distribution, path, date_trace, when)
        self.store.add(entry)
        return entry


class ArchiveScanState(Storm):
    """The signature of a part of the master (a suite, an RPM repository,
    the trace files) as its last successful scan saw it."""

    __storm_table__ = "archive_scan_state"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    name = Unicode(allow_none=False)
    signature = Unicode(allow_none=False)
    date_scanned = DateTime(allow_none=False)

    def __init__(self, distribution, name, signature, date_scanned):
        self.distribution_id = distribution.id
        self.name = name
        self.signature = signature
        self.date_scanned = as_utc(date_scanned)


class ArchiveScanStateSet(StoreBoundSet):

    def all(self, distribution):
        """{part name: ArchiveScanState} of the distribution."""
        return {state.name: state for state in self.store.find(
            ArchiveScanState, distribution_id=distribution.id)}

    def save(self, distribution, name, signature, when, state=None):
        if state is None:
            state = self.store.find(ArchiveScanState,
                                    distribution_id=distribution.id,
                                    name=name).one()
        if state is None:
            self.store.add(ArchiveScanState(distribution, name, signature,
                                            when))
        elif state.signature != signature:
            state.signature = signature
            state.date_scanned = as_utc(when)
