"""The master archive's publishing history: what was published, where, when.

A release (a package name and version) is published into places: a series
(sources) or an arch series (binaries), a component and a pocket.  Its files
lie at paths of the archive; the prober asks mirrors for those paths.
"""

from storm.locals import DateTime, Int, Reference, Storm, Unicode
from storm.expr import Desc
from zope.interface import implementer

from mirrorkeeper.enums import (
    BinaryPackageFileType, PackagePublishingPocket, PackagePublishingStatus,
    SourcePackageFileType)
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.interfaces.publishing import (
    IPackageFile, IPublishingHistory, IPublishingSet)
from mirrorkeeper.model.base import EnumCol, StoreBoundSet, store_of
from mirrorkeeper.timeutil import as_utc


def pool_path(component_name, source_name, filename):
    """Where the archive's pool keeps a file of `source_name`: libraries
    are filed under 'lib' and the next letter, the rest under their first
    letter."""
    prefix = source_name[:4] if source_name.startswith("lib") \
        else source_name[:1]
    return "pool/%s/%s/%s/%s" % (component_name, prefix, source_name,
                                 filename)


class SourcePackageRelease(Storm):
    __storm_table__ = "source_package_release"

    id = Int(primary=True)
    name = Unicode(allow_none=False)
    version = Unicode(allow_none=False)

    def __init__(self, name, version):
        self.name = name
        self.version = version


class _PackageFile(Storm):
    """What source and binary package files share."""

    id = Int(primary=True)
    filename = Unicode(allow_none=False)
    path = Unicode(allow_none=False)
    size = Int()
    sha256 = Unicode()


@implementer(IPackageFile)
class SourcePackageFile(_PackageFile):
    __storm_table__ = "source_package_file"
    filetype_enum = SourcePackageFileType

    release_id = Int(name="source_package_release", allow_none=False)
    release = Reference(release_id, SourcePackageRelease.id)
    filetype = EnumCol(enum=SourcePackageFileType, allow_none=False)


class BinaryPackageRelease(Storm):
    __storm_table__ = "binary_package_release"

    id = Int(primary=True)
    name = Unicode(allow_none=False)
    version = Unicode(allow_none=False)
    source_name = Unicode(allow_none=False)

    def __init__(self, name, version, source_name):
        self.name = name
        self.version = version
        self.source_name = source_name


@implementer(IPackageFile)
class BinaryPackageFile(_PackageFile):
    __storm_table__ = "binary_package_file"
    filetype_enum = BinaryPackageFileType

    release_id = Int(name="binary_package_release", allow_none=False)
    release = Reference(release_id, BinaryPackageRelease.id)
    filetype = EnumCol(enum=BinaryPackageFileType, allow_none=False)


class _Publication(Storm):
    """What source and binary publishing records share: where in the
    archive, its state, when; and the release's name, version and files."""

    id = Int(primary=True)
    component_id = Int(name="component", allow_none=False)
    component = Reference(component_id, "Component.id")
    pocket = EnumCol(enum=PackagePublishingPocket, allow_none=False)
    status = EnumCol(enum=PackagePublishingStatus, allow_none=False)
    date_published = DateTime()
    date_removed = DateTime()

    @property
    def name(self):
        return self.release.name

    @property
    def version(self):
        return self.release.version

    @property
    def files(self):
        file_class = self._file_class
        return list(store_of(self).find(
            file_class, file_class.release_id == self.release_id
        ).order_by(file_class.id))


@implementer(IPublishingHistory)
class SourcePackagePublishingHistory(_Publication):
    __storm_table__ = "source_package_publishing_history"
    _file_class = SourcePackageFile

    release_id = Int(name="source_package_release", allow_none=False)
    release = Reference(release_id, SourcePackageRelease.id)
    distro_series_id = Int(name="distro_series", allow_none=False)
    distro_series = Reference(distro_series_id, "DistroSeries.id")


@implementer(IPublishingHistory)
class BinaryPackagePublishingHistory(_Publication):
    __storm_table__ = "binary_package_publishing_history"
    _file_class = BinaryPackageFile

    release_id = Int(name="binary_package_release", allow_none=False)
    release = Reference(release_id, BinaryPackageRelease.id)
    distro_arch_series_id = Int(name="distro_arch_series", allow_none=False)
    distro_arch_series = Reference(distro_arch_series_id,
                                   "DistroArchSeries.id")


@implementer(IPublishingSet)
class PublishingSet(StoreBoundSet):

    def _addFiles(self, file_class, release, component, source_name, files):
        for entry in files:
            if isinstance(entry, dict):
                details = dict(entry)
            else:
                details = dict(zip(("filename", "filetype", "size", "sha256"),
                                   entry))
            if not isinstance(details.get("filetype"),
                              file_class.filetype_enum):
                raise InvalidValueError(
                    "%s has no valid file type" % (details.get("filename"),))
            package_file = file_class()
            package_file.release = release
            package_file.filename = details["filename"]
            package_file.filetype = details["filetype"]
            package_file.path = details.get("path") or pool_path(
                component.name, source_name, details["filename"])
            package_file.size = details.get("size")
            package_file.sha256 = details.get("sha256")
            self.store.add(package_file)

    def publishSource(self, distro_series, component, pocket, name, version,
                      files, date_published, status=None):
        release = SourcePackageRelease(name, version)
        self.store.add(release)
        self._addFiles(SourcePackageFile, release, component, name, files)
        publication = SourcePackagePublishingHistory()
        publication.release = release
        publication.distro_series = distro_series
        publication.component = component
        publication.pocket = pocket
        publication.status = status or PackagePublishingStatus.PUBLISHED
        publication.date_published = as_utc(date_published)
        self.store.add(publication)
        return publication

    def publishBinary(self, distro_arch_series, component, pocket, name,
                      version, files, date_published, source_name=None,
                      status=None):
        source_name = source_name or name
        release = BinaryPackageRelease(name, version, source_name)
        self.store.add(release)
        self._addFiles(BinaryPackageFile, release, component, source_name,
                       files)
        publication = BinaryPackagePublishingHistory()
        publication.release = release
        publication.distro_arch_series = distro_arch_series
        publication.component = component
        publication.pocket = pocket
        publication.status = status or PackagePublishingStatus.PUBLISHED
        publication.date_published = as_utc(date_published)
        self.store.add(publication)
        return publication

    def getSourcePublications(self, distro_series, component, pocket,
                              status=None):
        cls = SourcePackagePublishingHistory
        conditions = [cls.distro_series_id == distro_series.id,
                      cls.component_id == component.id, cls.pocket == pocket]
        if status is not None:
            conditions.append(cls.status == status)
        return self.store.find(cls, *conditions).order_by(
            Desc(cls.date_published), Desc(cls.id))

    def getBinaryPublications(self, distro_arch_series, component, pocket,
                              status=None):
        cls = BinaryPackagePublishingHistory
        conditions = [cls.distro_arch_series_id == distro_arch_series.id,
                      cls.component_id == component.id, cls.pocket == pocket]
        if status is not None:
            conditions.append(cls.status == status)
        return self.store.find(cls, *conditions).order_by(
            Desc(cls.date_published), Desc(cls.id))
