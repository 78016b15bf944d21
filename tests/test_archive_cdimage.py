"""The CD image manifest, written from an image tree and read back by the
prober."""

import os

from mirrorkeeper.archive.cdimage import (
    manifest_lines, write_manifest)
from mirrorkeeper.prober.plan import parse_cdimage_manifest

SERIES = [("noble", "24.04"), ("jammy", "22.04"), ("warty", "4.10")]


def put(root, path, size=10):
    full = os.path.join(root, *path.split("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(b"x" * size)


def test_manifest_of_both_layouts_reads_back(tmp_path):
    """Images under their series or under their flavour are listed with
    flavour, series, path and size, and the prober reads the manifest."""
    root = str(tmp_path)
    put(root, "noble/ubuntu-24.04-desktop-amd64.iso", 11)
    put(root, "22.04/ubuntu-22.04.4-live-server-amd64.iso", 12)
    put(root, "kubuntu/releases/noble/release/kubuntu-24.04-desktop-amd64"
        ".iso", 13)
    put(root, "warty/kubuntu-4.10-install-i386.iso", 14)
    put(root, "noble/SHA256SUMS", 15)
    put(root, "unknown/foo-1.0.iso", 16)
    os.symlink("noble", os.path.join(root, "24.04"))
    path = os.path.join(root, ".manifest")
    assert write_manifest(path, manifest_lines(root, SERIES))
    with open(path) as f:
        entries = parse_cdimage_manifest(f.read())
    assert [(e.flavour, e.series, e.path, e.size) for e in entries] == [
        ("ubuntu", "jammy", "22.04/ubuntu-22.04.4-live-server-amd64.iso", 12),
        ("kubuntu", "noble", "kubuntu/releases/noble/release/"
         "kubuntu-24.04-desktop-amd64.iso", 13),
        ("ubuntu", "noble", "noble/ubuntu-24.04-desktop-amd64.iso", 11),
        ("kubuntu", "warty", "warty/kubuntu-4.10-install-i386.iso", 14)]


def test_unchanged_manifest_is_not_rewritten(tmp_path):
    """Writing the same manifest again leaves the file alone."""
    root = str(tmp_path)
    put(root, "noble/ubuntu-24.04-desktop-amd64.iso")
    path = os.path.join(root, ".manifest")
    lines = manifest_lines(root, SERIES)
    assert write_manifest(path, lines)
    assert not write_manifest(path, lines)
