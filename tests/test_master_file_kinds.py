"""A suite's Packages and Sources details are kept for metalinks, not for
the checksum detector: the scanner records them, the detector's plan
reads control files only."""

import logging
import os

from mirrorkeeper.archive.scanner import ArchiveScanner
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.masterarchive import (
    MasterFileDetailSet, is_control_file, is_package_index)
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.prober.plan import master_detector_checks
from tests.archive_builder import DebianArchive

LOG = logging.getLogger("mirrorkeeper.test-master-file-kinds")


def test_kinds_of_master_files():
    """Release, InRelease and repomd.xml are control files; Packages and
    Sources, plain or compressed, are package indexes; Contents is neither."""
    assert all(map(is_control_file, [
        "dists/noble/Release", "dists/noble/InRelease",
        "fedora/40/os/repodata/repomd.xml"]))
    assert not any(map(is_control_file, [
        "dists/noble/main/binary-amd64/Packages.gz",
        "dists/noble/Release.gpg"]))
    assert all(map(is_package_index, [
        "main/binary-amd64/Packages", "main/binary-amd64/Packages.xz",
        "main/source/Sources.gz",
        "main/debian-installer/binary-amd64/Packages.gz"]))
    assert not any(map(is_package_index, [
        "main/Contents-amd64.gz", "main/i18n/Translation-en.bz2",
        "Release"]))


def test_indexes_are_recorded_but_not_probed(store, tmp_path):
    """A scan records each index the Release lists with its size and hash; the
    checksum detector's checks are the Release's only."""
    archive = DebianArchive(str(tmp_path / "master"))
    archive.add_binary("noble", "hello", "1.0")
    archive.publish("noble", architectures=("amd64",),
                    compressions=("gz", "xz"))
    owner = PersonSet(store).new("owner", "Owner", "owner@example.com")
    admins = PersonSet(store).newTeam("admins", "Admins", members=[owner])
    distribution = DistributionSet(store).new(
        "testix", "Testix", "Testix Linux", owner, admins)
    store.commit()
    report = ArchiveScanner(store, distribution, archive.root, LOG).scan()
    assert report.problems == []
    # Only the Release counts as a control file version.
    assert report.file_details == 1
    details = MasterFileDetailSet(store)
    path = "dists/noble/main/binary-amd64/Packages.xz"
    [packages] = details.getHistory(distribution, path)
    assert packages.size == os.path.getsize(
        os.path.join(archive.root, path))
    assert details.getHistory(distribution,
                              "dists/noble/main/source/Sources.gz")
    checks = master_detector_checks(store, distribution, ["checksum"])
    assert [check.label for check in checks] == ["dists/noble/Release"]
