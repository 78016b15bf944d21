"""Reading Debian archives built by dpkg-deb, dpkg-source, apt-ftparchive
and gpg: Release and InRelease files, and Packages and Sources indexes
checked against them."""

import gzip
import hashlib
import os

import pytest

from mirrorkeeper.archive import debian
from mirrorkeeper.archive.files import ArchiveFileError
from mirrorkeeper.enums import BinaryPackageFileType, SourcePackageFileType
from tests.archive_builder import DebianArchive, make_signing_key


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    return make_signing_key(str(tmp_path_factory.mktemp("gnupg")))


@pytest.fixture
def archive(tmp_path):
    archive = DebianArchive(tmp_path / "master")
    archive.add_binary("noble", "hello", "1.0-1", source="hello-src")
    archive.add_binary("noble", "hello", "1.0-1", arch="arm64",
                       source="hello-src")
    archive.add_binary("noble", "hello-udeb", "1.0-1", source="hello-src",
                       udeb=True)
    archive.add_source("noble", "hello-src", "1.0")
    return archive


def read(archive, path):
    with open(os.path.join(archive.root, path), "rb") as f:
        return f.read()


def release_of(archive, suite="noble", name="Release"):
    path = "dists/%s/%s" % (suite, name)
    return debian.parse_release(read(archive, path), path)


def test_release_fields(archive):
    """A Release file gives the suite, codename, version, date,
    architectures, components and the indexes with their sizes."""
    archive.publish("noble", version="24.04")
    release = release_of(archive)
    assert (release.suite, release.codename, release.version) == (
        "noble", "noble", "24.04")
    assert release.architectures == ("amd64", "arm64")
    assert release.components == ("main",)
    assert release.date is not None and release.date.tzinfo is None
    listed = release.files["main/binary-amd64/Packages.gz"]
    assert listed.size == os.path.getsize(os.path.join(
        archive.root, "dists/noble/main/binary-amd64/Packages.gz"))
    assert len(listed.sha256) == 64 and len(listed.md5) == 32


def test_inrelease_reads_as_its_release(archive, signing_key):
    """A clearsigned InRelease made by gpg parses to what its Release
    says."""
    archive.publish("noble", version="24.04", sign_with=signing_key)
    assert read(archive, "dists/noble/InRelease").startswith(
        b"-----BEGIN PGP SIGNED MESSAGE-----")
    assert release_of(archive, name="InRelease") == release_of(archive)


def test_inrelease_without_signature_is_an_error():
    """A clearsigned text cut before its signature is an error naming the
    file."""
    data = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n"
    with pytest.raises(ArchiveFileError, match="dists/x/InRelease: .*no "
                       "signature"):
        debian.parse_release(data, "dists/x/InRelease")


def test_dash_escaped_lines_are_unescaped():
    """Lines gpg dash-escapes in a clearsigned text read unescaped."""
    text = debian.unsign(
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSuite: x\n"
        b"- -not-a-field: y\n-----BEGIN PGP SIGNATURE-----\nabc\n"
        b"-----END PGP SIGNATURE-----\n", "InRelease")
    assert text == "Suite: x\n-not-a-field: y\n"


def test_packages_entries(archive):
    """A Packages index gives each binary's name, version, source, pool
    path, type, size and SHA256."""
    archive.publish("noble")
    release = release_of(archive)
    path, text = debian.read_index(archive.root, "dists/noble", release,
                                   "main/binary-amd64/Packages")
    assert path == "dists/noble/main/binary-amd64/Packages.gz"
    [entry] = debian.parse_packages(text, path)
    assert (entry.name, entry.version, entry.source_name) == (
        "hello", "1.0-1", "hello-src")
    assert entry.path == "pool/main/h/hello-src/hello_1.0-1_amd64.deb"
    assert entry.filetype is BinaryPackageFileType.DEB
    assert entry.size == os.path.getsize(os.path.join(archive.root,
                                                      entry.path))


def test_udeb_index(archive):
    """The debian-installer index lists .udeb files as UDEBs."""
    archive.publish("noble")
    release = release_of(archive)
    path, text = debian.read_index(
        archive.root, "dists/noble", release,
        "main/debian-installer/binary-amd64/Packages")
    [entry] = debian.parse_packages(text, path)
    assert entry.filetype is BinaryPackageFileType.UDEB


def test_sources_entries(archive):
    """A Sources index gives each source's directory and its files with
    their types, sizes and SHA256 sums."""
    archive.publish("noble")
    release = release_of(archive)
    path, text = debian.read_index(archive.root, "dists/noble", release,
                                   "main/source/Sources")
    [entry] = debian.parse_sources(text, path)
    assert (entry.name, entry.version) == ("hello-src", "1.0")
    assert entry.directory == "pool/main/h/hello-src"
    assert [(name, filetype) for name, filetype, _, _ in entry.files] == [
        ("hello-src_1.0.dsc", SourcePackageFileType.DSC),
        ("hello-src_1.0.tar.xz", SourcePackageFileType.NATIVE_TARBALL)]
    assert entry.dsc_path == "pool/main/h/hello-src/hello-src_1.0.dsc"


