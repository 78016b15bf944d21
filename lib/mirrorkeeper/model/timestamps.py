"""The history of the timestamps planted into the master."""

from storm.expr import Desc
from storm.locals import DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.interfaces.timestamps import (
    IPlantedTimestamp, IPlantedTimestampSet)
from mirrorkeeper.model.base import StoreBoundSet
from mirrorkeeper.timeutil import as_utc


@implementer(IPlantedTimestamp)
class PlantedTimestamp(Storm):
    __storm_table__ = "planted_timestamp"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    target = Unicode(allow_none=False)
    date_stamp = DateTime(allow_none=False)
    date_planted = DateTime(allow_none=False)

    def __init__(self, distribution, target, date_stamp, date_planted):
        self.distribution = distribution
        self.target = target
        self.date_stamp = as_utc(date_stamp)
        self.date_planted = as_utc(date_planted)

    def __repr__(self):
        return "<PlantedTimestamp %s %s>" % (self.target, self.date_stamp)


@implementer(IPlantedTimestampSet)
class PlantedTimestampSet(StoreBoundSet):

    def record(self, distribution, target, date_stamp, date_planted):
        entry = PlantedTimestamp(distribution, target, date_stamp,
                                 date_planted)
        self.store.add(entry)
        return entry

    def _find(self, distribution, target, *conditions):
        conditions = [PlantedTimestamp.distribution_id == distribution.id,
                      *conditions]
        if target is not None:
            conditions.append(PlantedTimestamp.target == target)
        return self.store.find(PlantedTimestamp, *conditions)

    def getHistory(self, distribution, target=None):
        return list(self._find(distribution, target).order_by(
            Desc(PlantedTimestamp.date_stamp), Desc(PlantedTimestamp.id)))

    def getLatest(self, distribution, target=None):
        return self._find(distribution, target).order_by(
            Desc(PlantedTimestamp.date_stamp),
            Desc(PlantedTimestamp.id)).first()

    def findByStamp(self, distribution, date_stamp):
        return list(self._find(
            distribution, None,
            PlantedTimestamp.date_stamp == as_utc(date_stamp)).order_by(
                PlantedTimestamp.date_planted, PlantedTimestamp.id))

    def prune(self, before):
        result = self.store.find(
            PlantedTimestamp, PlantedTimestamp.date_planted < as_utc(before))
        count = result.count()
        if count:
            result.remove()
        return count
