"""What a mirror carries, and the records of probing it."""

import json

from storm.expr import Desc
from storm.locals import (
    Bool, DateTime, Float, Int, Reference, Storm, Unicode)
from zope.interface import implementer

from mirrorkeeper.enums import (
    BinaryPackageFileType, MirrorContent, MirrorFreshness,
    PackagePublishingPocket, PackagePublishingStatus, ProbeRecordState,
    SourcePackageFileType)
from mirrorkeeper.freshness import uploads_to_check
from mirrorkeeper.interfaces.distributionmirror import (
    IMirrorCDImageDistroSeries, IMirrorDistroArchSeries,
    IMirrorDistroSeriesSource, IMirrorFreshnessCheck, IMirrorProbeRecord,
    IMirrorRPMRepository)
from mirrorkeeper.model.base import EnumCol, store_of
from mirrorkeeper.model.distroseries import DistroArchSeries, DistroSeries
from mirrorkeeper.model.publishing import (
    BinaryPackageFile, BinaryPackagePublishingHistory, SourcePackageFile,
    SourcePackagePublishingHistory)
from mirrorkeeper.timeutil import as_utc, utcnow

# How far back uploads can tell a band: the oldest band's threshold.
_HISTORY_WINDOW = MirrorFreshness.ONEWEEKBEHIND.threshold


def _paths_to_check(found, publication_class, when, root=""):
    """{band: path} for uploads_to_check over a query of (date, id, path),
    each path under the series' `root`."""
    date = publication_class.date_published
    newest_first = (Desc(date), Desc(publication_class.id))
    recent = list(found.find(
        date <= when, date >= when - _HISTORY_WINDOW).order_by(
            *newest_first).config(distinct=True))
    if not recent:
        recent = list(found.find(date <= when).order_by(*newest_first)[:1])
    return uploads_to_check(
        [(published, root + path) for published, _, path in recent], when)


def _root_of(store, distro_series_id=None, distro_arch_series_id=None):
    """The root of the series of that id, or of that arch series."""
    if distro_arch_series_id is not None:
        found = store.find(
            DistroSeries.root,
            DistroArchSeries.id == distro_arch_series_id,
            DistroSeries.id == DistroArchSeries.distro_series_id)
    else:
        found = store.find(DistroSeries.root,
                           DistroSeries.id == distro_series_id)
    return found.one() or ""


def binary_paths_to_check(store, distro_arch_series_id, component_id,
                          pocket, when=None):
    """{MirrorFreshness: path} of the binary packages that tell how fresh
    a mirror's copy of that place is at `when` (default now), under the
    series' root; .udeb files never count."""
    bpph, bpf = BinaryPackagePublishingHistory, BinaryPackageFile
    found = store.using(bpph, bpf).find(
        (bpph.date_published, bpph.id, bpf.path),
        bpf.release_id == bpph.release_id,
        bpf.filetype != BinaryPackageFileType.UDEB,
        bpph.distro_arch_series_id == distro_arch_series_id,
        bpph.component_id == component_id,
        bpph.pocket == pocket,
        bpph.status == PackagePublishingStatus.PUBLISHED)
    return _paths_to_check(
        found, bpph, as_utc(when) or utcnow(),
        _root_of(store, distro_arch_series_id=distro_arch_series_id))


def source_paths_to_check(store, distro_series_id, component_id, pocket,
                          when=None):
    """{MirrorFreshness: path} of the .dsc files that tell how fresh a
    mirror's copy of that place's sources is at `when`, under the series'
    root."""
    spph, spf = SourcePackagePublishingHistory, SourcePackageFile
    found = store.using(spph, spf).find(
        (spph.date_published, spph.id, spf.path),
        spf.release_id == spph.release_id,
        spf.filetype == SourcePackageFileType.DSC,
        spph.distro_series_id == distro_series_id,
        spph.component_id == component_id,
        spph.pocket == pocket,
        spph.status == PackagePublishingStatus.PUBLISHED)
    return _paths_to_check(found, spph, as_utc(when) or utcnow(),
                           _root_of(store, distro_series_id=distro_series_id))


