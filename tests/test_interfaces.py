"""Every model class and set utility provides the interface it declares,
checked with zope.interface.verify on real objects from the sample data."""

import importlib
import inspect
import pkgutil
from datetime import datetime
from types import SimpleNamespace

import pytest
from zope.component import getUtility
from zope.interface import implementedBy
from zope.interface.verify import verifyClass, verifyObject

import mirrorkeeper.model
from mirrorkeeper.enums import PackagePublishingPocket
from mirrorkeeper.interfaces.archive import (
    IMasterFileDetail, IMasterFileDetailSet, IRPMRepository,
    IRPMRepositorySet, ITraceFileTimestamp, ITraceFileTimestampSet)
from mirrorkeeper.interfaces.country import (
    IContinent, IContinentSet, ICountry, ICountrySet)
from mirrorkeeper.interfaces.distribution import (
    IComponent, IComponentSet, IDistribution, IDistributionSet,
    IDistroArchSeries, IDistroArchSeriesSet, IDistroSeries, IDistroSeriesSet)
from mirrorkeeper.interfaces.distributionmirror import (
    IDistributionMirror, IDistributionMirrorSet, IMirrorCDImageDistroSeries,
    IMirrorContentRecord, IMirrorDistroArchSeries, IMirrorDistroSeriesSource,
    IMirrorProbeRecord)
from mirrorkeeper.interfaces.person import IPerson, IPersonSet
from mirrorkeeper.interfaces.publishing import (
    IPackageFile, IPublishingHistory, IPublishingSet)
from mirrorkeeper.interfaces.site import ISite, ISiteSet
from mirrorkeeper.interfaces.timestamps import (
    IPlantedTimestamp, IPlantedTimestampSet)
from mirrorkeeper.model import SET_UTILITIES
from mirrorkeeper.model.country import (
    Continent, ContinentSet, Country, CountrySet)
from mirrorkeeper.model.distribution import Distribution, DistributionSet
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, DistributionMirrorSet)
from mirrorkeeper.model.distroseries import (
    Component, ComponentSet, DistroArchSeries, DistroArchSeriesSet,
    DistroSeries, DistroSeriesSet)
from mirrorkeeper.model.masterarchive import (
    MasterFileDetail, MasterFileDetailSet, RPMRepository, RPMRepositorySet,
    TraceFileTimestamp, TraceFileTimestampSet)
from mirrorkeeper.model.mirrorcontent import (
    MirrorCDImageDistroSeries, MirrorDistroArchSeries,
    MirrorDistroSeriesSource, MirrorProbeRecord)
from mirrorkeeper.model.person import Person, PersonSet
from mirrorkeeper.model.publishing import (
    BinaryPackageFile, BinaryPackagePublishingHistory, PublishingSet,
    SourcePackageFile, SourcePackagePublishingHistory)
from mirrorkeeper.model.site import Site, SiteSet
from mirrorkeeper.model.timestamps import (
    PlantedTimestamp, PlantedTimestampSet)
from tests.rollback_stores import (  # noqa: F401
    rollback_sample_store, rollback_store,
    shared_empty_store, shared_sample_store)

# Every model class with the interface it must provide.
CLASSES = [
    (Continent, IContinent), (Country, ICountry),
    (CountrySet, ICountrySet), (ContinentSet, IContinentSet),
    (Person, IPerson), (PersonSet, IPersonSet),
    (Distribution, IDistribution), (DistributionSet, IDistributionSet),
    (Component, IComponent), (ComponentSet, IComponentSet),
    (DistroSeries, IDistroSeries), (DistroSeriesSet, IDistroSeriesSet),
    (DistroArchSeries, IDistroArchSeries),
    (DistroArchSeriesSet, IDistroArchSeriesSet),
    (SourcePackageFile, IPackageFile), (BinaryPackageFile, IPackageFile),
    (SourcePackagePublishingHistory, IPublishingHistory),
    (BinaryPackagePublishingHistory, IPublishingHistory),
    (PublishingSet, IPublishingSet),
    (DistributionMirror, IDistributionMirror),
    (DistributionMirrorSet, IDistributionMirrorSet),
    (MirrorDistroArchSeries, IMirrorDistroArchSeries),
    (MirrorDistroSeriesSource, IMirrorDistroSeriesSource),
    (MirrorCDImageDistroSeries, IMirrorCDImageDistroSeries),
    (MirrorProbeRecord, IMirrorProbeRecord),
    (MasterFileDetail, IMasterFileDetail),
    (MasterFileDetailSet, IMasterFileDetailSet),
    (RPMRepository, IRPMRepository), (RPMRepositorySet, IRPMRepositorySet),
    (TraceFileTimestamp, ITraceFileTimestamp),
    (TraceFileTimestampSet, ITraceFileTimestampSet),
    (PlantedTimestamp, IPlantedTimestamp),
    (PlantedTimestampSet, IPlantedTimestampSet),
    (Site, ISite), (SiteSet, ISiteSet),
]


