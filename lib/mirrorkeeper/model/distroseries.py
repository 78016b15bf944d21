"""Series of a distribution, their architectures and components."""

from storm.locals import Bool, DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.enums import SeriesStatus
from mirrorkeeper.errors import DuplicateError, NotFoundError
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

    def __init__(self, distribution, name, version, status,
                 date_created=None):
        self.distribution = distribution
        self.name = name
        self.version = version
        self.status = status
        self.date_created = date_created or utcnow()

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


def is_obsolete(series):
    return series.status is SeriesStatus.OBSOLETE
