"""Planted timestamps: a file holding the current time, written into the
master (the source site the mirrors sync from) at intervals, so that a
mirror's copy of it tells how far behind the mirror is (oVirt's
mirrorchecker).  See mirrorkeeper.timestamps for the file's format."""

from zope.interface import Attribute, Interface


class ITimestampTarget(Interface):
    """A directory of the master a timestamp file is planted into."""

    description = Attribute(
        "The target as configured, e.g. 'local:/srv/mirror/ubuntu' or "
        "'sftp://mirror@master.example.org:22/srv/ubuntu'; it names the "
        "target in reports and in the history.  Never holds a secret.")

    def plant(name, data):
        """Write the bytes `data` as the file `name` of the target's
        directory, replacing what was there in one step: a reader sees the
        old file or the new one, never a part.  Return a Deferred firing
        with None once written, or failing with a PlantingError saying
        what went wrong (and then the file is as it was)."""


class IPlantedTimestamp(Interface):
    """A timestamp planted into one target."""

    distribution = Attribute("The IDistribution.")
    target = Attribute("The ITimestampTarget's description.")
    date_stamp = Attribute(
        "The time written into the file (UTC, whole seconds).")
    date_planted = Attribute("When the write finished (UTC).")


class IPlantedTimestampSet(Interface):

    def record(distribution, target, date_stamp, date_planted):
        """Add to the history that `date_stamp` was planted into `target`
        (a description) at `date_planted`; return the IPlantedTimestamp."""

    def getHistory(distribution, target=None):
        """The distribution's IPlantedTimestamps (only those of `target`,
        if given), newest stamp first."""

    def getLatest(distribution, target=None):
        """The newest IPlantedTimestamp of the distribution (of `target`,
        if given), or None."""

    def findByStamp(distribution, date_stamp):
        """The IPlantedTimestamps whose file said `date_stamp`, earliest
        planted first (one per target it was planted into): empty when the
        master never planted that time."""

    def prune(before):
        """Delete the entries planted before `before`; return how many."""
