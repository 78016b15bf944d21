"""Distributions, and the registration of their mirrors."""

import re

from storm.locals import Bool, DateTime, Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed)
from mirrorkeeper.errors import DuplicateError, InvalidValueError, \
    NotFoundError
from mirrorkeeper.interfaces.distribution import IDistribution, \
    IDistributionSet
from mirrorkeeper.model.base import StoreBoundSet, store_of
from mirrorkeeper.model.country import Country
from mirrorkeeper.model.distributionmirror import (
    URL_SCHEMES, DistributionMirror, DistributionMirrorSet)
from mirrorkeeper.model.distroseries import DistroSeries, valid_root
from mirrorkeeper.model.person import Person
from mirrorkeeper.model.site import SiteSet
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import (
    MIRROR_NUMBERS, NO_URL, RESERVED_DISTRIBUTION_NAMES, normalise_base_url,
    valid_address, valid_mirror_number, valid_name, valid_netblock,
    valid_text)

# The registration details newMirror takes besides the required ones.
_MIRROR_DETAILS = ("pulse_source", "bandwidth_mbps", "private", "internet2",
                   "asn", "asn_clients", "whiteboard", "owner_paused",
                   "picks_up_new_series")


# What newMirror checks the type of before creating anything: a wrong type
# found by Storm only once the mirror exists would leave half a mirror in
# the store.
_MIRROR_FLAGS = ("official_candidate", "enabled", "private", "internet2",
                 "asn_clients", "owner_paused", "picks_up_new_series")
_MIRROR_TEXTS = ("display_name", "description", "pulse_source", "whiteboard")


def _check_type(value, kind, what, allow_none=False):
    """`value`, or InvalidValueError if it is not a `kind`."""
    if value is None and allow_none:
        return value
    if kind is bool:
        wanted, ok = "True or False", isinstance(value, bool)
    else:
        wanted, ok = "a %s" % (kind.__name__,), isinstance(value, kind)
    if not ok:
        raise InvalidValueError("invalid %s %r: give %s"
                                % (what.replace("_", " "), value, wanted))
    return value


def _version_key(series):
    return [int(part) if part.isdigit() else part
            for part in re.split(r"(\d+)", series.version)]


