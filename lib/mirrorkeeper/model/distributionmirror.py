"""A distribution's mirrors: registration details, content, probing."""

from datetime import datetime, timedelta

import attrs
from storm.expr import And, Coalesce, Desc, LeftJoin, Max, Or
from storm.locals import Bool, DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus,
    POCKET_ORDER, ProbeRecordState)
from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.interfaces.distributionmirror import (
    IDistributionMirror, IDistributionMirrorSet)
from mirrorkeeper.model.base import EnumCol, StoreBoundSet, store_of
from mirrorkeeper.model.country import Country
from mirrorkeeper.model.distroseries import series_expected_of
from mirrorkeeper.model.mirrorcontent import (
    MirrorCDImageDistroSeries, MirrorDistroArchSeries,
    MirrorDistroSeriesSource, MirrorFreshnessCheck, MirrorProbeRecord,
    MirrorRPMRepository)
from mirrorkeeper.timeutil import as_utc, utcnow
from mirrorkeeper.validators import normalise_base_url

# A mirror probed more recently than this is left alone by a normal run:
# the prober runs daily, and a run that overran should not probe twice.
PROBE_INTERVAL = timedelta(days=1)

URL_SCHEMES = ("http", "https", "ftp", "rsync")


@attrs.frozen
class MirrorToProbe:
    """A mirror the prober is to probe, as plain values: its id, its name
    and its base URLs (https, http, ftp, rsync: those it has, in that
    order), which are all a run needs until it plans a batch of them."""

    id: int
    name: str
    base_urls: tuple


class MirrorNetblock(Storm):
    __storm_table__ = "mirror_netblock"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    netblock = Unicode(allow_none=False)

    def __init__(self, mirror, netblock):
        self.distribution_mirror_id = mirror.id
        self.netblock = netblock


class MirrorACLAddress(Storm):
    __storm_table__ = "mirror_acl_address"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    address = Unicode(allow_none=False)

    def __init__(self, mirror, address):
        self.distribution_mirror_id = mirror.id
        self.address = address


class MirrorCountryAllowed(Storm):
    __storm_table__ = "mirror_country_allowed"

    id = Int(primary=True)
    distribution_mirror_id = Int(name="distribution_mirror",
                                 allow_none=False)
    country_id = Int(name="country", allow_none=False)

    def __init__(self, mirror, country):
        self.distribution_mirror_id = mirror.id
        self.country_id = country.id


