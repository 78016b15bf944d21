"""RPM repositories: found by their repodata/repomd.xml (made by
createrepo_c), read with lxml, named by their paths."""

import os

import pytest

from mirrorkeeper.archive import rpm
from mirrorkeeper.archive.files import ArchiveFileError
from tests.archive_builder import build_rpm_repository


def test_repositories_are_found_without_entering_them(tmp_path):
    """The walk finds each repository once and skips Debian's dists/ and
    pool/."""
    build_rpm_repository(str(tmp_path / "releases/40/Everything/x86_64/os"))
    build_rpm_repository(str(tmp_path / "releases/40/Everything/x86_64/os"
                             "/nested"))
    build_rpm_repository(str(tmp_path / "pool" / "hidden"))
    build_rpm_repository(str(tmp_path / "epel" / "9" / "aarch64"))
    assert rpm.find_repositories(str(tmp_path)) == [
        "epel/9/aarch64", "releases/40/Everything/x86_64/os"]


def test_repomd_lists_its_data(tmp_path):
    """repomd.xml gives its revision and the files it lists, which are on
    disk with the sizes it gives."""
    path = build_rpm_repository(str(tmp_path / "os"))
    with open(path, "rb") as f:
        repomd = rpm.parse_repomd(f.read(), "os/repodata/repomd.xml")
    assert repomd.revision.isdigit()
    assert {"primary", "filelists", "other"} <= {d.type for d in repomd.data}
    rpm.check_repodata(str(tmp_path), "os", repomd, "os/repodata/repomd.xml")


def test_missing_repodata_file_is_an_error(tmp_path):
    """A file repomd.xml lists that is not on disk is an error naming it."""
    path = build_rpm_repository(str(tmp_path / "os"))
    with open(path, "rb") as f:
        repomd = rpm.parse_repomd(f.read(), "os/repodata/repomd.xml")
    primary = [d for d in repomd.data if d.type == "primary"][0]
    os.unlink(str(tmp_path / "os" / primary.location))
    with pytest.raises(ArchiveFileError) as raised:
        rpm.check_repodata(str(tmp_path), "os", repomd,
                           "os/repodata/repomd.xml")
    assert raised.value.path == "os/" + primary.location


@pytest.mark.parametrize("data, problem", [
    (b"<repomd", "not well-formed"),
    (b"<html/>", "not a repomd document"),
])
def test_broken_repomd_is_an_error(data, problem):
    """A repomd.xml that is not well-formed or not repomd is an error."""
    with pytest.raises(ArchiveFileError, match=problem):
        rpm.parse_repomd(data, "repodata/repomd.xml")


@pytest.mark.parametrize("path, expected", [
    ("releases/40/Everything/x86_64/os", ("x86_64", "40")),
    ("development/rawhide/Everything/aarch64/os", ("aarch64", "rawhide")),
    ("epel/9.4/Everything/SRPMS", ("source", "9.4")),
    ("extras/custom", (None, None)),
])
def test_arch_and_version_from_path(path, expected):
    """A repository's arch and version are told by its path."""
    assert rpm.guess_arch_and_version(path) == expected
