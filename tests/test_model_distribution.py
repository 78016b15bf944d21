"""Distributions: their series, and the registration and listing of their
mirrors."""

import pytest
from zope.component import getUtility

from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus,
    PackagePublishingPocket, SeriesStatus)
from mirrorkeeper.errors import (
    DuplicateError, InvalidURLError, InvalidValueError, NotFoundError)
from mirrorkeeper.interfaces.country import ICountrySet
from mirrorkeeper.interfaces.distribution import (
    IComponentSet, IDistributionSet)
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.interfaces.person import IPersonSet
from mirrorkeeper.model.distributionmirror import (
    DistributionMirror, MirrorACLAddress, MirrorCountryAllowed,
    MirrorNetblock)
from tests.rollback_stores import (  # noqa: F401
    rollback_sample_store, shared_sample_store)


@pytest.fixture
def ubuntu(rollback_sample_store):
    return getUtility(IDistributionSet)["ubuntu"]


def register(distribution, name="fresh-mirror", **overrides):
    """Register a mirror with sensible defaults for what is not given."""
    arguments = dict(
        owner=getUtility(IPersonSet)["sample.person"], name=name,
        speed=MirrorSpeed.S100M, country=getUtility(ICountrySet)["BR"],
        content=MirrorContent.ARCHIVE, pulse_type=MirrorPulseType.PULL,
        http_base_url="http://%s.example.net/ubuntu" % name)
    arguments.update(overrides)
    return distribution.newMirror(**arguments)


def names(mirrors):
    return [mirror.name for mirror in mirrors]


# Distributions and series.

def test_distribution_set(rollback_sample_store):
    """Distributions are found by name, listed by name, a taken name or an
    unknown one is an error naming it, and one without mirror support takes
    no mirror."""
    distributions = getUtility(IDistributionSet)
    people = getUtility(IPersonSet)
    debian = distributions.new("debian", "Debian", "Debian GNU/Linux",
                               people["mark"], people["ubuntu-mirror-admins"])
    assert debian.supports_mirrors is True
    assert [d.name for d in distributions] == ["debian", "ubuntu"]
    assert distributions.getByName("debian") == debian
    assert distributions.getByName("nope") is None
    with pytest.raises(NotFoundError, match="no distribution is called "
                                            "'nope'"):
        distributions["nope"]
    with pytest.raises(DuplicateError,
                       match="a distribution called ubuntu exists"):
        distributions.new("ubuntu", "U", "U", people["mark"], people["mark"])
    without = distributions.new("nomirrors", "No Mirrors", "No Mirrors",
                                people["mark"], people["mark"],
                                supports_mirrors=False)
    with pytest.raises(InvalidValueError,
                       match="No Mirrors does not support mirrors"):
        register(without)


def test_series_newest_version_first(ubuntu):
    """Series are listed by version, newest first, comparing numbers as
    numbers (10.04 is newer than 9.10)."""
    for name, version in [("lucid", "10.04"), ("breezy", "5.10"),
                          ("karmic", "9.10"), ("dapper", "6.06")]:
        ubuntu.newSeries(name, version, SeriesStatus.SUPPORTED)
    assert [s.name for s in ubuntu.series] == [
        "lucid", "karmic", "dapper", "breezy", "hoary", "warty"]


def test_new_series(ubuntu):
    """A new series has its name, version, status and components in the
    order given."""
    components = getUtility(IComponentSet)
    universe = components.ensure("universe")
    main = components["main"]
    breezy = ubuntu.newSeries("breezy", "5.10", SeriesStatus.FROZEN,
                              [universe, main, universe])
    assert breezy.distribution == ubuntu
    assert (breezy.name, breezy.version, breezy.status) == (
        "breezy", "5.10", SeriesStatus.FROZEN)
    assert breezy.components == [universe, main]
    assert breezy.suite(PackagePublishingPocket.SECURITY) == \
        "breezy-security"
    assert ubuntu.getSeries("breezy") == breezy


def test_new_series_duplicate(ubuntu, rollback_sample_store):
    """A series name a distribution already has is a DuplicateError, and no
    second series is added."""
    with pytest.raises(DuplicateError,
                       match="ubuntu already has a series called warty"):
        ubuntu.newSeries("warty", "4.10.1", SeriesStatus.CURRENT)
    assert [s.name for s in ubuntu.series] == ["hoary", "warty"]
    rollback_sample_store.flush()


def test_same_series_name_in_two_distributions(ubuntu):
    """Two distributions may each have a series of the same name."""
    people = getUtility(IPersonSet)
    other = getUtility(IDistributionSet).new(
        "kubuntu", "Kubuntu", "Kubuntu", people["mark"], people["mark"])
    warty = other.newSeries("warty", "4.10", SeriesStatus.CURRENT)
    assert other.getSeries("warty") == warty
    assert ubuntu.getSeries("warty") != warty