@implementer(IDistributionMirror)
class DistributionMirror(Storm):
    __storm_table__ = "distribution_mirror"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    owner_id = Int(name="owner", allow_none=False)
    owner = Reference(owner_id, "Person.id")
    reviewer_id = Int(name="reviewer")
    reviewer = Reference(reviewer_id, "Person.id")
    name = Unicode(allow_none=False)
    display_name = Unicode()
    description = Unicode()
    http_base_url = Unicode()
    https_base_url = Unicode()
    ftp_base_url = Unicode()
    rsync_base_url = Unicode()
    enabled = Bool(allow_none=False)
    speed = EnumCol(enum=MirrorSpeed, allow_none=False)
    country_id = Int(name="country", allow_none=False)
    country = Reference(country_id, Country.id)
    content = EnumCol(enum=MirrorContent, allow_none=False)
    pulse_type = EnumCol(enum=MirrorPulseType, allow_none=False)
    pulse_source = Unicode()
    official_candidate = Bool(allow_none=False)
    status = EnumCol(enum=MirrorStatus, allow_none=False)
    whiteboard = Unicode()
    date_created = DateTime(allow_none=False)
    date_reviewed = DateTime()
    _bandwidth_mbps = Int(name="bandwidth_mbps")
    private = Bool(allow_none=False)
    internet2 = Bool(allow_none=False)
    asn = Int()
    asn_clients = Bool(allow_none=False)
    owner_paused = Bool(allow_none=False)
    date_disabled_notified = DateTime()
    has_ipv4 = Bool()
    has_ipv6 = Bool()
    # Consecutive trusted prober runs that could not reach the mirror; above
    # zero it is unreachable (see schema patch 0008).
    failed_runs = Int(allow_none=False)
    date_disabled = DateTime()
    # Whether each URL answered the last probe; None: no such URL, or not
    # probed yet.
    http_answered = Bool()
    https_answered = Bool()
    ftp_answered = Bool()
    rsync_answered = Bool()
    # Whether it picks up new series by itself (schema patch 0014): a new
    # series the master scan finds is expected of it at once.
    picks_up_new_series = Bool(allow_none=False)
    # The registered mirror it pulls from (schema patch 0016), None for
    # the master; set through mirrorkeeper.model.tiers, which keeps the
    # tree a tree.
    upstream_id = Int(name="upstream")
    upstream = Reference(upstream_id, "DistributionMirror.id")
    # The site (the organisation) that runs it, whose every admin may
    # change it as its owner may (schema patch 0022; model.site).
    site_id = Int(name="site")
    site = Reference(site_id, "Site.id")

    def __init__(self, distribution, owner, name, speed, country, content,
                 pulse_type):
        self.distribution = distribution
        self.owner = owner
        self.name = name
        self.speed = speed
        self.country = country
        self.content = content
        self.pulse_type = pulse_type
        self.enabled = False
        self.official_candidate = False
        self.status = MirrorStatus.PENDING_REVIEW
        self.date_created = utcnow()
        self.private = False
        self.internet2 = False
        self.asn_clients = False
        self.owner_paused = False
        self.failed_runs = 0
        self.picks_up_new_series = False

    def __repr__(self):
        return "<DistributionMirror %s>" % (self.name,)

    # Registration details.

    @property
    def title(self):
        return self.display_name or self.name

    @property
    def base_url(self):
        """The URL the prober and the pages use: https, http or ftp, else
        rsync for a mirror that offers rsync only."""
        return (self.https_base_url or self.http_base_url
                or self.ftp_base_url or self.rsync_base_url)

    @property
    def bandwidth_mbps(self):
        from mirrorkeeper.model.mirrorstate import default_bandwidth
        if self._bandwidth_mbps is not None:
            return self._bandwidth_mbps
        return default_bandwidth(self.speed)

    @bandwidth_mbps.setter
    def bandwidth_mbps(self, value):
        self._bandwidth_mbps = value

    def setURL(self, scheme, url):
        """Set the base URL of `scheme` to `url` normalised (or clear it
        with None); InvalidURLError if malformed."""
        assert scheme in URL_SCHEMES
        if url:
            url = normalise_base_url(url, scheme)
        setattr(self, "%s_base_url" % scheme, url or None)

    def _listOf(self, cls, column):
        return [getattr(row, column) for row in store_of(self).find(
            cls, cls.distribution_mirror_id == self.id).order_by(cls.id)]

    def _setListOf(self, cls, values):
        store = store_of(self)
        store.find(cls, cls.distribution_mirror_id == self.id).remove()
        # Each value once: the table holds it once per mirror.
        for value in dict.fromkeys(values):
            store.add(cls(self, value))

    @property
    def netblocks(self):
        return self._listOf(MirrorNetblock, "netblock")

    @netblocks.setter
    def netblocks(self, netblocks):
        self._setListOf(MirrorNetblock, netblocks)

    @property
    def acl_addresses(self):
        return self._listOf(MirrorACLAddress, "address")

    @acl_addresses.setter
    def acl_addresses(self, addresses):
        self._setListOf(MirrorACLAddress, addresses)

    @property
    def countries_allowed(self):
        store = store_of(self)
        return [store.get(Country, country_id) for country_id in
                self._listOf(MirrorCountryAllowed, "country_id")]

    @countries_allowed.setter
    def countries_allowed(self, countries):
        self._setListOf(MirrorCountryAllowed, countries)

    def isOfficial(self):
        from mirrorkeeper.model.mirrorstate import is_official
        return is_official(self.official_candidate, self.status)

    # Content.

    def _records(self, cls):
        return store_of(self).find(
            cls, cls.distribution_mirror_id == self.id).order_by(cls.id)

    @property
    def arch_series(self):
        return self._records(MirrorDistroArchSeries)

    @property
    def source_series(self):
        return self._records(MirrorDistroSeriesSource)

    @property
    def cdimage_series(self):
        return self._records(MirrorCDImageDistroSeries)

    @property
    def rpm_repositories(self):
        return self._records(MirrorRPMRepository)

    @property
    def freshness_checks(self):
        return self._records(MirrorFreshnessCheck)

    def ensureMirrorDistroArchSeries(self, distro_arch_series, pocket,
                                     component):
        record = self.arch_series.find(
            distro_arch_series_id=distro_arch_series.id,
            component_id=component.id, pocket=pocket).one()
        if record is None:
            record = MirrorDistroArchSeries(
                self, distro_arch_series, component, pocket)
            store_of(self).add(record)
        return record

    def deleteMirrorDistroArchSeries(self, distro_arch_series, pocket,
                                     component):
        self.arch_series.find(
            distro_arch_series_id=distro_arch_series.id,
            component_id=component.id, pocket=pocket).remove()

    def ensureMirrorDistroSeriesSource(self, distro_series, pocket,
                                       component):
        record = self.source_series.find(
            distro_series_id=distro_series.id, component_id=component.id,
            pocket=pocket).one()
        if record is None:
            record = MirrorDistroSeriesSource(
                self, distro_series, component, pocket)
            store_of(self).add(record)
        return record

    def deleteMirrorDistroSeriesSource(self, distro_series, pocket,
                                       component):
        self.source_series.find(
            distro_series_id=distro_series.id, component_id=component.id,
            pocket=pocket).remove()

    def ensureMirrorCDImageSeries(self, distro_series, flavour):
        record = self.cdimage_series.find(
            distro_series_id=distro_series.id, flavour=flavour).one()
        if record is None:
            record = MirrorCDImageDistroSeries(self, distro_series, flavour)
            store_of(self).add(record)
        return record

    def deleteMirrorCDImageSeries(self, distro_series, flavour):
        self.cdimage_series.find(
            distro_series_id=distro_series.id, flavour=flavour).remove()

    # What state the mirror is in is the read model's to say (one answer
    # for every reader): these ask it about this one mirror.

    def getState(self):
        # Imported here: the read model reads this class's columns.
        from mirrorkeeper.model.mirrorstate import state_of
        return state_of(self)

    def getOverallFreshness(self):
        return self.getState().freshness

    def getLag(self):
        return self.getState().lag_seconds

    def shouldDisable(self, expected_cdimage_series=None):
        if self.content is MirrorContent.RELEASE:
            if expected_cdimage_series is None:
                raise ValueError("a CD image mirror is judged against the "
                                 "series and flavours it should carry")
            carried = {(record.distro_series_id, record.flavour)
                       for record in self.cdimage_series}
            return any((series.id, flavour) not in carried
                       for series, flavour in expected_cdimage_series)
        return (self.arch_series.is_empty()
                and self.source_series.is_empty()
                and self.rpm_repositories.is_empty())

    # Probing.

    def newProbeRecord(self, log, date_created=None, duration_seconds=None):
        record = MirrorProbeRecord(self, probe_log_text(log), date_created,
                                   duration_seconds)
        store_of(self).add(record)
        return record

    @property
    def probe_records(self):
        return store_of(self).find(
            MirrorProbeRecord,
            MirrorProbeRecord.distribution_mirror_id == self.id).order_by(
                Desc(MirrorProbeRecord.date_created),
                Desc(MirrorProbeRecord.id))

    @property
    def last_probe_record(self):
        return self.probe_records.first()

    @property
    def unreachable(self):
        return self.failed_runs > 0

    def disable(self, notify_owner=True, log=None, why=(), config=None):
        # Imported here: mail composes messages about mirrors, so it
        # depends on the model, not the other way round.
        from mirrorkeeper.mail.notifications import queue_mirror_disabled
        self.enabled = False
        self.date_disabled = utcnow()
        if notify_owner:
            if log is None and self.last_probe_record is not None:
                log = self.last_probe_record.log
            queue_mirror_disabled(store_of(self), self, log or "", why=why,
                                  config=config)
            self.date_disabled_notified = utcnow()

    def enable(self):
        """Enable the mirror: it carries its content (again)."""
        self.enabled = True
        self.date_disabled = None
        self.date_disabled_notified = None

    def disableAndNotifyOwner(self, log=None):
        self.disable(notify_owner=True, log=log)

    def expectedSeries(self):
        return series_expected_of(store_of(self), self.distribution.series,
                                  [self])[self.id]

    def guessPackagesPaths(self, series=None):
        paths = []
        for series in self.expectedSeries() if series is None else series:
            components = series.components
            for arch in series.official_architectures:
                for pocket in POCKET_ORDER:
                    for component in components:
                        path = series.packagesPath(
                            pocket, component, arch.architecture_tag)
                        paths.append((arch, pocket, component, path))
        return paths

    def guessSourcesPaths(self, series=None):
        paths = []
        for series in self.expectedSeries() if series is None else series:
            components = series.components
            for pocket in POCKET_ORDER:
                for component in components:
                    path = series.sourcesPath(pocket, component)
                    paths.append((series, pocket, component, path))
        return paths


