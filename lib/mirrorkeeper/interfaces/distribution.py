"""Distributions, their series, architectures and components."""

from zope.interface import Attribute, Interface


class IDistribution(Interface):
    """A software distribution, e.g. Ubuntu, served by many mirrors."""

    id = Attribute("The database id.")
    name = Attribute("The unique short name, e.g. 'ubuntu'.")
    display_name = Attribute("e.g. 'Ubuntu'.")
    title = Attribute("e.g. 'Ubuntu Linux'.")
    owner = Attribute("The IPerson who owns the distribution.")
    mirror_admin = Attribute(
        "The IPerson (usually a team) who reviews the distribution's mirrors "
        "and is told when one is disabled.")
    supports_mirrors = Attribute("False for a distribution without mirrors.")
    series = Attribute("The IDistroSeries, newest version first.")
    mirrors = Attribute("Every mirror of the distribution, by name.")
    enabled_mirrors = Attribute(
        "The enabled mirrors, ordered by country name and then by the order "
        "they were registered in.")
    enabled_official_mirrors = Attribute(
        "The enabled mirrors that are official (see "
        "IDistributionMirror.isOfficial), in the same order.")
    archive_mirrors = Attribute(
        "The enabled, official archive mirrors, in the same order.")
    cdimage_mirrors = Attribute(
        "The enabled, official CD image mirrors, in the same order.")
    disabled_mirrors = Attribute(
        "The mirrors that were reviewed and are not enabled now.")
    pending_review_mirrors = Attribute("The mirrors waiting for review.")
    development_root = Attribute(
        "The directory (see IDistroSeries.root) whose dists/ holds the "
        "series in development, e.g. 'development/', or None: a new series "
        "the master scan finds there is recorded at its development "
        "location with that root.")

    def newSeries(name, version, status, components=(), date_created=None,
                  every_mirror=True, root=""):
        """Add a series with the given IComponents; DuplicateError if the
        distribution has one of that name, InvalidValueError for a bad
        `root` (see IDistroSeries.root).  It starts at the location its
        status implies (see IDistroSeries.location), at `root`.
        `every_mirror`: False for a new series the master scan found,
        expected only of some mirrors (see IDistroSeries.isExpectedOf)."""

    def setDevelopmentRoot(root):
        """Make `root` the development root (None: none);
        InvalidValueError for a bad root or '', the archive's own root,
        which holds the released series."""

    def getSeries(name):
        """The series called `name`, or NotFoundError."""

    def newMirror(owner, name, speed, country, content, pulse_type,
                  display_name=None, description=None, http_base_url=None,
                  https_base_url=None, ftp_base_url=None, rsync_base_url=None,
                  official_candidate=False, enabled=False, **details):
        """Register a mirror of this distribution and return it.

        The mirror starts PENDING_REVIEW.  URLs are normalised (scheme and
        host lowered, a trailing slash added) and must be unique among all
        mirrors; at least one of http, https and ftp is required.  `details`
        takes the other IDistributionMirror fields a registration may set
        (pulse_source, bandwidth_mbps, private, internet2, asn, asn_clients,
        netblocks, acl_addresses, countries_allowed, whiteboard).

        Raises InvalidURLError for a malformed URL or one of the wrong
        scheme, DuplicateError for a name or URL already registered,
        InvalidValueError for other bad values; nothing is stored then.
        """


class IDistributionSet(Interface):
    def new(name, display_name, title, owner, mirror_admin,
            supports_mirrors=True):
        """Register a distribution; DuplicateError if the name is taken."""

    def getByName(name):
        """The distribution called `name`, or None."""

    def __getitem__(name):
        """The distribution called `name`, or NotFoundError."""

    def __iter__():
        """Every distribution, by name."""


class IComponent(Interface):
    name = Attribute("e.g. 'main', 'restricted', 'universe'.")


class IComponentSet(Interface):
    def ensure(name):
        """The component called `name`, created if need be."""

    def __getitem__(name):
        """The component called `name`, or NotFoundError."""


