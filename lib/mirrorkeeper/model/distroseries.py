"""Series of a distribution, their architectures and components."""

from storm.locals import Bool, DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.enums import SeriesLocation, SeriesStatus
from mirrorkeeper.errors import (
    DuplicateError, InvalidValueError, NotFoundError)
from mirrorkeeper.interfaces.distribution import (
    IComponent, IComponentSet, IDistroArchSeries, IDistroArchSeriesSet,
    IDistroSeries, IDistroSeriesSet)
from mirrorkeeper.model.base import EnumCol, StoreBoundSet, store_of
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import valid_name


@implementer(IComponent)
class Component(Storm):
    __storm_table__ = "component"

    id = Int(primary=True)
    name = Unicode(allow_none=False)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "<Component %s>" % (self.name,)


class DistroSeriesComponent(Storm):
    __storm_table__ = "distro_series_component"

    id = Int(primary=True)
    distro_series_id = Int(name="distro_series", allow_none=False)
    component_id = Int(name="component", allow_none=False)

    def __init__(self, distro_series, component):
        self.distro_series_id = distro_series.id
        self.component_id = component.id


@implementer(IDistroSeries)
class DistroSeries(Storm):
    __storm_table__ = "distro_series"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    name = Unicode(allow_none=False)
    version = Unicode(allow_none=False)
    status = EnumCol(enum=SeriesStatus, allow_none=False)
    date_created = DateTime(allow_none=False)
    # Where it lives, and the directory that holds its dists/ and pool/
    # (schema patch 0014).
    location = EnumCol(enum=SeriesLocation, allow_none=False)
    root = Unicode(allow_none=False)
    # False for a new series the master scan found: expected only of the
    # mirrors that pick up new series or took it on.
    every_mirror = Bool(allow_none=False)
    date_announced = DateTime()
    # When it took the root it has, if it was moved there (patch 0020).
    date_moved = DateTime()

    def __init__(self, distribution, name, version, status,
                 date_created=None, location=None, root="",
                 every_mirror=True):
        self.distribution = distribution
        self.name = name
        self.version = version
        self.status = status
        self.date_created = date_created or utcnow()
        self.location = location or _location_of(status)
        self.root = valid_root(root)
        self.every_mirror = every_mirror

    def __repr__(self):
        return "<DistroSeries %s>" % (self.name,)

    @property
    def components(self):
        return list(store_of(self).find(
            Component,
            DistroSeriesComponent.distro_series_id == self.id,
            DistroSeriesComponent.component_id == Component.id,
        ).order_by(DistroSeriesComponent.id))

    def addComponent(self, component):
        store = store_of(self)
        if store.find(DistroSeriesComponent, distro_series_id=self.id,
                      component_id=component.id).is_empty():
            store.add(DistroSeriesComponent(self, component))

    @property
    def architectures(self):
        return list(store_of(self).find(
            DistroArchSeries, DistroArchSeries.distro_series_id == self.id
        ).order_by(DistroArchSeries.architecture_tag))

    @property
    def official_architectures(self):
        return [arch for arch in self.architectures if arch.official]

    def newArch(self, architecture_tag, official=True):
        architecture_tag = valid_name(architecture_tag)
        store = store_of(self)
        if not store.find(DistroArchSeries, distro_series_id=self.id,
                          architecture_tag=architecture_tag).is_empty():
            raise DuplicateError("%s already has the architecture %s"
                                 % (self.name, architecture_tag))
        arch = DistroArchSeries(self, architecture_tag, official)
        store.add(arch)
        return arch

    def getArch(self, architecture_tag):
        arch = store_of(self).find(
            DistroArchSeries, distro_series_id=self.id,
            architecture_tag=architecture_tag).one()
        if arch is None:
            raise NotFoundError("%s has no architecture %r"
                                % (self.name, architecture_tag))
        return arch

    def suite(self, pocket):
        return self.name + pocket.suffix

    def packagesPath(self, pocket, component, architecture_tag):
        return "%sdists/%s/%s/binary-%s/Packages.gz" % (
            self.root, self.suite(pocket), component.name, architecture_tag)

    def sourcesPath(self, pocket, component):
        return "%sdists/%s/%s/source/Sources.gz" % (
            self.root, self.suite(pocket), component.name)

    # The release lifecycle.

    def isExpectedOf(self, mirror):
        return bool(series_expected_of(store_of(self), [self],
                                       [mirror])[mirror.id])

    def takeOn(self, mirror):
        if mirror.distribution_id != self.distribution_id:
            raise InvalidValueError(
                "the mirror %s is a mirror of %s, not of %s"
                % (mirror.name, mirror.distribution.name,
                   self.distribution.name))
        store = store_of(self)
        if store.find(MirrorDistroSeries, distro_series_id=self.id,
                      distribution_mirror_id=mirror.id).is_empty():
            store.add(MirrorDistroSeries(mirror, self))

    def moveToRelease(self, root=None):
        if self.location is not SeriesLocation.DEVELOPMENT:
            raise InvalidValueError(
                "%s is at its %s location, not in development"
                % (self.name, self.location.name.lower()))
        root = self.root if root is None else valid_root(root)
        for other in self.distribution.series:
            if other is not self and other.status is SeriesStatus.CURRENT:
                other.status = SeriesStatus.SUPPORTED
        self.status = SeriesStatus.CURRENT
        self.location = SeriesLocation.RELEASE
        self._move_to(root)

    def moveToArchive(self, root):
        if self.location is SeriesLocation.ARCHIVE:
            raise InvalidValueError("%s is at the archive location already"
                                    % (self.name,))
        self._move_to(valid_root(root))
        self.status = SeriesStatus.OBSOLETE
        self.location = SeriesLocation.ARCHIVE

    def _move_to(self, root):
        if root != self.root:
            self.root = root
            self.date_moved = utcnow()


