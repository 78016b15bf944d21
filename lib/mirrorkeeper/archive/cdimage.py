"""The CD image manifest: what the master's image tree holds, one image a
line, tab separated: flavour, series, path, size.  The prober reads it
(mirrorkeeper.prober.plan.parse_cdimage_manifest) to know which images a
release mirror should carry.

Two layouts are read.  releases.ubuntu.com keeps images under the series
(noble/ubuntu-24.04-desktop-amd64.iso, or 24.04/...); cdimage.ubuntu.com
under the flavour (kubuntu/releases/noble/release/kubuntu-24.04-...iso).
So an image's series is the first directory of its path named after a
series or its version, else the version in its file name; its flavour is
the path's first directory unless that names a series, else the file
name's first word.  Images whose series is not known are left out.
"""

import os

import attrs

from mirrorkeeper.atomicfile import write_atomically

IMAGE_SUFFIXES = (".iso", ".img", ".img.xz", ".img.gz")

# Directories that name neither a flavour nor a series.
_NOT_FLAVOURS = frozenset(["releases", "release", "daily", "daily-live",
                           "current", "pending"])

MANIFEST_NAME = ".manifest"


@attrs.frozen
class ManifestLine:
    flavour: str
    series: str
    path: str
    size: int


def _series_of(parts, filename, by_name, by_version):
    for part in parts:
        if part in by_name:
            return part
        if part in by_version:
            return by_version[part]
    for word in filename.split("-"):
        for version, name in by_version.items():
            if word == version or word.startswith(version + "."):
                return name
    return None


def manifest_lines(root, series):
    """The ManifestLines of the image tree at `root`, sorted by series,
    flavour and path; `series` is a sequence of (name, version)."""
    by_name = {name for name, _ in series}
    by_version = {version: name for name, version in series if version}
    lines = []
    for directory, subdirs, names in os.walk(root):
        # Symbolic links (current -> 24.04) name images listed already.
        subdirs[:] = sorted(
            name for name in subdirs if not name.startswith(".")
            and not os.path.islink(os.path.join(directory, name)))
        for name in names:
            full = os.path.join(directory, name)
            if not name.endswith(IMAGE_SUFFIXES) or os.path.islink(full):
                continue
            path = os.path.relpath(full, root).replace(os.sep, "/")
            parts = path.split("/")[:-1]
            series_name = _series_of(parts, name, by_name, by_version)
            if series_name is None:
                continue
            if parts and parts[0] not in by_name \
                    and parts[0] not in by_version \
                    and parts[0] not in _NOT_FLAVOURS:
                flavour = parts[0]
            else:
                flavour = name.split("-", 1)[0]
            lines.append(ManifestLine(flavour, series_name, "/" + path,
                                      os.stat(full).st_size))
    lines.sort(key=lambda line: (line.series, line.flavour, line.path))
    return lines


def format_manifest(lines):
    return "".join("%s\t%s\t%s\t%d\n" % (line.flavour, line.series,
                                         line.path, line.size)
                   for line in lines)


def write_manifest(path, lines):
    """Write the manifest to `path` atomically (readers never see half of
    it); return True if its content changed."""
    text = format_manifest(lines)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    write_atomically(path, text.encode("utf-8"))
    return True
