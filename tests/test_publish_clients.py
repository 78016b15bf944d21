"""Real clients against the mirror list daemon on loopback: apt-get through
a mirror+http:// source, dnf through a metalink and a mirrorlist, aria2c
verifying a file's hash through a metalink, and curl following a redirect;
the mirrors are a real Debian archive and RPM repository served on
loopback."""

import datetime
import hashlib
import os
import re

from twisted.internet import defer, reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial import unittest
from twisted.web import server, static

from tests.archive_builder import DebianArchive, build_rpm_repository
from tests.mirrorlist_daemon import DaemonTestMixin
from tests.mirrorlist_snapshots import mirror, snapshot

REPO = "releases/40/Everything/x86_64/os"
REPOMD = REPO + "/repodata/repomd.xml"
METALINK = "/metalink?repo=releases-40-everything&arch=x86_64"
MIRRORLIST = "/mirrorlist?repo=releases-40-everything&arch=x86_64"

APT_DIRS = ["etc/apt/apt.conf.d", "etc/apt/preferences.d",
            "etc/apt/sources.list.d", "var/lib/apt/lists/partial",
            "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt"]


def file_details(path):
    with open(path, "rb") as f:
        data = f.read()
    return {"size": len(data), "timestamp": int(os.stat(path).st_mtime),
            "md5": hashlib.md5(data).hexdigest(),
            "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest()}


@defer.inlineCallbacks
def run(executable, *args, env=None):
    """(exit code, stdout + stderr) of a client."""
    out, err, code = yield getProcessOutputAndValue(
        executable, args, env=env or dict(os.environ))
    return code, (out + err).decode("utf-8", "replace")


class RealClientTests(DaemonTestMixin, unittest.TestCase):
    timeout = 30

    @defer.inlineCallbacks
    def setUp(self):
        self.www = os.path.abspath(self.mktemp())
        archive = DebianArchive(os.path.join(self.www, "debian"))
        archive.add_binary("stable", "hello", "1.0", arch="amd64")
        archive.publish("stable", architectures=("amd64",))
        build_rpm_repository(os.path.join(self.www, "fedora", REPO))
        port = reactor.listenTCP(0, server.Site(static.File(self.www)),
                                 interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.www_url = "http://127.0.0.1:%d" % (port.getHost().port,)
        yield self.start_daemon(self.world())

    def world(self, sha256=None, serial=1):
        details = file_details(os.path.join(self.www, "fedora", REPOMD))
        if sha256:
            details["sha256"] = details["sha512"] = details["sha1"] = \
                details["md5"] = sha256
        places = [["stable", "amd64", "main", "release"]]
        return snapshot([
            mirror("deb", "DE", places=[0], repositories=[],
                   urls={"http": self.www_url + "/debian/"}),
            mirror("rpm", "DE", places=[], repositories=[0],
                   urls={"http": self.www_url + "/fedora/"})],
            serial=serial, places=places,
            files={"releases/40/Everything/x86_64/os/repodata/repomd.xml":
                   [details]})

    @defer.inlineCallbacks
    def replace_and_reload(self, snapshot):
        self.replace_snapshot(snapshot)
        reloaded = yield self.service.source.check()
        self.assertTrue(reloaded)

    @defer.inlineCallbacks
    def test_apt_get_update_through_a_mirror_source(self):
        """apt-get update reads the list through mirror+http:// and fetches the
        archive from the mirror it names."""
        root = os.path.abspath(self.mktemp())
        for folder in APT_DIRS:
            os.makedirs(os.path.join(root, folder))
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
            f.write("deb [trusted=yes] mirror+%s/mirrors.txt?series=stable "
                    "stable main\n" % (self.base_url,))
        options = ["-o", "Dir=" + root,
                   "-o", "Dir::State::status=%s/var/lib/dpkg/status" % root,
                   "-o", "APT::Architecture=amd64",
                   "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"]
        code, output = yield run("/usr/bin/apt-get", "update", *options)
        self.assertEqual(code, 0, output)
        self.assertIn(self.www_url + "/debian stable/main amd64 Packages",
                      output)
        code, output = yield run("/usr/bin/apt-cache", "show", "hello",
                                 *options)
        self.assertEqual(code, 0, output)
        self.assertIn("Version: 1.0", output)

    @defer.inlineCallbacks
    def test_curl_follows_the_redirect(self):
        """curl -L follows the daemon's 302 to the mirror and gets the file."""
        target = os.path.join(self.mktemp())
        code, output = yield run(
            "/usr/bin/curl", "-sSfL", "-o", target,
            self.base_url + "/redirect/dists/stable/Release")
        self.assertEqual(code, 0, output)
        with open(target, "rb") as got, open(os.path.join(
                self.www, "debian/dists/stable/Release"), "rb") as want:
            self.assertEqual(got.read(), want.read())

    @defer.inlineCallbacks
    def test_aria2c_verifies_the_hash_through_the_metalink(self):
        """aria2c downloads repomd.xml through the metalink and accepts it; a
        metalink with other hashes makes it fail."""
        folder = self.mktemp()
        code, output = yield run(
            "/usr/bin/aria2c", "--dir", folder, "--follow-metalink=mem",
            "--check-certificate=false", self.base_url + METALINK)
        self.assertEqual(code, 0, output)
        self.assertTrue(os.path.exists(os.path.join(folder, "repomd.xml")))
        yield self.replace_and_reload(self.world(sha256="0" * 64, serial=2))
        code, output = yield run(
            "/usr/bin/aria2c", "--dir", self.mktemp(), "--follow-metalink=mem",
            self.base_url + METALINK)
        self.assertNotEqual(code, 0, output)

    @defer.inlineCallbacks
    def dnf_makecache(self, source):
        root = os.path.abspath(self.mktemp())
        os.makedirs(os.path.join(root, "repos"))
        with open(os.path.join(root, "repos", "mk.repo"), "w") as f:
            f.write("[mk]\nname=mk\n%s=%s\ngpgcheck=0\n" % (
                source, self.base_url + (METALINK if source == "metalink"
                                         else MIRRORLIST)))
        with open(os.path.join(root, "dnf.conf"), "w") as f:
            f.write("[main]\nreposdir=%s/repos\ncachedir=%s/cache\n"
                    "installroot=%s/root\ngpgcheck=0\n" % (root, root, root))
        result = yield run("/usr/bin/dnf", "-c", root + "/dnf.conf",
                           "--releasever=40", "--setopt=reposdir=%s/repos"
                           % root, "-y", "makecache")
        return result

    @defer.inlineCallbacks
    def test_dnf_through_the_metalink_and_the_mirrorlist(self):
        """dnf makes its cache through the metalink and through the mirrorlist,
        and refuses a repomd.xml the metalink's hashes do not match."""
        code, output = yield self.dnf_makecache("metalink")
        self.assertEqual(code, 0, output)
        self.assertIn("Metadata cache created", output)
        code, output = yield self.dnf_makecache("mirrorlist")
        self.assertEqual(code, 0, output)
        yield self.replace_and_reload(self.world(sha256="0" * 64, serial=2))
        code, output = yield self.dnf_makecache("metalink")
        self.assertNotEqual(code, 0, output)


def write_certificate(folder):
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files
    in `folder`: (key path, certificate path)."""
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .sign(key, hashes.SHA256()))
    os.makedirs(folder)
    key_path = os.path.join(folder, "key.pem")
    certificate_path = os.path.join(folder, "certificate.pem")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(certificate_path, "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, certificate_path


class HttpsRedirectTests(DaemonTestMixin, unittest.TestCase):
    """curl asking the daemon over TLS: the redirect never downgrades it
    to http unless protocol= allows http."""

    timeout = 30

    def setUp(self):
        key, certificate = write_certificate(os.path.abspath(self.mktemp()))
        self.certificate = certificate
        return self.start_daemon(snapshot([
            mirror("both", "DE", urls={
                "http": "http://both.example/debian/",
                "https": "https://both.example/debian/"}),
            mirror("plain", "DE"), mirror("plain2", "FR"),
            mirror("secure", "FR", urls={
                "https": "https://secure.example/debian/"})]),
            listen="ssl:0:interface=127.0.0.1:privateKey=%s:certKey=%s"
            % (key, certificate))

    @defer.inlineCallbacks
    def redirect(self, query=""):
        """(status, [Location, then each Link URL]) curl was given."""
        code, output = yield run(
            "/usr/bin/curl", "-sS", "--cacert", self.certificate, "-o",
            os.devnull, "-D", "-",
            self.base_url + "/redirect/dists/noble/InRelease" + query)
        self.assertEqual(code, 0, output)
        status = int(output.split()[1])
        location = re.findall(r"(?mi)^location: (\S+)", output)
        links = re.findall(r"(?mi)^link: <([^>]*)>; rel=duplicate", output)
        return status, location + links

    @defer.inlineCallbacks
    def test_redirect_over_tls_stays_https(self):
        """Over TLS the Location and every Link header are https URLs;
        protocol=https,http lets the http mirrors in."""
        for _ in range(5):
            status, urls = yield self.redirect()
            self.assertEqual(status, 302)
            self.assertEqual(sorted(urls), [
                "https://both.example/debian/dists/noble/InRelease",
                "https://secure.example/debian/dists/noble/InRelease"])
        status, urls = yield self.redirect("?protocol=https,http")
        self.assertEqual(status, 302)
        self.assertEqual({url.split(":")[0] for url in urls},
                         {"https", "http"})
        self.assertEqual(len(urls), 4)
        status, urls = yield self.redirect("?protocol=gopher")
        self.assertEqual((status, urls), (400, []))