def model_classes_declaring_interfaces():
    """Every class defined in mirrorkeeper.model.* that declares one."""
    found = set()
    for info in pkgutil.iter_modules(mirrorkeeper.model.__path__):
        module = importlib.import_module("mirrorkeeper.model." + info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and list(
                    implementedBy(cls)):
                found.add(cls)
    return found


DISCOVERED = sorted(
    ((cls, interface) for cls in model_classes_declaring_interfaces()
     for interface in implementedBy(cls).interfaces()),
    key=lambda pair: (pair[0].__module__, pair[0].__name__,
                      pair[1].__name__))


def test_discovery_finds_the_known_classes():
    """Looking through mirrorkeeper.model finds every class listed here,
    so the discovered classes below are all of them."""
    assert set(CLASSES) <= set(DISCOVERED)


@pytest.mark.parametrize(
    "cls, interface", DISCOVERED,
    ids=["%s-%s" % (cls.__name__, i.__name__) for cls, i in DISCOVERED])
def test_every_model_class_verifies(cls, interface):
    """Every class of mirrorkeeper.model, including ones added after this
    test, has the methods of each interface it declares."""
    assert verifyClass(interface, cls)


@pytest.mark.parametrize("cls, interface", CLASSES,
                         ids=[cls.__name__ for cls, _ in CLASSES])
def test_class_implements_interface(cls, interface):
    """The class declares its interface and has every method it names,
    with a compatible signature."""
    assert interface.implementedBy(cls)
    assert verifyClass(interface, cls)


def test_content_records_are_content_records():
    """Binary and source content records are both IMirrorContentRecords."""
    assert IMirrorContentRecord.implementedBy(MirrorDistroArchSeries)
    assert IMirrorContentRecord.implementedBy(MirrorDistroSeriesSource)


def test_registered_utilities_provide_interfaces(rollback_store):
    """Each set utility registered on the store provides its interface and
    is bound to that store."""
    for interface, factory in SET_UTILITIES:
        utility = getUtility(interface)
        assert isinstance(utility, factory)
        assert utility.store is rollback_store
        assert verifyObject(interface, utility)


def test_sample_objects_provide_interfaces(rollback_sample_store):
    """Every kind of model object, built from the sample data, provides its
    interface with every attribute readable."""
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    people = getUtility(IPersonSet)
    countries = getUtility(ICountrySet)
    warty = ubuntu.getSeries("warty")
    warty_i386 = warty.getArch("i386")
    main = getUtility(IComponentSet)["main"]
    release = PackagePublishingPocket.RELEASE
    publishing = getUtility(IPublishingSet)
    when = datetime(2024, 1, 2, 3, 4, 5)
    details = SimpleNamespace(size=1234, mtime=when, md5="0" * 32,
                              sha1="1" * 40, sha256="2" * 64,
                              sha512="3" * 128)
    file_details = MasterFileDetailSet(rollback_sample_store)
    rpm_repositories = RPMRepositorySet(rollback_sample_store)
    trace_files = TraceFileTimestampSet(rollback_sample_store)
    archive = getUtility(IDistributionMirrorSet)["valid-mirror"]
    cdimage = getUtility(IDistributionMirrorSet)["invalid-mirror"]
    source_publication = publishing.getSourcePublications(
        warty, main, release).first()
    binary_publication = publishing.getBinaryPublications(
        warty_i386, main, release).first()
    objects = [
        (countries["BR"].continent, IContinent), (countries["BR"], ICountry),
        (people["mark"], IPerson), (people["ubuntu-mirror-admins"], IPerson),
        (ubuntu, IDistribution), (main, IComponent),
        (warty, IDistroSeries), (warty_i386, IDistroArchSeries),
        (source_publication, IPublishingHistory),
        (binary_publication, IPublishingHistory),
        (source_publication.files[0], IPackageFile),
        (binary_publication.files[0], IPackageFile),
        (archive, IDistributionMirror), (cdimage, IDistributionMirror),
        (archive.ensureMirrorDistroArchSeries(warty_i386, release, main),
         IMirrorDistroArchSeries),
        (archive.ensureMirrorDistroSeriesSource(warty, release, main),
         IMirrorDistroSeriesSource),
        (cdimage.ensureMirrorCDImageSeries(warty, "ubuntu"),
         IMirrorCDImageDistroSeries),
        (archive.newProbeRecord("probed\n"), IMirrorProbeRecord),
        (file_details.record(ubuntu, "dists/warty/Release", details, when),
         IMasterFileDetail),
        (rpm_repositories.ensure(ubuntu, "centos/9/x86_64", "x86_64", "9",
                                 when), IRPMRepository),
        (trace_files.record(ubuntu, "project/trace/master", when, when),
         ITraceFileTimestamp),
        (file_details, IMasterFileDetailSet),
        (rpm_repositories, IRPMRepositorySet),
        (trace_files, ITraceFileTimestampSet),
        (getUtility(IPlantedTimestampSet).record(
            ubuntu, "local:/srv/ubuntu", when, when), IPlantedTimestamp),
        (archive.site, ISite),
    ]
    rollback_sample_store.flush()
    for obj, interface in objects:
        assert interface.providedBy(obj), (obj, interface)
        assert verifyObject(interface, obj, tentative=False), (obj, interface)
        for name in interface.names(all=True):
            getattr(obj, name)
    built = {type(obj) for obj, _ in objects} | {
        factory for _, factory in SET_UTILITIES}
    assert built == {cls for cls, _ in CLASSES}