class _MirrorRecord(Storm):
    """What every record about one mirror has: an id, and the mirror."""

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    distribution_mirror = Reference(distribution_mirror_id,
                                    "DistributionMirror.id")


class _ContentRecord(_MirrorRecord):
    """What binary and source content records share: the component and
    pocket carried, how fresh, and the URLs that tell."""

    component_id = Int(name="component", allow_none=False)
    component = Reference(component_id, "Component.id")
    pocket = EnumCol(enum=PackagePublishingPocket, allow_none=False)
    freshness = EnumCol(enum=MirrorFreshness, allow_none=False)

    def getURLsToCheckUpdateness(self, when=None):
        base_url = self.distribution_mirror.base_url
        return {band: base_url + path
                for band, path in self._pathsToCheck(when).items()}


@implementer(IMirrorDistroArchSeries)
class MirrorDistroArchSeries(_ContentRecord):
    __storm_table__ = "mirror_distro_arch_series"

    distro_arch_series_id = Int(name="distro_arch_series", allow_none=False)
    distro_arch_series = Reference(distro_arch_series_id,
                                   "DistroArchSeries.id")

    def __init__(self, mirror, distro_arch_series, component, pocket):
        self.distribution_mirror = mirror
        self.distro_arch_series = distro_arch_series
        self.component = component
        self.pocket = pocket
        self.freshness = MirrorFreshness.UNKNOWN

    def __repr__(self):
        return "<MirrorDistroArchSeries %s %s/%s %s %s>" % (
            self.distribution_mirror.name,
            self.distro_arch_series.distro_series.name,
            self.distro_arch_series.architecture_tag,
            self.pocket.name, self.component.name)

    def _pathsToCheck(self, when):
        return binary_paths_to_check(
            store_of(self), self.distro_arch_series_id, self.component_id,
            self.pocket, when)


@implementer(IMirrorDistroSeriesSource)
class MirrorDistroSeriesSource(_ContentRecord):
    __storm_table__ = "mirror_distro_series_source"

    distro_series_id = Int(name="distro_series", allow_none=False)
    distro_series = Reference(distro_series_id, "DistroSeries.id")

    def __init__(self, mirror, distro_series, component, pocket):
        self.distribution_mirror = mirror
        self.distro_series = distro_series
        self.component = component
        self.pocket = pocket
        self.freshness = MirrorFreshness.UNKNOWN

    def __repr__(self):
        return "<MirrorDistroSeriesSource %s %s %s %s>" % (
            self.distribution_mirror.name, self.distro_series.name,
            self.pocket.name, self.component.name)

    def _pathsToCheck(self, when):
        return source_paths_to_check(
            store_of(self), self.distro_series_id, self.component_id,
            self.pocket, when)


@implementer(IMirrorCDImageDistroSeries)
class MirrorCDImageDistroSeries(_MirrorRecord):
    __storm_table__ = "mirror_cd_image_distro_series"

    distro_series_id = Int(name="distro_series", allow_none=False)
    distro_series = Reference(distro_series_id, "DistroSeries.id")
    flavour = Unicode(allow_none=False)

    def __init__(self, mirror, distro_series, flavour):
        self.distribution_mirror = mirror
        self.distro_series = distro_series
        self.flavour = flavour

    def __repr__(self):
        return "<MirrorCDImageDistroSeries %s %s %s>" % (
            self.distribution_mirror.name, self.distro_series.name,
            self.flavour)


@implementer(IMirrorProbeRecord)
class MirrorProbeRecord(_MirrorRecord):
    __storm_table__ = "mirror_probe_record"

    log = Unicode(allow_none=False)
    date_created = DateTime(allow_none=False)
    # Seconds the probe took, as the prober measured it; None when not
    # measured (`db upgrade` times older records by their logs, once).
    duration_seconds = Float()
    # The prober run that wrote the record (None for records written by
    # hand, or before schema patch 0008), whether what it found took
    # effect, and what it found, as JSON (see mirrorkeeper.prober.record).
    prober_run_id = Int(name="prober_run")
    state = EnumCol(enum=ProbeRecordState, allow_none=False)
    findings = Unicode()

    def __init__(self, mirror, log, date_created=None,
                 duration_seconds=None, state=ProbeRecordState.APPLIED,
                 prober_run_id=None, findings=None):
        self.distribution_mirror = mirror
        self.log = log
        self.date_created = as_utc(date_created) or utcnow()
        self.duration_seconds = duration_seconds
        self.state = state
        self.prober_run_id = prober_run_id
        self.findings = findings

    def __repr__(self):
        return "<MirrorProbeRecord %s %s>" % (
            self.distribution_mirror.name, self.date_created)

    def destroySelf(self):
        store_of(self).remove(self)


