"""The enumerated vocabulary of the mirror domain.

Every enum item carries three things, as Launchpad's DBItems do: the integer
stored in the database, a short title for people, and a description.  The
integers are part of the schema: never renumber an item, only add new ones.
"""

import enum
from datetime import timedelta


class DBEnum(enum.Enum):
    """An enum whose items are stored as integers and shown by title."""

    def __new__(cls, value, title, description=""):
        item = object.__new__(cls)
        item._value_ = value
        item.title = title
        item.description = description
        return item

    @classmethod
    def by_name(cls, name):
        """The item called `name` (case-insensitive), or ValueError naming
        the valid choices."""
        try:
            return cls[name.upper().replace("-", "_")]
        except KeyError:
            choices = ", ".join(item.name for item in cls)
            raise ValueError(
                "%r is not a %s; choose one of %s"
                % (name, cls.__name__, choices)) from None

    def __repr__(self):
        return "<%s.%s>" % (type(self).__name__, self.name)

    # Items key the planner's and the prober's dicts, thousands of times a
    # run: an item is its own identity (Enum compares by identity), and
    # hashing it so costs no Python call, where Enum's hashes its name.
    __hash__ = object.__hash__


class MirrorContent(DBEnum):
    ARCHIVE = (1, "Archive",
               "A mirror of the package archive: dists/ and pool/.")
    RELEASE = (2, "CD Image", "A mirror of the released CD and DVD images.")


class MirrorPulseType(DBEnum):
    PUSH = (1, "Push", "The master tells the mirror when to sync.")
    PULL = (2, "Pull", "The mirror syncs on its own schedule.")


class MirrorSpeed(DBEnum):
    """The bandwidth a mirror admin declares for the mirror's uplink."""

    S128K = (1, "128 Kbps")
    S256K = (2, "256 Kbps")
    S512K = (3, "512 Kbps")
    S1M = (4, "1 Mbps")
    S2M = (5, "2 Mbps")
    S10M = (6, "10 Mbps")
    S45M = (7, "45 Mbps")
    S100M = (8, "100 Mbps")
    S1G = (9, "1 Gbps")
    S2G = (10, "2 Gbps")
    S4G = (11, "4 Gbps")
    S10G = (12, "10 Gbps")
    S20G = (13, "20 Gbps")
    S40G = (14, "40 Gbps")
    S100G = (15, "100 Gbps")

    @property
    def mbps(self):
        """The speed in megabits per second."""
        number, unit = self.title.split()
        return float(number) * {"Kbps": 0.001, "Mbps": 1, "Gbps": 1000}[unit]


class MirrorStatus(DBEnum):
    """Where a mirror stands in the review of the distribution's admins."""

    PENDING_REVIEW = (10, "Pending review",
                      "Registered, not yet looked at by a mirror admin.")
    UNOFFICIAL = (20, "Unofficial",
                  "Reviewed, and not part of the official mirror network.")
    OFFICIAL = (30, "Official",
                "Reviewed and approved as an official mirror.")
    BROKEN = (40, "Broken",
              "Reviewed and found broken; the owner can resubmit it.")


class ProbeRecordState(DBEnum):
    """Whether what a probe record found has taken effect: a prober run is
    judged before what it learnt is applied."""

    APPLIED = (1, "Applied",
               "The run was trusted and its findings took effect.")
    PENDING = (2, "Pending",
               "The run is still probing or has not been judged yet.")
    DISTRUSTED = (3, "Distrusted",
                  "The run could not trust its view of the network: nothing "
                  "it found took effect.")
    ABANDONED = (4, "Abandoned",
                 "The run stopped before it was judged: nothing it found "
                 "took effect.")


