"""Real master archives for the scanner's tests, built with Debian's own
tools: dpkg-deb builds each binary package (a control file and one file),
dpkg-source each source package, apt-ftparchive the Packages and Sources
indexes and the Release file, gpg the InRelease; createrepo_c builds RPM
repodata."""

import calendar
import gzip
import lzma
import os
import subprocess
import tempfile

from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.person import PersonSet
from mirrorkeeper.model.publishing import pool_path

MAINTAINER = "Test Maintainer <test@example.com>"


def run(args, cwd=None, env=None):
    """Run a tool, returning its stdout; a failure shows its stderr."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True)
    if done.returncode:
        raise AssertionError("%s failed: %s" % (
            " ".join(args), done.stderr.decode(errors="replace")))
    return done.stdout


def set_mtime(path, when):
    """Give `path` the modification time `when` (a zoneless UTC
    datetime)."""
    stamp = calendar.timegm(when.utctimetuple())
    os.utime(path, (stamp, stamp))


class DebianArchive:
    """An archive tree at `root` whose suites list the packages given to
    add_binary/add_source for them; publish() writes a suite's indexes and
    Release as apt-ftparchive makes them."""

    def __init__(self, root):
        self.root = str(root)
        self.suites = {}  # suite -> {"binaries": [...], "sources": [...]}
        os.makedirs(self.root, exist_ok=True)

    def _suite(self, suite):
        return self.suites.setdefault(suite, {"binaries": [], "sources": []})

    def add_binary(self, suite, name, version, arch="amd64",
                   component="main", source=None, udeb=False, mtime=None):
        """Build a binary package into the pool and list it in `suite`;
        return its path relative to the root."""
        source = source or name
        extension = "udeb" if udeb else "deb"
        filename = "%s_%s_%s.%s" % (name, version.split(":")[-1], arch,
                                    extension)
        path = pool_path(component, source, filename)
        full = os.path.join(self.root, path)
        if not os.path.exists(full):
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with tempfile.TemporaryDirectory() as tree:
                os.makedirs(os.path.join(tree, "DEBIAN"))
                doc = os.path.join(tree, "usr", "share", "doc", name)
                os.makedirs(doc)
                with open(os.path.join(doc, "README"), "w") as f:
                    f.write("%s %s\n" % (name, version))
                with open(os.path.join(tree, "DEBIAN", "control"), "w") as f:
                    f.write("Package: %s\nVersion: %s\nArchitecture: %s\n"
                            "Maintainer: %s\nSource: %s\nDescription: %s, "
                            "a tiny package\n a test of the scanner\n" % (
                                name, version, arch, MAINTAINER, source,
                                name))
                run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build",
                     tree, full])
        if mtime is not None:
            set_mtime(full, mtime)
        self._suite(suite)["binaries"].append((component, arch, path))
        return path

    def add_source(self, suite, name, version, component="main",
                   mtime=None):
        """Build a native source package into the pool and list it in
        `suite`; return the .dsc's path relative to the root."""
        directory = os.path.dirname(pool_path(component, name, "x"))
        dsc = "%s/%s_%s.dsc" % (directory, name, version)
        full = os.path.join(self.root, dsc)
        if not os.path.exists(full):
            os.makedirs(os.path.join(self.root, directory), exist_ok=True)
            with tempfile.TemporaryDirectory() as work:
                tree = os.path.join(work, "%s-%s" % (name, version))
                os.makedirs(os.path.join(tree, "debian", "source"))
                files = {
                    "debian/source/format": "3.0 (native)\n",
                    "debian/control": "Source: %s\nMaintainer: %s\n\n"
                    "Package: %s\nArchitecture: any\nDescription: tiny\n"
                    % (name, MAINTAINER, name),
                    "debian/changelog": "%s (%s) unstable; urgency=low\n\n"
                    "  * Test.\n\n -- %s  Mon, 01 Jan 2024 00:00:00 +0000\n"
                    % (name, version, MAINTAINER),
                }
                for relative, text in files.items():
                    with open(os.path.join(tree, relative), "w") as f:
                        f.write(text)
                run(["dpkg-source", "-b", os.path.basename(tree)], cwd=work)
                for produced in os.listdir(work):
                    if produced.startswith(name + "_"):
                        os.rename(os.path.join(work, produced), os.path.join(
                            self.root, directory, produced))
        if mtime is not None:
            set_mtime(full, mtime)
        self._suite(suite)["sources"].append((component, dsc))
        return dsc

    def remove(self, suite, path):
        """Stop listing the pool file `path` in `suite`."""
        listed = self.suites[suite]
        listed["binaries"] = [b for b in listed["binaries"] if b[2] != path]
        listed["sources"] = [s for s in listed["sources"] if s[1] != path]

    def _stanzas(self, output, wanted):
        """The stanzas of apt-ftparchive's output that name a wanted file."""
        kept = []
        for stanza in output.decode().split("\n\n"):
            names = {line.split()[-1] for line in stanza.splitlines()
                     if line.startswith(" ")}
            fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                          if ": " in line and not line.startswith(" "))
            filename = fields.get("Filename")
            if filename in wanted or (
                    "Directory" in fields and any(
                        fields["Directory"] + "/" + name in wanted
                        for name in names)):
                kept.append(stanza.strip("\n") + "\n")
        return "\n".join(kept)

    def publish(self, suite, version="", architectures=("amd64", "arm64"),
                components=("main",), compressions=("gz",), keep_plain=False,
                sign_with=None, origin="Test"):
        """Write the suite's indexes (compressed as asked, the plain one
        kept only with `keep_plain`, as Ubuntu ships none), its Release
        and, with `sign_with` (a GNUPGHOME), its InRelease."""
        listed = self._suite(suite)
        suite_dir = os.path.join(self.root, "dists", suite)
        for component in components:
            indexes = []
            for arch in architectures:
                for udeb in (False, True):
                    wanted = {path for c, a, path in listed["binaries"]
                              if c == component and a in (arch, "all")
                              and path.endswith(".udeb") == udeb}
                    if udeb and not wanted:
                        continue
                    args = ["apt-ftparchive", "packages", "--arch", arch]
                    if udeb:
                        args += ["-o", "APT::FTPArchive::Packages::"
                                 "Extensions=.udeb"]
                    output = run(args + ["pool/" + component],
                                 cwd=self.root) if os.path.isdir(
                        os.path.join(self.root, "pool", component)) else b""
                    where = "debian-installer/binary-%s" % arch if udeb \
                        else "binary-%s" % arch
                    indexes.append((where, "Packages",
                                    self._stanzas(output, wanted)))
            wanted = {dsc for c, dsc in listed["sources"] if c == component}
            output = run(["apt-ftparchive", "sources", "pool/" + component],
                         cwd=self.root) if wanted else b""
            indexes.append(("source", "Sources",
                            self._stanzas(output, wanted)))
            for where, name, text in indexes:
                directory = os.path.join(suite_dir, component, where)
                os.makedirs(directory, exist_ok=True)
                write_index(os.path.join(directory, name), text.encode(),
                            compressions)
        self.write_release(suite, version, architectures, components,
                           origin)
        if not keep_plain:
            for directory, _, names in os.walk(suite_dir):
                for name in names:
                    if name in ("Packages", "Sources"):
                        os.unlink(os.path.join(directory, name))
        if sign_with:
            self.sign(suite, sign_with)

    def write_release(self, suite, version="",
                      architectures=("amd64", "arm64"), components=("main",),
                      origin="Test"):
        options = {"Origin": origin, "Label": origin, "Suite": suite,
                   "Codename": suite, "Version": version,
                   "Architectures": " ".join(architectures),
                   "Components": " ".join(components)}
        args = ["apt-ftparchive"]
        for field, value in options.items():
            if value:
                args += ["-o", "APT::FTPArchive::Release::%s=%s"
                         % (field, value)]
        suite_dir = os.path.join(self.root, "dists", suite)
        for name in ("Release", "InRelease", "Release.gpg"):
            if os.path.exists(os.path.join(suite_dir, name)):
                os.unlink(os.path.join(suite_dir, name))
        release = run(args + ["release", "."], cwd=suite_dir)
        with open(os.path.join(suite_dir, "Release"), "wb") as f:
            f.write(release)

    def sign(self, suite, gnupghome):
        suite_dir = os.path.join(self.root, "dists", suite)
        run(["gpg", "--batch", "--yes", "--clearsign", "--output",
             os.path.join(suite_dir, "InRelease"),
             os.path.join(suite_dir, "Release")],
            env=dict(os.environ, GNUPGHOME=gnupghome))


