"""A small but real Debian-style archive tree for fake mirrors to serve.

The layout is the one apt and the prober expect: dists/<series>/Release,
dists/<series>/<component>/binary-<arch>/Packages.gz,
dists/<series>/<component>/source/Sources.gz, pool/<component>/<prefix>/
<source>/..., and an ftpsync trace file under project/trace/.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from email.utils import formatdate

SAMPLE_PACKAGES = (("hello", "2.10-3"), ("libfoo", "1.4-1"))


def _write(root, relative, data):
    path = os.path.join(root, *relative.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_archive_tree(
    root,
    series=("noble",),
    components=("main",),
    architectures=("amd64",),
    packages=SAMPLE_PACKAGES,
    timestamp=None,
):
    """Write an archive under C{root} and return the list of its files'
    paths relative to the root (with "/" separators).

    @param root: an existing or new directory, str.
    @param series: series names, each getting dists/<series>/.
    @param components: component names.
    @param architectures: architecture names for binary-<arch> indexes.
    @param packages: (source name, version) pairs; each gets a .dsc and one
        .deb per architecture in pool/.
    @param timestamp: POSIX time written into Release and the trace file;
        default now.  A mirror "a day behind" is a tree written with an
        older timestamp.
    """
    when = time.time() if timestamp is None else timestamp
    written = []

    def add(relative, data):
        _write(root, relative, data)
        written.append(relative)
        return data

    for component in components:
        for name, version in packages:
            prefix = name[:4] if name.startswith("lib") else name[0]
            pool = f"pool/{component}/{prefix}/{name}"
            add(f"{pool}/{name}_{version}.dsc",
                f"Source: {name}\nVersion: {version}\n".encode())
            for arch in architectures:
                add(f"{pool}/{name}_{version}_{arch}.deb",
                    f"!<arch>\n{name} {arch}\n".encode())
    for suite in series:
        checksums = []
        for component in components:
            for arch in architectures:
                stanzas = []
                for name, version in packages:
                    prefix = name[:4] if name.startswith("lib") else name[0]
                    stanzas.append(
                        f"Package: {name}\nVersion: {version}\n"
                        f"Architecture: {arch}\n"
                        f"Filename: pool/{component}/{prefix}/{name}/"
                        f"{name}_{version}_{arch}.deb\n"
                    )
                relative = f"{component}/binary-{arch}/Packages.gz"
                data = add(
                    f"dists/{suite}/{relative}",
                    gzip.compress("\n".join(stanzas).encode(),
                                  mtime=int(when)),
                )
                checksums.append((relative, data))
            sources = "\n".join(
                f"Package: {name}\nVersion: {version}\n"
                for name, version in packages
            )
            relative = f"{component}/source/Sources.gz"
            data = add(f"dists/{suite}/{relative}",
                       gzip.compress(sources.encode(), mtime=int(when)))
            checksums.append((relative, data))
        release = [
            f"Suite: {suite}",
            f"Codename: {suite}",
            f"Date: {formatdate(when, usegmt=True)}",
            f"Architectures: {' '.join(architectures)}",
            f"Components: {' '.join(components)}",
            "SHA256:",
        ]
        release += [
            f" {hashlib.sha256(data).hexdigest()} {len(data):8d} {relative}"
            for relative, data in checksums
        ]
        add(f"dists/{suite}/Release", ("\n".join(release) + "\n").encode())
    add("project/trace/master",
        (formatdate(when, usegmt=True) + "\n").encode())
    return written
