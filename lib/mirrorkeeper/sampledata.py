"""Sample data: a small Ubuntu with a few mirrors, for demos and doctests.

The publishing history carries the dates the Launchpad mirror doctest uses,
so that the freshness examples of doc/distribution-mirror.rst can be checked
against known answers.  Mirror URLs point at example hosts unless a caller
passes `base_urls` ({mirror name: {scheme: url}}), as the demo does to point
them at its mirror farm.
"""

from datetime import datetime, timedelta

from mirrorkeeper.enums import (
    BinaryPackageFileType as B, MirrorContent, MirrorPulseType, MirrorSpeed,
    MirrorStatus, PackagePublishingPocket, SeriesStatus,
    SourcePackageFileType as S)
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.distroseries import ComponentSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.publishing import PublishingSet
from mirrorkeeper.timeutil import utcnow

RELEASE = PackagePublishingPocket.RELEASE

# name, country, content, status, enabled, owner
SAMPLE_MIRRORS = [
    ("valid-mirror", "AF", MirrorContent.ARCHIVE, MirrorStatus.OFFICIAL,
     True, "mark"),
    ("invalid-mirror", "IO", MirrorContent.RELEASE, MirrorStatus.UNOFFICIAL,
     True, "foo.bar"),
    ("unreachable-mirror", "IO", MirrorContent.ARCHIVE,
     MirrorStatus.UNOFFICIAL, True, "foo.bar"),
    ("archive-404-mirror", "IO", MirrorContent.ARCHIVE,
     MirrorStatus.UNOFFICIAL, True, "foo.bar"),
    ("new-mirror", "BR", MirrorContent.ARCHIVE, MirrorStatus.PENDING_REVIEW,
     False, "sample.person"),
]


def load_sample_data(store, base_urls=None):
    """Create the sample distribution, people and mirrors in `store` (which
    must be empty of them) and return the distribution.  Does not commit."""
    people = PersonSet(store)
    mark = people.new("mark", "Mark Shuttleworth", "mark@example.com")
    foo_bar = people.new("foo.bar", "Foo Bar", "foo.bar@example.com")
    people.new("sample.person", "Sample Person", "test@example.com")
    admins = people.newTeam("ubuntu-mirror-admins", "Ubuntu Mirror Admins",
                            members=[mark, foo_bar])
    ubuntu = DistributionSet(store).new(
        "ubuntu", "Ubuntu", "Ubuntu Linux", owner=mark, mirror_admin=admins)

    components = ComponentSet(store)
    main, restricted = components.ensure("main"), components.ensure(
        "restricted")
    warty = ubuntu.newSeries("warty", "4.10", SeriesStatus.CURRENT,
                             [main, restricted], datetime(2004, 8, 20))
    hoary = ubuntu.newSeries("hoary", "5.04", SeriesStatus.DEVELOPMENT,
                             [main, restricted], datetime(2004, 10, 20))
    warty_i386 = warty.newArch("i386")
    warty.newArch("hppa", official=False)
    hoary.newArch("i386")
    hoary.newArch("hppa", official=False)

    publishing = PublishingSet(store)
    for version, published in [("1.0.8-1ubuntu1", datetime(2005, 9, 15, 10)),
                               ("1.0.9a-4", datetime(2005, 9, 16, 10))]:
        upstream = version.split("-")[0]
        publishing.publishSource(
            warty, main, RELEASE, "alsa-utils", version,
            [("alsa-utils_%s.dsc" % version, S.DSC),
             ("alsa-utils_%s.orig.tar.gz" % upstream, S.ORIG_TARBALL)],
            published)
    publishing.publishBinary(
        warty_i386, main, RELEASE, "mozilla-firefox", "0.9",
        [("mozilla-firefox_0.9_i386.deb", B.DEB)], datetime(2005, 6, 18))
    publishing.publishBinary(
        warty_i386, main, RELEASE, "hw-detect-udeb", "0.1-1",
        [("hw-detect-udeb_0.1-1_i386.udeb", B.UDEB)], datetime(2005, 6, 20),
        source_name="hw-detect")
    publishing.publishBinary(
        warty_i386, main, RELEASE, "pmount", "2:1.9-1",
        [("pmount_1.9-1_all.deb", B.DEB)], datetime(2005, 6, 20))
    publishing.publishSource(
        hoary, main, RELEASE, "pmount", "2:1.9-1",
        [("pmount_1.9-1.dsc", S.DSC)], datetime(2005, 6, 19))

    countries = CountrySet(store)
    for name, country, content, status, enabled, owner in SAMPLE_MIRRORS:
        urls = (base_urls or {}).get(name) or {
            "http": "http://%s.example.org/ubuntu/" % name}
        mirror = ubuntu.newMirror(
            people[owner], name, MirrorSpeed.S100M, countries[country],
            content, MirrorPulseType.PULL, official_candidate=True,
            enabled=enabled, **{"%s_base_url" % scheme: url
                                for scheme, url in urls.items()})
        mirror.status = status
        if status is not MirrorStatus.PENDING_REVIEW:
            mirror.reviewer = mark
            mirror.date_reviewed = datetime(2005, 5, 1)
        if name == "unreachable-mirror":
            mirror.newProbeRecord(
                "Probed an hour ago; its host did not answer.\n",
                utcnow() - timedelta(hours=1))
    store.flush()
    return ubuntu