class MirrorFreshness(DBEnum):
    """How far behind the master archive a mirror's content is.

    `threshold` is the upper age of the newest upload the mirror must carry
    for the band to apply: half an hour of slack over the band's nominal
    lag, because a mirror syncs in a window, not at an instant.
    """

    UP = (1, "Up to date",
          "Carries the newest upload the master has, or is at most half an "
          "hour behind it.")
    ONEHOURBEHIND = (2, "One hour behind")
    TWOHOURSBEHIND = (3, "Two hours behind")
    SIXHOURSBEHIND = (4, "Six hours behind")
    ONEDAYBEHIND = (5, "One day behind")
    TWODAYSBEHIND = (6, "Two days behind")
    # Every lag past the two days' threshold, however large, and every place
    # that carries none of the uploads checked: "One week behind" would
    # understate a month, "A week or more behind" overstate three days.
    ONEWEEKBEHIND = (7, "More than two days behind",
                     "Behind by more than two days, a week or more "
                     "included, or carries none of the uploads that tell "
                     "its freshness.")
    UNKNOWN = (8, "Last update unknown",
               "Nothing tells how fresh the mirror is: the master has no "
               "upload to check, or no detector could judge.")

    @property
    def threshold(self):
        """The age up to which an upload proves this freshness, or None for
        UNKNOWN."""
        return _FRESHNESS_THRESHOLDS.get(self)

    @classmethod
    def bands(cls):
        """The known freshness bands, freshest first, with their thresholds."""
        return [(item, item.threshold) for item in cls
                if item is not cls.UNKNOWN]


_FRESHNESS_THRESHOLDS = {
    MirrorFreshness.UP: timedelta(hours=0.5),
    MirrorFreshness.ONEHOURBEHIND: timedelta(hours=1.5),
    MirrorFreshness.TWOHOURSBEHIND: timedelta(hours=2.5),
    MirrorFreshness.SIXHOURSBEHIND: timedelta(hours=6.5),
    MirrorFreshness.ONEDAYBEHIND: timedelta(hours=24.5),
    MirrorFreshness.TWODAYSBEHIND: timedelta(hours=48.5),
    MirrorFreshness.ONEWEEKBEHIND: timedelta(hours=168.5),
}


class PackagePublishingPocket(DBEnum):
    """The pockets of a series; each but RELEASE has a suite suffix."""

    RELEASE = (0, "Release", "The packages the series was released with.")
    SECURITY = (10, "Security", "Fixes for security problems.")
    UPDATES = (20, "Updates", "Fixes for serious bugs, after testing.")
    PROPOSED = (30, "Proposed", "Updates under test.")
    BACKPORTS = (40, "Backports", "Newer versions from later series.")

    @property
    def suffix(self):
        """What the pocket adds to the series name to make a suite name."""
        return "" if self is PackagePublishingPocket.RELEASE else (
            "-" + self.name.lower())

    @classmethod
    def by_suffix(cls, suffix):
        for pocket in cls:
            if pocket.suffix == suffix:
                return pocket
        raise ValueError("%r is not a pocket suffix" % (suffix,))


# The order in which pockets are listed to people: the archive's own order
# (what apt's sources.list and the Launchpad seed show).
POCKET_ORDER = [
    PackagePublishingPocket.RELEASE,
    PackagePublishingPocket.BACKPORTS,
    PackagePublishingPocket.SECURITY,
    PackagePublishingPocket.UPDATES,
    PackagePublishingPocket.PROPOSED,
]


class PackagePublishingStatus(DBEnum):
    PENDING = (1, "Pending", "Accepted, not yet in the archive.")
    PUBLISHED = (2, "Published", "In the archive's indexes.")
    SUPERSEDED = (3, "Superseded", "Replaced by a newer version.")
    DELETED = (4, "Deleted", "Removed from the archive's indexes.")
    OBSOLETE = (5, "Obsolete", "Its series is obsolete.")


class SeriesStatus(DBEnum):
    EXPERIMENTAL = (1, "Experimental")
    DEVELOPMENT = (2, "Active Development")
    FROZEN = (3, "Pre-release Freeze")
    CURRENT = (4, "Current Stable Release")
    SUPPORTED = (5, "Supported")
    OBSOLETE = (6, "Obsolete", "No longer supported; mirrors may drop it.")


class SeriesLocation(DBEnum):
    """Where in the archive a series lives, as it goes through its life."""

    DEVELOPMENT = (1, "Development",
                   "Its development location, until it is released.")
    RELEASE = (2, "Release", "Its release location, while it is supported.")
    ARCHIVE = (3, "Archive",
               "The archive location, once it has reached its end of life.")