class MirrorDistroSeries(Storm):
    """A new series that a mirror which does not pick them up by itself
    took on (schema patch 0014)."""

    __storm_table__ = "mirror_distro_series"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    distro_series_id = Int(name="distro_series", allow_none=False)
    date_created = DateTime(allow_none=False)

    def __init__(self, mirror, distro_series):
        self.distribution_mirror_id = mirror.id
        self.distro_series_id = distro_series.id
        self.date_created = utcnow()


def series_expected_of(store, series, mirrors):
    """{mirror id: [each of `series` expected of it, in their order]} for
    each of `mirrors` (IDistroSeries.isExpectedOf), in one query for
    hundreds of mirrors.  `series` are anything with a series' id, status
    and every_mirror; `mirrors`, with a mirror's id and
    picks_up_new_series."""
    series = [each for each in series
              if each.status is not SeriesStatus.OBSOLETE]
    taken = set()
    if not all(each.every_mirror for each in series):
        ids = [mirror.id for mirror in mirrors
               if not mirror.picks_up_new_series]
        for start in range(0, len(ids), _MIRRORS_A_QUERY):
            taken.update(store.find(
                (MirrorDistroSeries.distribution_mirror_id,
                 MirrorDistroSeries.distro_series_id),
                MirrorDistroSeries.distribution_mirror_id.is_in(
                    ids[start:start + _MIRRORS_A_QUERY])))
    return {mirror.id: [
        each for each in series if each.every_mirror or
        mirror.picks_up_new_series or (mirror.id, each.id) in taken]
        for mirror in mirrors}


# Ids in one IN (...): well under SQLite's oldest limit of 999
# parameters.
_MIRRORS_A_QUERY = 500


# The statuses of a series not released yet.
IN_DEVELOPMENT = frozenset([SeriesStatus.EXPERIMENTAL,
                            SeriesStatus.DEVELOPMENT, SeriesStatus.FROZEN])


def _location_of(status):
    """Where a series of that status starts its life."""
    if status in IN_DEVELOPMENT:
        return SeriesLocation.DEVELOPMENT
    if status is SeriesStatus.OBSOLETE:
        return SeriesLocation.ARCHIVE
    return SeriesLocation.RELEASE


def valid_root(root):
    """`root` as a series' root: a relative directory ending in '/', or ''
    for the archive's own root; InvalidValueError for one that is absolute,
    climbs out ('..') or holds odd characters."""
    if not isinstance(root, str):
        raise InvalidValueError("invalid root %r: give a relative directory"
                                % (root,))
    parts = [part for part in root.strip().split("/") if part]
    if root.strip().startswith("/") or any(
            part in (".", "..") or not part.isprintable() or
            any(c in part for c in "\\?#%") or part != part.strip()
            for part in parts):
        raise InvalidValueError(
            "invalid root %r: give a directory relative to the archive's "
            "root, such as 'releases/40/' (or '' for the root itself)"
            % (root,))
    return "".join(part + "/" for part in parts)


@implementer(IDistroArchSeries)
class DistroArchSeries(Storm):
    __storm_table__ = "distro_arch_series"

    id = Int(primary=True)
    distro_series_id = Int(name="distro_series", allow_none=False)
    distro_series = Reference(distro_series_id, DistroSeries.id)
    architecture_tag = Unicode(allow_none=False)
    official = Bool(allow_none=False)

    def __init__(self, distro_series, architecture_tag, official=True):
        self.distro_series = distro_series
        self.architecture_tag = architecture_tag
        self.official = official

    def __repr__(self):
        return "<DistroArchSeries %s/%s>" % (
            self.distro_series.name, self.architecture_tag)


@implementer(IComponentSet)
class ComponentSet(StoreBoundSet):

    def ensure(self, name):
        component = self.store.find(Component, Component.name == name).one()
        if component is None:
            component = Component(valid_name(name))
            self.store.add(component)
        return component

    def __getitem__(self, name):
        component = self.store.find(Component, Component.name == name).one()
        if component is None:
            raise NotFoundError("no component is called %r" % (name,))
        return component


@implementer(IDistroSeriesSet)
class DistroSeriesSet(StoreBoundSet):

    def get(self, series_id):
        series = self.store.get(DistroSeries, series_id)
        if series is None:
            raise NotFoundError("no series has the id %r" % (series_id,))
        return series

    def findByName(self, distribution, name):
        return self.store.find(
            DistroSeries, distribution_id=distribution.id, name=name).one()


@implementer(IDistroArchSeriesSet)
class DistroArchSeriesSet(StoreBoundSet):

    def get(self, arch_series_id):
        arch = self.store.get(DistroArchSeries, arch_series_id)
        if arch is None:
            raise NotFoundError("no arch series has the id %r"
                                % (arch_series_id,))
        return arch