def test_get_series_unknown(ubuntu):
    """An unknown series is a NotFoundError naming it and the
    distribution."""
    with pytest.raises(NotFoundError,
                       match="ubuntu has no series called 'breezy'"):
        ubuntu.getSeries("breezy")


# Registering mirrors.

def test_new_mirror(sample_store):
    """A registered mirror has the fields given, normalised URLs, and starts
    pending review, disabled and unpaused."""
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    mirror = register(
        ubuntu, display_name="Fresh", description="A fresh mirror",
        http_base_url="HTTP://Fresh.Example.NET/ubuntu",
        https_base_url="https://fresh.example.net:443/ubuntu",
        ftp_base_url="ftp://FTP.fresh.example.net/ubuntu",
        rsync_base_url="rsync://fresh.example.net/ubuntu",
        official_candidate=True, pulse_source="rsync://master/",
        whiteboard="check weekly", private=True, internet2=True,
        asn=64500, asn_clients=True)
    sample_store.commit()
    mirror = getUtility(IDistributionMirrorSet)["fresh-mirror"]
    assert mirror.distribution == ubuntu
    assert mirror.owner.name == "sample.person"
    assert mirror.http_base_url == "http://fresh.example.net/ubuntu/"
    assert mirror.https_base_url == "https://fresh.example.net/ubuntu/"
    assert mirror.ftp_base_url == "ftp://ftp.fresh.example.net/ubuntu/"
    assert mirror.rsync_base_url == "rsync://fresh.example.net/ubuntu/"
    assert mirror.base_url == "https://fresh.example.net/ubuntu/"
    assert (mirror.display_name, mirror.title, mirror.description) == (
        "Fresh", "Fresh", "A fresh mirror")
    assert mirror.status is MirrorStatus.PENDING_REVIEW
    assert mirror.enabled is False
    assert mirror.owner_paused is False
    assert mirror.official_candidate is True
    assert mirror.isOfficial() is False
    assert (mirror.pulse_source, mirror.whiteboard) == (
        "rsync://master/", "check weekly")
    assert (mirror.private, mirror.internet2, mirror.asn,
            mirror.asn_clients) == (True, True, 64500, True)
    assert mirror.reviewer is None and mirror.date_reviewed is None
    assert mirror.date_created is not None
    assert mirror in ubuntu.pending_review_mirrors


def test_new_mirror_defaults(ubuntu):
    """Without the optional fields a mirror has no display name, is not
    private, and its title is its name."""
    mirror = register(ubuntu)
    assert mirror.display_name is None
    assert mirror.title == "fresh-mirror"
    assert (mirror.private, mirror.internet2, mirror.asn_clients,
            mirror.official_candidate) == (False, False, False, False)
    assert mirror.asn is None
    assert mirror.https_base_url is None
    assert mirror.base_url == "http://fresh-mirror.example.net/ubuntu/"
    assert (mirror.netblocks, mirror.acl_addresses,
            mirror.countries_allowed) == ([], [], [])


def test_base_url_preference(ubuntu):
    """The prober's URL is https, else http, else ftp; never rsync."""
    ftp_only = register(ubuntu, "ftp-only", http_base_url=None,
                        ftp_base_url="ftp://ftp-only.example.net/u",
                        rsync_base_url="rsync://ftp-only.example.net/u")
    assert ftp_only.base_url == "ftp://ftp-only.example.net/u/"
    both = register(ubuntu, "both", ftp_base_url="ftp://both.example.net/u")
    assert both.base_url == "http://both.example.net/ubuntu/"


def test_bandwidth_default_from_speed(ubuntu, rollback_sample_store):
    """A mirror's bandwidth defaults to its speed's figure in Mbps (at least
    1), and a declared bandwidth overrides it."""
    cases = [(MirrorSpeed.S128K, 1), (MirrorSpeed.S2M, 2),
             (MirrorSpeed.S100M, 100), (MirrorSpeed.S1G, 1000),
             (MirrorSpeed.S100G, 100000)]
    for index, (speed, mbps) in enumerate(cases):
        mirror = register(ubuntu, "speed-%d" % index, speed=speed)
        assert mirror.bandwidth_mbps == mbps, speed
    declared = register(ubuntu, "declared", speed=MirrorSpeed.S2M,
                        bandwidth_mbps=250)
    rollback_sample_store.flush()
    assert declared.bandwidth_mbps == 250
    mirrors = getUtility(IDistributionMirrorSet)
    assert mirrors["speed-2"].bandwidth_mbps == 100


