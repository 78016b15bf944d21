"""The master archive as the scanner learns it: control file history, RPM
repositories, trace files, and the scan itself."""

from zope.interface import Attribute, Interface


class IMasterFileDetail(Interface):
    """What a control file of the master held from a moment on."""

    distribution = Attribute("The IDistribution.")
    path = Attribute(
        "Relative to the master's root, e.g. 'dists/noble/InRelease' or "
        "'releases/40/Everything/x86_64/os/repodata/repomd.xml'.")
    size = Attribute("Size in bytes.")
    date_modified = Attribute("The file's modification time (UTC).")
    md5 = Attribute("Hex MD5.")
    sha1 = Attribute("Hex SHA-1.")
    sha256 = Attribute("Hex SHA-256.")
    sha512 = Attribute("Hex SHA-512.")
    date_first_seen = Attribute("When a scan first saw this content (UTC).")


class IMasterFileDetailSet(Interface):

    def record(distribution, path, details, when):
        """Add `details` (a FileDetails: size, mtime, checksums) to the
        history of `path` and return the new IMasterFileDetail, or return
        None and write nothing when the newest entry of that path has the
        same size, modification time and SHA-256."""

    def getHistory(distribution, path):
        """The IMasterFileDetails of `path`, newest first."""

    def findBySHA256(distribution, sha256):
        """The IMasterFileDetails with that checksum, newest first (how a
        mirror's copy of a control file is dated)."""


class IRPMRepository(Interface):
    """A directory of the master holding repodata/repomd.xml."""

    distribution = Attribute("The IDistribution.")
    path = Attribute(
        "The directory, relative to the master's root, e.g. "
        "'releases/40/Everything/x86_64/os'.")
    arch = Attribute("e.g. 'x86_64', 'source'; None if the path tells none.")
    version = Attribute("e.g. '40', 'rawhide'; None if the path tells none.")
    date_created = Attribute("When a scan first found it (UTC).")
    date_removed = Attribute("When a scan found it gone, or None.")


class IRPMRepositorySet(Interface):

    def ensure(distribution, path, arch, version, when):
        """The repository of `distribution` at `path`, created (or brought
        back, if removed) at `when` if need be."""

    def getByDistribution(distribution, include_removed=False):
        """The distribution's repositories, by path."""


class ITraceFileTimestamp(Interface):
    """A time a trace file of the master told (Debian's ftpsync writes the
    time of its last complete sync into project/trace/<host>)."""

    distribution = Attribute("The IDistribution.")
    path = Attribute("e.g. 'project/trace/master'.")
    date_trace = Attribute("The time the file tells (UTC).")
    date_first_seen = Attribute("When a scan first saw that time (UTC).")


class ITraceFileTimestampSet(Interface):

    def record(distribution, path, date_trace, when):
        """Add `date_trace` to the history of `path` and return the new
        ITraceFileTimestamp, or None (writing nothing) if it is the time
        the newest entry tells already."""

    def getHistory(distribution, path):
        """The ITraceFileTimestamps of `path`, newest first."""


class IArchiveScanner(Interface):
    """Brings the database up to date with a master archive on local disk.

    Debian suites (dists/*/InRelease or Release, and the Packages and
    Sources indexes they list), RPM repositories (any directory with
    repodata/repomd.xml) and trace files (project/trace/*) are scanned.
    Each suite is scanned in a transaction of its own, committed when the
    whole suite was read without a fault; a fault (a corrupt, truncated or
    missing index, a checksum or size that does not match the Release
    file, a malformed stanza) rolls the suite back, is reported naming the
    file, and the scan goes on with the next suite.
    """

    def scan():
        """Scan the master and return a ScanReport: what was found, what
        was written, and the problems (path, message) met.  A part whose
        control file and directory ctimes are as the last scan saw them is
        skipped and causes no write at all."""