class BinaryPackageFileType(DBEnum):
    DEB = (1, "DEB Format", "A Debian binary package.")
    UDEB = (2, "UDEB Format",
            "A micro package for the installer; mirrors often skip these.")
    DDEB = (3, "DDEB Format", "A package of debug symbols.")


class SourcePackageFileType(DBEnum):
    DSC = (1, "DSC File", "The source package's description and checksums.")
    ORIG_TARBALL = (2, "Original Tarball")
    DIFF = (3, "Diff File")
    NATIVE_TARBALL = (4, "Native Tarball")
    DEBIAN_TARBALL = (5, "Debian Tarball")
    COMPONENT_ORIG_TARBALL = (6, "Component Original Tarball")


# How one probe request ended: stored by name in the probe findings (not
# a DBEnum: its values are the strings the findings rows hold).

class ProbeOutcome(enum.Enum):
    """How a probe ended.  Each member's value is its stored name; its
    C{message} says in words what happened, for probe logs and emails."""

    def __new__(cls, value, message):
        member = object.__new__(cls)
        member._value_ = value
        member.message = message
        return member

    # Outcomes are counted in dicts per request of a run: a member is its
    # own identity, and hashing it so costs no Python call (Enum's hash
    # hashes the name, in Python).
    __hash__ = object.__hash__

    FOUND = ("found", "The file is there.")
    NOT_FOUND = ("not-found", "The file is not there.")
    HTTP_ERROR = (
        "http-error",
        "The server answered with an HTTP status other than 200.",
    )
    FTP_ERROR = ("ftp-error", "The FTP server refused the request.")
    RSYNC_ERROR = ("rsync-error", "The rsync daemon refused the request.")
    TIMEOUT = ("timeout", "No complete answer before the timeout.")
    CONNECTION_REFUSED = ("connection-refused", "The connection was refused.")
    CONNECTION_LOST = (
        "connection-lost",
        "The connection closed before a complete answer.",
    )
    CONNECTION_ERROR = (
        "connection-error",
        "The connection could not be made.",
    )
    DNS_ERROR = ("dns-error", "The host name could not be resolved.")
    REDIRECT_LOOP = (
        "redirect-loop",
        "The redirects lead back to a URL already visited.",
    )
    TOO_MANY_REDIRECTS = ("too-many-redirects", "Too many redirects in a row.")
    REDIRECT_UNKNOWN_SCHEME = (
        "redirect-unknown-scheme",
        "A redirect pointed to a URL scheme the prober does not speak.",
    )
    REDIRECT_TO_OTHER_FILE = (
        "redirect-to-other-file",
        "A redirect pointed to a different file name (an error page that"
        " answers 200).",
    )
    TLS_ERROR = (
        "tls-error",
        "The TLS handshake or certificate verification failed.",
    )
    HOST_SKIPPED = (
        "host-skipped",
        "The host was skipped: too many timeouts or a bad certificate earlier"
        " in this run.",
    )
    FORBIDDEN_ADDRESS = (
        "forbidden-address",
        "The host resolves to an address that is not global (loopback,"
        " private, link-local, reserved ...); [prober] allowed_networks names"
        " the networks that may be probed besides.",
    )
    PROTOCOL_ERROR = (
        "protocol-error",
        "The server's answer broke the protocol.",
    )
    TOO_LARGE = ("too-large", "The body is larger than the prober fetches.")
    INVALID_URL = ("invalid-url", "The URL cannot be probed.")
    PROBER_ERROR = (
        "prober-error",
        "The prober failed unexpectedly (a bug); see its log.",
    )

    @property
    def title(self):
        """The name in words, e.g. "TLS error"."""
        words = self.name.replace("_", " ").capitalize().split()
        acronyms = {"tls": "TLS", "dns": "DNS", "http": "HTTP", "ftp": "FTP",
                    "url": "URL"}
        return " ".join(acronyms.get(w.lower(), w) for w in words)