class ProberRunRecord(Storm):
    """One run of the prober: when it started, and once judged, whether
    what it found may take effect and why not."""

    __storm_table__ = "prober_run"

    id = Int(primary=True)
    content = EnumCol(enum=MirrorContent, allow_none=False)
    date_started = DateTime(allow_none=False)
    date_judged = DateTime()
    trusted = Bool()
    reason = Unicode()
    # What the run did, set as it is judged (record_prober_run_counts);
    # None for runs judged before schema patch 0011.
    probed = Int()
    requests = Int()
    unreachable = Int()
    # {ProbeOutcome name: requests} of the requests that failed, as JSON.
    failures_json = Unicode(name="failures")
    # How the canary failed for a worker of the run (schema patch 0021),
    # which distrusts it; None if it did not.
    canary_failure = Unicode()

    def __init__(self, content, date_started=None):
        self.content = content
        self.date_started = as_utc(date_started) or utcnow()

    def __repr__(self):
        return "<ProberRunRecord %s %s>" % (self.id, self.date_started)

    @property
    def failures(self):
        """{ProbeOutcome name: requests}, or None when not recorded."""
        if self.failures_json is None:
            return None
        return json.loads(self.failures_json)

    @property
    def duration_seconds(self):
        """Seconds from the run's start to its verdict, or None before."""
        if self.date_judged is None:
            return None
        return (as_utc(self.date_judged) - as_utc(self.date_started)) \
            .total_seconds()


def record_prober_run_counts(store, run_id, summary):
    """Note on run `run_id` what its RunSummary says it did (mirrors
    probed, requests, unreachable mirrors, failures by kind), uncommitted:
    the run's verdict commits it."""
    run = store.get(ProberRunRecord, run_id)
    if run is None:
        return
    run.probed = summary.probed
    run.requests = summary.requests
    run.unreachable = summary.unreachable
    run.failures_json = json.dumps(dict(summary.failures), sort_keys=True)


@implementer(IMirrorFreshnessCheck)
class MirrorFreshnessCheck(_MirrorRecord):
    __storm_table__ = "mirror_freshness_check"

    detector = Unicode(allow_none=False)
    label = Unicode(allow_none=False)
    freshness = EnumCol(enum=MirrorFreshness)
    lag_seconds = Int()
    syncing = Bool(allow_none=False)
    note = Unicode(allow_none=False)
    date_checked = DateTime(allow_none=False)

    def __init__(self, mirror, detector, label):
        self.distribution_mirror = mirror
        self.detector = detector
        self.label = label
        self.syncing = False
        self.note = ""
        self.date_checked = utcnow()

    def __repr__(self):
        return "<MirrorFreshnessCheck %s %s %s>" % (
            self.distribution_mirror.name, self.detector, self.label)


@implementer(IMirrorRPMRepository)
class MirrorRPMRepository(_MirrorRecord):
    __storm_table__ = "mirror_rpm_repository"

    rpm_repository_id = Int(name="rpm_repository", allow_none=False)
    rpm_repository = Reference(rpm_repository_id, "RPMRepository.id")
    freshness = EnumCol(enum=MirrorFreshness, allow_none=False)

    def __init__(self, mirror, rpm_repository_id):
        self.distribution_mirror = mirror
        self.rpm_repository_id = rpm_repository_id
        self.freshness = MirrorFreshness.UNKNOWN

    def __repr__(self):
        return "<MirrorRPMRepository %s %s>" % (
            self.distribution_mirror.name, self.rpm_repository_id)