def write_index(path, data, compressions):
    with open(path, "wb") as f:
        f.write(data)
    if "gz" in compressions:
        with open(path + ".gz", "wb") as f:
            f.write(gzip.compress(data, mtime=0))
    if "xz" in compressions:
        with open(path + ".xz", "wb") as f:
            f.write(lzma.compress(data))


def make_signing_key(gnupghome):
    """A throwaway signing key in `gnupghome` (created), for InRelease."""
    os.makedirs(gnupghome, mode=0o700, exist_ok=True)
    run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
         "Test Archive <archive@example.com>", "ed25519", "sign", "never"],
        env=dict(os.environ, GNUPGHOME=gnupghome))
    return gnupghome


def build_rpm_repository(directory):
    """A directory of (empty-payload) RPM stand-ins indexed by createrepo_c.

    createrepo_c reads real RPM headers; without rpmbuild here, the
    repository holds no packages and createrepo_c writes the empty
    repodata a new repository starts with.
    """
    os.makedirs(directory, exist_ok=True)
    run(["createrepo_c", "--quiet", "--no-database", directory])
    return os.path.join(directory, "repodata", "repomd.xml")


def testix_distribution(store):
    """The tests' distribution, Testix, with its owner and its mirror
    admins' team; committed."""
    people = PersonSet(store)
    owner = people.new("owner", "Owner", "owner@example.com")
    admins = people.newTeam("testix-mirror-admins", "Mirror Admins",
                            members=[owner])
    distribution = DistributionSet(store).new(
        "testix", "Testix", "Testix Linux", owner, admins)
    store.commit()
    return distribution
