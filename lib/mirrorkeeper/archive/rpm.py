"""RPM repositories of the master: directories holding repodata/repomd.xml.

A repository's arch and version are told by its path, as MirrorManager
does: the path component that is a known RPM architecture, and the first
one that looks like a release version ('40', '9.4', 'rawhide').
"""

import os
import re

import attrs
from lxml import etree

from mirrorkeeper.archive.files import ArchiveFileError

REPOMD = "repodata/repomd.xml"
REPO_NS = "http://linux.duke.edu/metadata/repo"

# The architectures dnf, yum and zypper know repositories by; 'SRPMS' and
# 'source' are where source packages live.
RPM_ARCHES = frozenset([
    "x86_64", "aarch64", "ppc64le", "ppc64", "s390x", "i386", "i586", "i686",
    "armhfp", "armv7hl", "riscv64", "noarch", "source", "SRPMS"])

_VERSION = re.compile(r"^(\d+(\.\d+)*|rawhide)$")

# Directories a walk for repositories never enters: Debian's trees, and a
# repository's own package directories.
SKIP_DIRS = frozenset(["dists", "pool", "repodata", "Packages", "drpms",
                       "debug", "project"])


@attrs.frozen
class RepoData:
    """One <data> of repomd.xml: its type, where it lies, its size."""

    type: str
    location: str
    size: int


@attrs.frozen
class RepoMD:
    revision: str
    data: tuple


def guess_arch_and_version(path):
    """(arch, version) told by a repository's path; either may be None."""
    parts = path.split("/")
    arch = next((part for part in reversed(parts) if part in RPM_ARCHES),
                None)
    if arch == "SRPMS":
        arch = "source"
    version = next((part for part in parts if _VERSION.match(part)), None)
    return arch, version


def parse_repomd(data, path):
    """The RepoMD of a repomd.xml's content, or ArchiveFileError."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False,
                                                      no_network=True))
    except etree.XMLSyntaxError as error:
        raise ArchiveFileError(path, "is not well-formed XML: %s"
                               % (error,)) from None
    if root.tag != "{%s}repomd" % REPO_NS:
        raise ArchiveFileError(path, "is not a repomd document (root %s)"
                               % (root.tag,))
    ns = {"r": REPO_NS}
    entries = []
    for element in root.findall("r:data", ns):
        location = element.find("r:location", ns)
        if location is None or not location.get("href"):
            raise ArchiveFileError(path, "a <data type=%r> has no location"
                                   % (element.get("type"),))
        size = element.findtext("r:size", None, ns)
        entries.append(RepoData(element.get("type"), location.get("href"),
                                int(size) if size and size.isdigit()
                                else None))
    return RepoMD(root.findtext("r:revision", "", ns).strip(),
                  tuple(entries))


def check_repodata(root, repo_path, repomd, repomd_path):
    """ArchiveFileError unless every file repomd.xml lists is on disk with
    the size it gives."""
    for entry in repomd.data:
        path = "%s/%s" % (repo_path, entry.location) if repo_path \
            else entry.location
        try:
            size = os.stat(os.path.join(root, path)).st_size
        except OSError:
            raise ArchiveFileError(path, "%s lists it, but it is not on "
                                   "disk" % (repomd_path,)) from None
        if entry.size is not None and size != entry.size:
            raise ArchiveFileError(path, "size %d, but %s says %d"
                                   % (size, repomd_path, entry.size))


def find_repositories(root):
    """Sorted paths (relative to `root`, '' for the root itself) of the
    directories holding repodata/repomd.xml; the walk does not enter a
    repository, nor Debian's dists/ and pool/."""
    found = []
    for directory, subdirs, _ in os.walk(root):
        if os.path.isfile(os.path.join(directory, REPOMD)):
            path = os.path.relpath(directory, root).replace(os.sep, "/")
            found.append("" if path == "." else path)
            subdirs[:] = []
            continue
        subdirs[:] = [name for name in subdirs if name not in SKIP_DIRS
                      and not name.startswith(".")]
    return sorted(found)
