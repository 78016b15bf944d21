"""Reading a Debian-format archive: Release and InRelease files, and the
Packages and Sources indexes they list.

Every index is checked against its Release file before it is believed: each
variant of it on disk (.xz, .gz, plain) must have the size and SHA-256 that
Release gives, and decompress to the size and SHA-256 Release gives for the
plain index.  Any fault is an ArchiveFileError naming the file.  InRelease
signatures are not verified here: the master is our own disk.
"""

import gzip
import hashlib
import lzma
import os
import re
import zlib
from email.utils import parsedate_to_datetime

import attrs

from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.enums import BinaryPackageFileType, SourcePackageFileType
from mirrorkeeper.timeutil import as_utc

# Tried in this order: the cheapest to decompress first.
COMPRESSIONS = [("", None), (".gz", gzip.decompress),
                (".xz", lzma.decompress)]

_DECOMPRESSION_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)

_FIELD_NAME = re.compile(r"^[!-9;-~][!-9;-~]*$")


@attrs.frozen
class IndexedFile:
    """A file a Release lists: its size and checksums (None if not
    given)."""

    size: int
    sha256: str = None
    md5: str = None


@attrs.frozen
class ReleaseFile:
    suite: str
    codename: str
    version: str
    date: object
    architectures: tuple
    components: tuple
    files: dict
    # Debian lists Architecture: all packages only in binary-all/Packages
    # when it says "No-Support-for-Architecture-all: Packages".
    no_arch_all_in_packages: bool = False

    def index_base(self, component, kind, arch=None):
        """The plain name of an index under the suite directory:
        kind 'source', 'binary' or 'udeb'."""
        if kind == "source":
            return "%s/source/Sources" % (component,)
        if kind == "udeb":
            return "%s/debian-installer/binary-%s/Packages" % (component,
                                                                 arch)
        return "%s/binary-%s/Packages" % (component, arch)

    def lists(self, base):
        """True if the Release lists `base` in any compression."""
        return any(base + suffix in self.files
                   for suffix, _ in COMPRESSIONS)


@attrs.frozen
class BinaryEntry:
    name: str
    version: str
    source_name: str
    path: str
    filetype: BinaryPackageFileType
    size: int
    sha256: str

    @property
    def filename(self):
        return self.path.rsplit("/", 1)[-1]


@attrs.frozen
class SourceEntry:
    name: str
    version: str
    directory: str
    files: tuple  # of (filename, SourcePackageFileType, size, sha256)

    @property
    def dsc_path(self):
        for filename, filetype, _, _ in self.files:
            if filetype is SourcePackageFileType.DSC:
                return self.directory + "/" + filename
        return None


# Release files.

def unsign(data, path):
    """The signed text of a clearsigned (InRelease) file, or the text of a
    plain one; ArchiveFileError if the signature armour is broken."""
    text = data.decode("utf-8", "replace")
    if not text.startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        return text
    lines = text.split("\n")
    index = 1
    while index < len(lines) and lines[index].strip():
        index += 1  # the armour headers (Hash: SHA512) end at a blank line
    body = []
    for line in lines[index + 1:]:
        if line.rstrip("\r") == "-----BEGIN PGP SIGNATURE-----":
            return "\n".join(body) + "\n"
        body.append(line[2:] if line.startswith("- ") else line)
    raise ArchiveFileError(path, "the clearsigned text has no signature")


def _checksum_lines(value, path, field):
    for line in value.split("\n"):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            raise ArchiveFileError(path, "malformed %s line %r"
                                   % (field, line.strip()))
        yield parts[0], int(parts[1]), parts[2]