def test_netblocks_acl_and_countries_round_trip(sample_store):
    """Netblocks, ACL addresses and allowed countries are stored in their
    normal form, in order, each once, and read back after a commit."""
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    countries = getUtility(ICountrySet)
    register(ubuntu, netblocks=["192.0.2.77/24", "2001:DB8::/32",
                                "192.0.2.0/24"],
             acl_addresses=["Rsync.Example.NET", "198.51.100.7",
                            "rsync.example.net"],
             countries_allowed=[countries["BR"], countries["AR"],
                                countries["BR"]])
    sample_store.commit()
    mirror = getUtility(IDistributionMirrorSet)["fresh-mirror"]
    assert mirror.netblocks == ["192.0.2.0/24", "2001:db8::/32"]
    assert mirror.acl_addresses == ["rsync.example.net", "198.51.100.7"]
    assert [c.iso3166code2 for c in mirror.countries_allowed] == [
        "BR", "AR"]


def test_lists_replaced(ubuntu, rollback_sample_store):
    """Setting a mirror's netblocks replaces the old ones."""
    mirror = register(ubuntu, netblocks=["192.0.2.0/24"])
    mirror.netblocks = ["198.51.100.0/24"]
    mirror.countries_allowed = []
    rollback_sample_store.flush()
    assert mirror.netblocks == ["198.51.100.0/24"]
    assert rollback_sample_store.find(
        MirrorNetblock, distribution_mirror_id=mirror.id).count() == 1


def counts(store):
    return [store.find(cls).count() for cls in (
        DistributionMirror, MirrorNetblock, MirrorACLAddress,
        MirrorCountryAllowed)]


def bad_registrations():
    """(overrides, error class, message) of registrations that must fail."""
    return [
        (dict(name="Bad Name"), InvalidValueError, "invalid name 'Bad Name'"),
        (dict(name="valid-mirror"), DuplicateError,
         "a mirror called valid-mirror is already registered"),
        (dict(http_base_url="http://exa mple.net/"), InvalidURLError,
         "invalid URL 'http://exa mple.net/'"),
        (dict(http_base_url="ftp://fresh.example.net/"), InvalidURLError,
         "invalid http URL 'ftp://fresh.example.net/': it must start with "
         "http://"),
        (dict(https_base_url="https://u:p@fresh.example.net/"),
         InvalidURLError, "no user or password"),
        (dict(ftp_base_url="ftp://fresh.example.net/?x"), InvalidURLError,
         "no query or fragment"),
        (dict(rsync_base_url="rsync://fresh.example.net:http/"),
         InvalidURLError, "invalid URL"),
        (dict(http_base_url="HTTP://Valid-Mirror.example.org:80/ubuntu"),
         DuplicateError, "the URL http://valid-mirror.example.org/ubuntu/ is "
         "already registered for the mirror valid-mirror"),
        (dict(http_base_url=None), InvalidValueError,
         "a mirror needs at least one URL: http, https, ftp or rsync"),
        (dict(netblocks=["192.0.2.0/24", "192.0.2.0/33"]), InvalidValueError,
         "invalid netblock '192.0.2.0/33'"),
        (dict(acl_addresses=["bad host"]), InvalidValueError,
         "invalid address 'bad host'"),
        (dict(bandwidth_mbps=0), InvalidValueError, "invalid bandwidth 0"),
        (dict(bandwidth_mbps=-5), InvalidValueError, "invalid bandwidth -5"),
        (dict(bandwidth_mbps=True), InvalidValueError,
         "invalid bandwidth True"),
        (dict(bandwidth_mbps="100"), InvalidValueError,
         "invalid bandwidth '100'"),
        (dict(asn=0), InvalidValueError, "invalid ASN 0"),
        (dict(asn=2 ** 32), InvalidValueError, "invalid ASN 4294967296"),
        (dict(asn="64500"), InvalidValueError, "invalid ASN '64500'"),
        (dict(colour="red"), InvalidValueError,
         "unknown mirror field(s): colour"),
        (dict(speed="S100M"), InvalidValueError, "invalid speed 'S100M'"),
        (dict(content=MirrorSpeed.S2M), InvalidValueError, "invalid content"),
        (dict(pulse_type=None), InvalidValueError, "invalid pulse type None"),
        (dict(country=None), InvalidValueError, "invalid country None"),
        (dict(country="BR"), InvalidValueError, "invalid country 'BR'"),
        (dict(owner=None), InvalidValueError, "invalid owner None"),
        (dict(countries_allowed=["BR"]), InvalidValueError,
         "invalid country 'BR'"),
        (dict(private="yes"), InvalidValueError, "invalid private 'yes'"),
        (dict(enabled=None), InvalidValueError, "invalid enabled None"),
        (dict(whiteboard=b"notes"), InvalidValueError,
         "invalid whiteboard b'notes'"),
    ]