class IDistroSeries(Interface):
    """A release of a distribution, e.g. Ubuntu 4.10 'warty'."""

    id = Attribute("The database id.")
    distribution = Attribute("The IDistribution.")
    name = Attribute("e.g. 'warty'.")
    version = Attribute("e.g. '4.10'.")
    status = Attribute("A SeriesStatus; OBSOLETE series leave the mirrors.")
    location = Attribute(
        "A SeriesLocation: DEVELOPMENT for a series not released yet (its "
        "status EXPERIMENTAL, DEVELOPMENT or FROZEN when it was added), "
        "RELEASE once released, ARCHIVE at its end of life.")
    root = Attribute(
        "The directory, under the master's root and a mirror's base URL "
        "alike, holding the series' dists/ and pool/: '' for the root "
        "itself, else relative and ending in '/', e.g. 'releases/40/'.")
    every_mirror = Attribute(
        "True if every mirror is expected to carry the series (one an "
        "admin added, or the master had at the distribution's first scan); "
        "False for a new series a later scan found.")
    date_announced = Attribute(
        "When the owners of the mirrors that do not pick up new series by "
        "themselves were told of it, or None.")
    date_moved = Attribute(
        "When the series was moved to its root (moveToRelease or "
        "moveToArchive to another root), or None if it has had that root "
        "since it was added: the files under it are on the master since.")
    components = Attribute(
        "The series' IComponents, in the order they were added.")
    architectures = Attribute("Every IDistroArchSeries, by tag.")
    official_architectures = Attribute(
        "The IDistroArchSeries that mirrors are expected to carry, by tag.")

    def addComponent(component):
        """Make `component` part of the series (idempotent)."""

    def newArch(architecture_tag, official=True):
        """Add an architecture; DuplicateError if the series has it."""

    def getArch(architecture_tag):
        """The IDistroArchSeries for that tag, or NotFoundError."""

    def suite(pocket):
        """The suite name of a pocket of this series, e.g. 'warty-updates'."""

    def packagesPath(pocket, component, architecture_tag):
        """The path, under a mirror's base URL, of the Packages.gz of that
        pocket, IComponent and architecture, under the series' root."""

    def sourcesPath(pocket, component):
        """The path of the Sources.gz of that pocket and IComponent."""

    def isExpectedOf(mirror):
        """Whether the archive `mirror` is expected to carry the series at
        its location: never once it is OBSOLETE (a mirror that carried it
        is then asked for it at the archive location only where it has a
        record of it, and dropping it counts against nobody); else if it
        is expected of every mirror, or the mirror picks up new series by
        itself, or took it on (takeOn)."""

    def takeOn(mirror):
        """From now on `mirror` (one of the same distribution, else
        InvalidValueError) is expected to carry the series (idempotent)."""

    def moveToRelease(root=None):
        """Released: the series moves from its development location to its
        release location (at `root` if given, else where it was), becomes
        CURRENT, and the series that was CURRENT becomes SUPPORTED.
        InvalidValueError if it is not in development, or for a bad root;
        nothing changes then."""

    def moveToArchive(root):
        """End of life: the series moves to the archive location at `root`
        and becomes OBSOLETE.  InvalidValueError if it is archived already,
        or for a bad root; nothing changes then."""


class IDistroSeriesSet(Interface):
    def get(series_id):
        """The series with that id, or NotFoundError."""

    def findByName(distribution, name):
        """The series of `distribution` called `name`, or None."""


class IDistroArchSeries(Interface):
    """One architecture of a series, e.g. warty/i386."""

    id = Attribute("The database id.")
    distro_series = Attribute("The IDistroSeries.")
    architecture_tag = Attribute("e.g. 'i386'.")
    official = Attribute("True if mirrors are expected to carry it.")


class IDistroArchSeriesSet(Interface):
    def get(arch_series_id):
        """The arch series with that id, or NotFoundError."""