def parse_release(data, path):
    """The ReleaseFile of a Release or InRelease file's content."""
    stanzas = list(iter_stanzas(unsign(data, path), path))
    if len(stanzas) != 1:
        raise ArchiveFileError(path, "holds %d stanzas, not 1"
                               % (len(stanzas),))
    fields = stanzas[0][1]
    files = {}
    for checksum, size, name in _checksum_lines(
            fields.get("MD5Sum", ""), path, "MD5Sum"):
        files[name] = IndexedFile(size, None, checksum)
    for checksum, size, name in _checksum_lines(
            fields.get("SHA256", ""), path, "SHA256"):
        md5 = files[name].md5 if name in files else None
        files[name] = IndexedFile(size, checksum, md5)
    date = None
    if fields.get("Date"):
        try:
            date = as_utc(parsedate_to_datetime(fields["Date"]))
        except (TypeError, ValueError):
            raise ArchiveFileError(path, "malformed Date %r"
                                   % (fields["Date"],)) from None
    return ReleaseFile(
        suite=fields.get("Suite", ""), codename=fields.get("Codename", ""),
        version=fields.get("Version", ""), date=date,
        architectures=tuple(fields.get("Architectures", "").split()),
        components=tuple(fields.get("Components", "").split()),
        files=files, no_arch_all_in_packages=fields.get(
            "No-Support-for-Architecture-all") == "Packages")


# deb822 stanzas.

def iter_stanzas(text, path, wanted=None):
    """(first line number, {field: value}) of each stanza of a deb822 text.

    With `wanted` (a set of field names), only those fields are kept; every
    line is checked all the same.  A continuation line joins its field's
    value with a newline.  ArchiveFileError names the line of a fault.
    """
    fields = {}
    start = None
    name = None
    keep = False
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            if fields or start is not None:
                yield start, fields
            fields, start, name = {}, None, None
            continue
        first = line[0]
        if first == " " or first == "\t":
            if name is None:
                raise ArchiveFileError(path, "line %d: a continuation line "
                                       "outside a field" % (number,))
            if keep:
                fields[name] += "\n" + line[1:]
            continue
        if first == "#" and start is None:
            continue
        key, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME.match(key):
            raise ArchiveFileError(path, "line %d: malformed field %r"
                                   % (number, line[:80]))
        if start is None:
            start = number
        name = key
        keep = wanted is None or key in wanted
        if keep:
            fields[key] = value.strip()
    if fields or start is not None:
        yield start, fields


def _required(fields, names, path, line):
    for name in names:
        if not fields.get(name):
            raise ArchiveFileError(path, "the stanza at line %d has no %s"
                                   % (line, name))


# Indexes.

def _check(data, listed, path, what=""):
    """ArchiveFileError unless `data` has the size and checksum `listed`
    gives; `what` prefixes the problem ('decompressed, ')."""
    if listed is None:
        return
    if len(data) != listed.size:
        raise ArchiveFileError(path, "%ssize %d, but the Release file says "
                               "%d" % (what, len(data), listed.size))
    if listed.sha256:
        if hashlib.sha256(data).hexdigest() != listed.sha256:
            raise ArchiveFileError(path, "%sSHA256 does not match the "
                                   "Release file" % (what,))
    elif listed.md5 and hashlib.md5(data).hexdigest() != listed.md5:
        raise ArchiveFileError(path, "%sMD5 does not match the Release "
                               "file" % (what,))