def test_new_mirror_errors_store_nothing(sample_store):
    """Each bad registration is the documented error with a message naming
    the problem, and leaves no mirror, netblock, ACL address or allowed
    country behind."""
    ubuntu = getUtility(IDistributionSet)["ubuntu"]
    mirrors = getUtility(IDistributionMirrorSet)
    before = counts(sample_store)
    for overrides, error, message in bad_registrations():
        arguments = dict(netblocks=["203.0.113.0/24"],
                         acl_addresses=["203.0.113.9"],
                         countries_allowed=[getUtility(ICountrySet)["BR"]])
        arguments.update(overrides)
        with pytest.raises(error) as caught:
            register(ubuntu, **arguments)
        assert message in str(caught.value), overrides
        assert counts(sample_store) == before, overrides
        assert mirrors.getByName(overrides.get("name", "fresh-mirror")) in (
            None, mirrors.getByName("valid-mirror")), overrides
    # The store is as good as before: a valid registration still works.
    sample_store.commit()
    register(ubuntu)
    sample_store.commit()
    assert counts(sample_store) == [before[0] + 1, before[1], before[2],
                                    before[3]]


def test_url_unique_across_spellings(ubuntu):
    """A URL that normalises to one already registered is a duplicate, for
    every scheme."""
    register(ubuntu, "first", https_base_url="https://a.example.net/u",
             ftp_base_url="ftp://a.example.net/u",
             rsync_base_url="rsync://a.example.net/u")
    for scheme in ("https", "ftp", "rsync"):
        with pytest.raises(DuplicateError, match="for the mirror first"):
            register(ubuntu, "second-" + scheme, **{
                "%s_base_url" % scheme: "%s://A.example.net/u/" % scheme})


# Listing mirrors.

def test_sample_listings(ubuntu):
    """The sample mirrors are listed by country name and then in the order
    they were registered."""
    assert names(ubuntu.mirrors) == sorted(names(ubuntu.mirrors))
    assert names(ubuntu.enabled_mirrors) == [
        "valid-mirror", "invalid-mirror", "unreachable-mirror",
        "archive-404-mirror"]
    assert names(ubuntu.enabled_official_mirrors) == ["valid-mirror"]
    assert names(ubuntu.archive_mirrors) == ["valid-mirror"]
    assert names(ubuntu.cdimage_mirrors) == []
    assert names(ubuntu.pending_review_mirrors) == ["new-mirror"]
    assert names(ubuntu.disabled_mirrors) == []


def test_enabled_mirrors_exclude_owner_paused(ubuntu, rollback_sample_store):
    """A mirror its owner paused is not listed as enabled, official,
    archive or disabled, and comes back when unpaused."""
    mirrors = getUtility(IDistributionMirrorSet)
    mirrors["valid-mirror"].owner_paused = True
    mirrors["unreachable-mirror"].owner_paused = True
    rollback_sample_store.flush()
    assert names(ubuntu.enabled_mirrors) == [
        "invalid-mirror", "archive-404-mirror"]
    assert names(ubuntu.enabled_official_mirrors) == []
    assert names(ubuntu.archive_mirrors) == []
    assert "valid-mirror" not in names(ubuntu.disabled_mirrors)
    mirrors["valid-mirror"].owner_paused = False
    assert "valid-mirror" in names(ubuntu.enabled_mirrors)


def test_listing_order_by_country_then_registration(ubuntu):
    """Enabled mirrors of one country are listed in registration order, and
    countries by name."""
    countries = getUtility(ICountrySet)
    register(ubuntu, "zz-argentina", enabled=True,
             country=countries["AR"])
    register(ubuntu, "aa-zimbabwe", enabled=True, country=countries["ZW"])
    register(ubuntu, "mm-argentina", enabled=True, country=countries["AR"])
    assert names(ubuntu.enabled_mirrors) == [
        "valid-mirror", "zz-argentina", "mm-argentina", "invalid-mirror",
        "unreachable-mirror", "archive-404-mirror", "aa-zimbabwe"]


def test_official_cdimage_and_disabled(ubuntu):
    """An official CD image mirror is listed as such, and a reviewed mirror
    that is disabled is listed as disabled."""
    mirrors = getUtility(IDistributionMirrorSet)
    mirrors["invalid-mirror"].status = MirrorStatus.OFFICIAL
    mirrors["archive-404-mirror"].enabled = False
    assert names(ubuntu.cdimage_mirrors) == ["invalid-mirror"]
    assert names(ubuntu.enabled_official_mirrors) == [
        "valid-mirror", "invalid-mirror"]
    assert names(ubuntu.disabled_mirrors) == ["archive-404-mirror"]


def test_official_needs_candidate_and_status(ubuntu):
    """A mirror is official only if its owner asked and it was approved."""
    mirror = register(ubuntu, enabled=True)
    mirror.status = MirrorStatus.OFFICIAL
    assert not mirror.isOfficial()
    mirror.official_candidate = True
    assert mirror.isOfficial()
    mirror.status = MirrorStatus.BROKEN
    assert not mirror.isOfficial()