def probe_log_text(log):
    """A probe record's log as it is stored, from text, bytes or a file."""
    if hasattr(log, "read"):
        # A pipe has seek() but cannot: it is read from where it is.
        seekable = getattr(log, "seekable", None)
        if hasattr(log, "seek") and (seekable is None or seekable()):
            log.seek(0)
        log = log.read()
    if isinstance(log, bytes):
        log = log.decode("utf-8", "replace")
    # PostgreSQL's text cannot hold NUL, which a hostile server's answer
    # may bring into a log: it goes the way of undecodable bytes, the
    # same on both backends.
    return log.replace("\x00", "\ufffd")


@implementer(IDistributionMirrorSet)
class DistributionMirrorSet(StoreBoundSet):

    def get(self, mirror_id):
        mirror = self.store.get(DistributionMirror, mirror_id)
        if mirror is None:
            raise NotFoundError("no mirror has the id %r" % (mirror_id,))
        return mirror

    def getByName(self, name):
        return self.store.find(DistributionMirror,
                               DistributionMirror.name == name).one()

    def __getitem__(self, name):
        mirror = self.getByName(name)
        if mirror is None:
            raise NotFoundError("no mirror is called %r" % (name,))
        return mirror

    def __iter__(self):
        return iter(self.store.find(DistributionMirror).order_by(
            DistributionMirror.name))

    def getByURL(self, url):
        scheme = url.split(":", 1)[0].lower()
        if scheme not in URL_SCHEMES:
            return None
        try:
            url = normalise_base_url(url, scheme)
        except ValueError:
            return None
        column = getattr(DistributionMirror, "%s_base_url" % scheme)
        return self.store.find(DistributionMirror, column == url).one()

    def getMirrorsToProbe(self, content_type=None, ignore_last_probe=False,
                          limit=None, now=None, mirror_ids=None):
        from mirrorkeeper.model.distribution import Distribution
        content_type = content_type or MirrorContent.ARCHIVE
        mirror, record = DistributionMirror, MirrorProbeRecord
        last_probe = Max(record.date_created)
        # Only a probe whose findings took effect counts: a mirror probed by
        # a distrusted run, or one killed before it was judged, is probed
        # again.
        result = self.store.using(
            LeftJoin(mirror, record,
                     And(record.distribution_mirror_id == mirror.id,
                         record.state == ProbeRecordState.APPLIED)),
            Distribution,
        ).find(
            (mirror.id, mirror.name, mirror.https_base_url,
             mirror.http_base_url, mirror.ftp_base_url, mirror.rsync_base_url),
            mirror.content == content_type,
            mirror.owner_paused == False,  # noqa: E712 (an SQL expression)
            # A private mirror is not reachable from here: what it carries
            # is what its host checks in (mirrorkeeper.model.checkin).
            mirror.private == False,  # noqa: E712
            mirror.status.is_in([MirrorStatus.OFFICIAL,
                                 MirrorStatus.UNOFFICIAL]),
            mirror.distribution_id == Distribution.id,
            Distribution.supports_mirrors == True,  # noqa: E712
            *([] if mirror_ids is None
              else [mirror.id.is_in(list(mirror_ids))])
        ).group_by(mirror.id)
        if not ignore_last_probe:
            since = (as_utc(now) or utcnow()) - PROBE_INTERVAL
            result = result.having(Or(last_probe == None,  # noqa: E711
                                      last_probe < since))
        result = result.order_by(
            Coalesce(last_probe, datetime(1970, 1, 1)), mirror.id)
        if limit is not None:
            result = result[:limit]
        # Plain values, not model objects: a run offers thousands of mirrors
        # before it plans any, and a loaded mirror costs ten kilobytes.
        return [MirrorToProbe(mirror_id, name,
                              tuple(url for url in urls if url))
                for mirror_id, name, *urls in result]