def read_index(root, suite_dir, release, base):
    """(path, text) of the index `base` (e.g. 'main/binary-amd64/Packages')
    of the suite at `suite_dir` (e.g. 'dists/noble'), checked against
    `release`; `path` is the variant read, relative to `root`."""
    chosen = None
    for suffix, decompress in COMPRESSIONS:
        name = base + suffix
        listed = release.files.get(name)
        path = "%s/%s" % (suite_dir, name)
        if listed is None:
            continue
        try:
            with open(os.path.join(root, path), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # Release files list plain indexes nobody ships.
        except OSError as error:
            raise ArchiveFileError(path, "cannot be read: %s"
                                   % (error.strerror,)) from None
        _check(data, listed, path)
        if chosen is None:
            chosen = (path, data, decompress)
    if chosen is None:
        raise ArchiveFileError("%s/%s" % (suite_dir, base),
                               "the Release file lists it, but no variant "
                               "of it is on disk")
    path, data, decompress = chosen
    if decompress is not None:
        try:
            data = decompress(data)
        except _DECOMPRESSION_ERRORS as error:
            raise ArchiveFileError(path, "cannot be decompressed: %s"
                                   % (error,)) from None
        _check(data, release.files.get(base), path, "decompressed, ")
    return path, data.decode("utf-8", "replace")


_BINARY_FIELDS = frozenset(["Package", "Version", "Source", "Filename",
                            "Size", "SHA256"])
_BINARY_TYPES = {"deb": BinaryPackageFileType.DEB,
                 "udeb": BinaryPackageFileType.UDEB,
                 "ddeb": BinaryPackageFileType.DDEB}


def _int(value, path, line, field):
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ArchiveFileError(path, "the stanza at line %d has a malformed "
                               "%s %r" % (line, field, value)) from None


def parse_packages(text, path):
    """The BinaryEntries of a Packages index's text."""
    entries = []
    for line, fields in iter_stanzas(text, path, _BINARY_FIELDS):
        _required(fields, ("Package", "Version", "Filename"), path, line)
        filename = fields["Filename"]
        extension = filename.rsplit(".", 1)[-1]
        filetype = _BINARY_TYPES.get(extension)
        if filetype is None:
            raise ArchiveFileError(path, "the stanza at line %d names %r, "
                                   "not a .deb, .udeb or .ddeb"
                                   % (line, filename))
        source = fields.get("Source")
        source_name = source.split(" ", 1)[0] if source else \
            fields["Package"]
        entries.append(BinaryEntry(
            fields["Package"], fields["Version"], source_name, filename,
            filetype, _int(fields.get("Size"), path, line, "Size"),
            fields.get("SHA256")))
    return entries


_SOURCE_FIELDS = frozenset(["Package", "Version", "Directory", "Files",
                            "Checksums-Sha256"])

_TARBALL = r"\.tar(\.(gz|bz2|xz|lzma|zst))?$"
_SOURCE_TYPES = [
    (re.compile(r"\.dsc$"), SourcePackageFileType.DSC),
    (re.compile(r"\.orig-[A-Za-z0-9][-A-Za-z0-9]*" + _TARBALL),
     SourcePackageFileType.COMPONENT_ORIG_TARBALL),
    (re.compile(r"\.orig" + _TARBALL), SourcePackageFileType.ORIG_TARBALL),
    (re.compile(r"\.debian" + _TARBALL),
     SourcePackageFileType.DEBIAN_TARBALL),
    (re.compile(r"\.diff\.(gz|bz2|xz)$"), SourcePackageFileType.DIFF),
    (re.compile(_TARBALL), SourcePackageFileType.NATIVE_TARBALL),
]


def source_file_type(filename):
    """The SourcePackageFileType of a source package's file name, or None
    (signatures of tarballs, for instance)."""
    for pattern, filetype in _SOURCE_TYPES:
        if pattern.search(filename):
            return filetype
    return None


def parse_sources(text, path):
    """The SourceEntries of a Sources index's text."""
    entries = []
    for line, fields in iter_stanzas(text, path, _SOURCE_FIELDS):
        _required(fields, ("Package", "Version", "Directory"), path, line)
        listing = fields.get("Checksums-Sha256") or fields.get("Files")
        if not listing:
            raise ArchiveFileError(path, "the stanza at line %d has no "
                                   "Checksums-Sha256 or Files" % (line,))
        sha256 = "Checksums-Sha256" in fields
        files = []
        for file_line in listing.split("\n"):
            parts = file_line.split()
            if not parts:
                continue
            if len(parts) != 3 or not parts[1].isdigit():
                raise ArchiveFileError(path, "the stanza at line %d has a "
                                       "malformed file line %r"
                                       % (line, file_line.strip()))
            filetype = source_file_type(parts[2])
            if filetype is not None:
                files.append((parts[2], filetype, int(parts[1]),
                              parts[0] if sha256 else None))
        entries.append(SourceEntry(fields["Package"], fields["Version"],
                                   fields["Directory"].strip("/"),
                                   tuple(files)))
    return entries