@pytest.mark.parametrize("compressions, keep_plain, expected", [
    (("xz",), False, "Packages.xz"),
    (("gz", "xz"), False, "Packages.gz"),
    (("gz",), True, "Packages"),
])
def test_index_variants(archive, compressions, keep_plain, expected):
    """The plain, .gz or .xz index is read, whichever is on disk, cheapest
    first."""
    archive.publish("noble", compressions=compressions,
                    keep_plain=keep_plain)
    path, text = debian.read_index(archive.root, "dists/noble",
                                   release_of(archive),
                                   "main/binary-amd64/Packages")
    assert path == "dists/noble/main/binary-amd64/" + expected
    assert "Package: hello\n" in text


def test_truncated_index_is_an_error(archive):
    """A truncated .gz is an error naming the file and its size."""
    archive.publish("noble")
    path = os.path.join(archive.root,
                        "dists/noble/main/binary-amd64/Packages.gz")
    data = read(archive, path)
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ArchiveFileError) as raised:
        debian.read_index(archive.root, "dists/noble", release_of(archive),
                          "main/binary-amd64/Packages")
    assert raised.value.path == "dists/noble/main/binary-amd64/Packages.gz"
    assert "size %d, but the Release file says %d" % (
        len(data) // 2, len(data)) in raised.value.problem


def test_checksum_mismatch_is_an_error(archive):
    """An index of the right size whose SHA256 differs from Release's is an
    error naming the file."""
    archive.publish("noble", keep_plain=True)
    path = os.path.join(archive.root, "dists/noble/main/source/Sources")
    data = bytearray(read(archive, path))
    data[0:7] = b"Pockage"
    with open(path, "wb") as f:
        f.write(data)
    with pytest.raises(ArchiveFileError, match=r"^dists/noble/main/source/"
                       r"Sources: SHA256 does not match the Release file"):
        debian.read_index(archive.root, "dists/noble", release_of(archive),
                          "main/source/Sources")


def test_corrupt_gzip_listed_as_such_is_an_error(archive):
    """A .gz that Release vouches for but that does not decompress is an
    error naming it."""
    archive.publish("noble")
    path = "dists/noble/main/binary-amd64/Packages.gz"
    data = read(archive, path)
    with open(os.path.join(archive.root, path), "wb") as f:
        f.write(data[:-8])
    archive.write_release("noble")
    with pytest.raises(ArchiveFileError, match="^%s: cannot be "
                       "decompressed" % path):
        debian.read_index(archive.root, "dists/noble", release_of(archive),
                          "main/binary-amd64/Packages")


def test_missing_index_is_an_error(archive):
    """An index Release lists with no variant on disk is an error."""
    archive.publish("noble")
    os.unlink(os.path.join(archive.root,
                           "dists/noble/main/binary-arm64/Packages.gz"))
    with pytest.raises(ArchiveFileError, match="no variant of it is on "
                       "disk"):
        debian.read_index(archive.root, "dists/noble", release_of(archive),
                          "main/binary-arm64/Packages")


def test_malformed_stanza_names_the_line():
    """A line that is neither a field nor a continuation is an error naming
    the file and the line."""
    text = "Package: a\nVersion: 1\nFilename: pool/a.deb\n\nPackage b\n"
    with pytest.raises(ArchiveFileError, match=r"^Packages: line 5: "
                       "malformed field"):
        debian.parse_packages(text, "Packages")


def test_stanza_without_filename_is_an_error():
    """A binary stanza without a Filename is an error naming its line."""
    text = "Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n"
    with pytest.raises(ArchiveFileError, match="stanza at line 1 has no "
                       "Filename"):
        debian.parse_packages(text, "Packages")


def test_continuation_lines_join_their_field():
    """Continuation lines belong to the field above them."""
    [(line, fields)] = debian.iter_stanzas(
        "Description: short\n long\n .\n more\n", "x")
    assert fields["Description"] == "short\nlong\n.\nmore"


@pytest.mark.parametrize("filename, filetype", [
    ("a_1.dsc", SourcePackageFileType.DSC),
    ("a_1.orig.tar.gz", SourcePackageFileType.ORIG_TARBALL),
    ("a_1.orig-docs.tar.xz", SourcePackageFileType.COMPONENT_ORIG_TARBALL),
    ("a_1-1.debian.tar.xz", SourcePackageFileType.DEBIAN_TARBALL),
    ("a_1-1.diff.gz", SourcePackageFileType.DIFF),
    ("a_1.tar.gz", SourcePackageFileType.NATIVE_TARBALL),
    ("a_1.orig.tar.gz.asc", None),
])
def test_source_file_types(filename, filetype):
    """A source package's files are typed by their names."""
    assert debian.source_file_type(filename) is filetype


def test_gzip_of_plain_checked_against_plain_entry(archive):
    """A .gz whose content differs from the plain index Release lists is an
    error, though the .gz itself matches."""
    archive.publish("noble", keep_plain=True)
    base = os.path.join(archive.root, "dists/noble/main/binary-amd64/")
    with open(base + "Packages.gz", "wb") as f:
        f.write(gzip.compress(b"Package: other\n"))
    os.unlink(base + "Packages")
    release = release_of(archive)
    gz = release.files["main/binary-amd64/Packages.gz"]
    data = read(archive, base + "Packages.gz")
    release.files["main/binary-amd64/Packages.gz"] = debian.IndexedFile(
        len(data), hashlib.sha256(data).hexdigest(), gz.md5)
    with pytest.raises(ArchiveFileError, match="decompressed, size 15, but"):
        debian.read_index(archive.root, "dists/noble", release,
                          "main/binary-amd64/Packages")