@implementer(IDistribution)
class Distribution(Storm):
    __storm_table__ = "distribution"

    id = Int(primary=True)
    name = Unicode(allow_none=False)
    display_name = Unicode(allow_none=False)
    title = Unicode(allow_none=False)
    owner_id = Int(name="owner", allow_none=False)
    owner = Reference(owner_id, "Person.id")
    mirror_admin_id = Int(name="mirror_admin", allow_none=False)
    mirror_admin = Reference(mirror_admin_id, "Person.id")
    supports_mirrors = Bool(allow_none=False)
    date_created = DateTime(allow_none=False)
    # Where its series in development live (schema patch 0020), or None.
    development_root = Unicode()

    def __init__(self, name, display_name, title, owner, mirror_admin,
                 supports_mirrors=True):
        self.name = name
        self.display_name = display_name
        self.title = title
        self.owner = owner
        self.mirror_admin = mirror_admin
        self.supports_mirrors = supports_mirrors
        self.date_created = utcnow()

    def __repr__(self):
        return "<Distribution %s>" % (self.name,)

    # Series.

    @property
    def series(self):
        found = store_of(self).find(
            DistroSeries, DistroSeries.distribution_id == self.id)
        return sorted(found, key=_version_key, reverse=True)

    def newSeries(self, name, version, status, components=(),
                  date_created=None, every_mirror=True, root=""):
        name = valid_name(name)
        store = store_of(self)
        if not store.find(DistroSeries, distribution_id=self.id,
                          name=name).is_empty():
            raise DuplicateError("%s already has a series called %s"
                                 % (self.name, name))
        series = DistroSeries(self, name, version, status, date_created,
                              root=root, every_mirror=every_mirror)
        store.add(series)
        for component in components:
            series.addComponent(component)
        return series

    def setDevelopmentRoot(self, root):
        if root is None:
            self.development_root = None
            return
        root = valid_root(root)
        if not root:
            raise InvalidValueError(
                "invalid development root '': the archive's root holds the "
                "released series; give a directory under it, such as "
                "'development/'")
        self.development_root = root

    def getSeries(self, name):
        series = store_of(self).find(
            DistroSeries, distribution_id=self.id, name=name).one()
        if series is None:
            raise NotFoundError("%s has no series called %r"
                                % (self.name, name))
        return series

    # Mirror listings.

    def _mirrors(self, *conditions):
        mirror = DistributionMirror
        return list(store_of(self).find(
            mirror, mirror.distribution_id == self.id,
            mirror.country_id == Country.id, *conditions).order_by(
                Country.name, mirror.id))

    @property
    def mirrors(self):
        return sorted(self._mirrors(), key=lambda mirror: mirror.name)

    @property
    def enabled_mirrors(self):
        return self._mirrors(DistributionMirror.enabled == True,  # noqa
                             DistributionMirror.owner_paused == False)  # noqa

    @property
    def enabled_official_mirrors(self):
        return [mirror for mirror in self.enabled_mirrors
                if mirror.isOfficial()]

    # The site's listings: which mirrors each shows is the read model's
    # rule (mirrorstate.listing_conditions), stated there once.

    def _listing(self, kind):
        # Imported here: the read model reads this module's classes.
        from mirrorkeeper.model.mirrorstate import listing_conditions
        return self._mirrors(*listing_conditions(kind))

    @property
    def archive_mirrors(self):
        return self._listing("archive")

    @property
    def cdimage_mirrors(self):
        return self._listing("cdimage")

    @property
    def disabled_mirrors(self):
        return self._listing("disabled")

    @property
    def pending_review_mirrors(self):
        return self._listing("pending")

    # Registration.

    def newMirror(self, owner, name, speed, country, content, pulse_type,
                  display_name=None, description=None, http_base_url=None,
                  https_base_url=None, ftp_base_url=None,
                  rsync_base_url=None, official_candidate=False,
                  enabled=False, netblocks=(), acl_addresses=(),
                  countries_allowed=(), site=None, **details):
        if not self.supports_mirrors:
            raise InvalidValueError("%s does not support mirrors"
                                    % (self.display_name,))
        unknown = set(details) - set(_MIRROR_DETAILS)
        if unknown:
            raise InvalidValueError("unknown mirror field(s): %s"
                                    % ", ".join(sorted(unknown)))
        _check_type(owner, Person, "owner")
        _check_type(speed, MirrorSpeed, "speed")
        _check_type(country, Country, "country")
        _check_type(content, MirrorContent, "content")
        _check_type(pulse_type, MirrorPulseType, "pulse_type")
        countries_allowed = [_check_type(allowed, Country, "country")
                             for allowed in countries_allowed]
        fields = dict(details, official_candidate=official_candidate,
                      enabled=enabled, display_name=display_name,
                      description=description)
        for field in _MIRROR_FLAGS:
            if field in fields:
                _check_type(fields[field], bool, field)
        for field in _MIRROR_TEXTS:
            _check_type(fields.get(field), str, field, allow_none=True)
            if field in details:
                details[field] = valid_text(details[field], field)
        display_name = valid_text(display_name, "display_name")
        description = valid_text(description, "description")
        name = valid_name(name)
        store = store_of(self)
        mirrors = DistributionMirrorSet(store)
        if mirrors.getByName(name) is not None:
            raise DuplicateError("a mirror called %s is already registered"
                                 % (name,), "name")
        given = dict(zip(URL_SCHEMES, (http_base_url, https_base_url,
                                       ftp_base_url, rsync_base_url)))
        urls = {}
        for scheme, url in given.items():
            if url:
                urls[scheme] = normalise_base_url(url, scheme)
                other = mirrors.getByURL(urls[scheme])
                if other is not None:
                    raise DuplicateError(
                        "the URL %s is already registered for the mirror %s"
                        % (urls[scheme], other.name), "%s_base_url" % scheme)
        if not urls:
            raise InvalidValueError(NO_URL, "https_base_url")
        netblocks = [valid_netblock(block) for block in netblocks]
        acl_addresses = [valid_address(address) for address in acl_addresses]
        for field in MIRROR_NUMBERS:
            # Numbers, not text: reading what people type is the caller's
            # (validators.valid_mirror_fields), the bounds are one.
            if isinstance(details.get(field), str):
                raise InvalidValueError("invalid %s %r: give a number" % (
                    MIRROR_NUMBERS[field][0], details[field]), field)
            if field in details:
                details[field] = valid_mirror_number(details[field], field)

        if site is None:
            site = SiteSet(store).newForMirror(name, display_name, owner)
        mirror = DistributionMirror(self, owner, name, speed, country,
                                    content, pulse_type)
        mirror.site = site
        mirror.display_name = display_name
        mirror.description = description
        for scheme, url in urls.items():
            setattr(mirror, "%s_base_url" % scheme, url)
        mirror.official_candidate = official_candidate
        mirror.enabled = enabled
        for field, value in details.items():
            setattr(mirror, field, value)
        store.add(mirror)
        store.flush()
        mirror.netblocks = netblocks
        mirror.acl_addresses = acl_addresses
        mirror.countries_allowed = countries_allowed
        return mirror


@implementer(IDistributionSet)
class DistributionSet(StoreBoundSet):

    def new(self, name, display_name, title, owner, mirror_admin,
            supports_mirrors=True):
        name = valid_name(name)
        if name in RESERVED_DISTRIBUTION_NAMES:
            raise InvalidValueError(
                "%s cannot name a distribution: the web site has a page of "
                "that name" % (name,), "name")
        display_name = valid_text(display_name, "display_name")
        title = valid_text(title, "title")
        if self.getByName(name) is not None:
            raise DuplicateError("a distribution called %s exists" % (name,),
                                 "name")
        distribution = Distribution(name, display_name, title, owner,
                                    mirror_admin, supports_mirrors)
        self.store.add(distribution)
        return distribution

    def getByName(self, name):
        return self.store.find(Distribution, Distribution.name == name).one()

    def __getitem__(self, name):
        distribution = self.getByName(name)
        if distribution is None:
            raise NotFoundError("no distribution is called %r" % (name,))
        return distribution

    def __iter__(self):
        return iter(self.store.find(Distribution).order_by(
            Distribution.name))
