"""The master archive's publishing history, from which freshness is told."""

from zope.interface import Attribute, Interface


class IPackageFile(Interface):
    filename = Attribute("e.g. 'pmount_1.9-1_all.deb'.")
    filetype = Attribute(
        "A BinaryPackageFileType or SourcePackageFileType.")
    path = Attribute(
        "Where the file lies in the archive, relative to its root, e.g. "
        "'pool/main/p/pmount/pmount_1.9-1_all.deb'.")
    size = Attribute("Size in bytes, or None if unknown.")
    sha256 = Attribute("Hex SHA-256, or None if unknown.")


class IPublishingHistory(Interface):
    """One package version published in one place of the archive."""

    component = Attribute("The IComponent.")
    pocket = Attribute("A PackagePublishingPocket.")
    status = Attribute("A PackagePublishingStatus.")
    date_published = Attribute("When it appeared on the master (UTC).")
    date_removed = Attribute("When it left the indexes, or None.")
    name = Attribute("The package name.")
    version = Attribute("The package version, with any epoch.")
    files = Attribute("The IPackageFiles of the package.")


class IPublishingSet(Interface):
    """Records what the master archive published.

    `files` is a sequence of (filename, filetype) or (filename, filetype,
    size, sha256); a file's path is laid out as the archive's pool does
    (pool/<component>/<prefix>/<source>/<filename>) unless given as a
    mapping with a 'path'.
    """

    def publishSource(distro_series, component, pocket, name, version, files,
                      date_published, status=None):
        """Record a source publication and return it."""

    def publishBinary(distro_arch_series, component, pocket, name, version,
                      files, date_published, source_name=None, status=None):
        """Record a binary publication and return it (`source_name`, the
        package's source, defaults to `name`)."""

    def getSourcePublications(distro_series, component, pocket, status=None):
        """The source publications of that place, newest first."""

    def getBinaryPublications(distro_arch_series, component, pocket,
                              status=None):
        """The binary publications of that place, newest first."""
