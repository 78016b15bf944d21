"""Storm classes implementing the domain's interfaces, and the set
utilities that find them.

`register_utilities(store)` makes the sets available as zope.component
utilities bound to `store`: ``getUtility(IDistributionMirrorSet)``.  Only
the command line's entry point (mirrorkeeper.scripts.base) calls it, for
the commands' convenience; everything else (the web, the prober, the
publisher, the model itself) is given its store and makes its sets from
it, as in ``DistributionMirrorSet(store)``.
"""

from zope.component import getGlobalSiteManager

from mirrorkeeper.interfaces.archive import (
    IMasterFileDetailSet, IRPMRepositorySet, ITraceFileTimestampSet)
from mirrorkeeper.interfaces.country import ICountrySet, IContinentSet
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet, IDistroArchSeriesSet, IDistroSeriesSet)
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.interfaces.publishing import IPublishingSet
from mirrorkeeper.interfaces.site import ISiteSet
from mirrorkeeper.interfaces.timestamps import IPlantedTimestampSet
from mirrorkeeper.model.country import ContinentSet, CountrySet
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.model.masterarchive import (
    MasterFileDetailSet, RPMRepositorySet, TraceFileTimestampSet)
from mirrorkeeper.model.distroseries import (
    ComponentSet, DistroArchSeriesSet, DistroSeriesSet)
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.publishing import PublishingSet
from mirrorkeeper.model.site import SiteSet
from mirrorkeeper.model.timestamps import PlantedTimestampSet

SET_UTILITIES = [
    (IPersonSet, PersonSet),
    (ICountrySet, CountrySet),
    (IContinentSet, ContinentSet),
    (IDistributionSet, DistributionSet),
    (IDistroSeriesSet, DistroSeriesSet),
    (IDistroArchSeriesSet, DistroArchSeriesSet),
    (IComponentSet, ComponentSet),
    (IPublishingSet, PublishingSet),
    (IDistributionMirrorSet, DistributionMirrorSet),
    (IMasterFileDetailSet, MasterFileDetailSet),
    (IRPMRepositorySet, RPMRepositorySet),
    (ITraceFileTimestampSet, TraceFileTimestampSet),
    (IPlantedTimestampSet, PlantedTimestampSet),
    (ISiteSet, SiteSet),
]


def register_utilities(store):
    """Register every set utility, bound to `store` (replacing earlier
    registrations)."""
    site_manager = getGlobalSiteManager()
    for interface, factory in SET_UTILITIES:
        site_manager.registerUtility(factory(store), interface)
