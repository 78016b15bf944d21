"""The fake mirror farm itself, checked with Twisted's own web client
(not the prober's) so that the prober's tests rest on a farm known to be
right."""

import gzip
import os

from twisted.internet import defer, reactor
from twisted.internet.error import ConnectionRefusedError
from twisted.trial import unittest
from twisted.web.client import Agent, BrowserLikePolicyForHTTPS, readBody

from mirrorkeeper.prober.http import HTTPConnectionPool, Site
from tests.farm import (
    Hang,
    MovedInside,
    RedirectLoop,
    RedirectToMirror,
    RedirectToOtherFile,
    RedirectUnknownScheme,
    ServeTree,
)
from tests.farm.archive import write_archive_tree
from tests.farm.testing import PACKAGES, RELEASE, FarmTestMixin
from tests.test_prober_http import Receiver


class FarmTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()
        self.agent = Agent(reactor)

    def get(self, url, method=b"GET", agent=None):
        return (agent or self.agent).request(method, url.encode())

    @defer.inlineCallbacks
    def test_serve_tree(self):
        """ServeTree answers HEAD with the file's length, GET with its bytes,
        and 404 for what is missing."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        with open(os.path.join(self.tree, *RELEASE.split("/")), "rb") as f:
            content = f.read()
        head = yield self.get(mirror.url(RELEASE), b"HEAD")
        self.assertEqual(head.code, 200)
        self.assertEqual(head.headers.getRawHeaders(b"content-length"),
                         [b"%d" % len(content)])
        get = yield self.get(mirror.url(RELEASE))
        self.assertEqual((yield readBody(get)), content)
        missing = yield self.get(mirror.url("dists/noble/Nope"))
        yield readBody(missing)
        directory = yield self.get(mirror.url("dists/noble"))
        yield readBody(directory)
        self.assertEqual((missing.code, directory.code), (404, 404))

    @defer.inlineCallbacks
    def test_no_escape_from_the_root(self):
        """Paths climbing out of the root are 404."""
        mirror = self.farm.add_mirror("m", ServeTree(),
                                      root=os.path.join(self.tree, "dists"))
        pool = HTTPConnectionPool(reactor)
        self.addCleanup(pool.close)
        site = Site("http", mirror.host, mirror.port)
        receiver = Receiver()
        pool.request(site, mirror.host, b"HEAD",
                     b"/../pool/main/h/hello/hello_2.10-3.dsc", receiver)
        response = yield receiver.deferred
        self.assertEqual(response.status, 404)

    @defer.inlineCallbacks
    def test_counters(self):
        """Each mirror and the farm count connections and requests."""
        one = self.farm.add_mirror("one", ServeTree(), root=self.tree)
        two = self.farm.add_mirror("two", ServeTree(), root=self.tree)
        for url in (one.url(RELEASE), one.url(PACKAGES), two.url(RELEASE)):
            yield readBody((yield self.get(url)))
        self.assertEqual((one.counters.requests, one.counters.connections),
                         (2, 2))
        self.assertEqual(one.counters.requests_log,
                         [(b"GET", b"/" + RELEASE.encode()),
                          (b"GET", b"/" + PACKAGES.encode())])
        self.assertEqual((self.farm.counters.requests,
                          self.farm.counters.connections), (3, 3))
        self.assertEqual(self.farm.counters.in_flight, 0)

    @defer.inlineCallbacks
    def test_redirect_locations(self):
        """Each redirecting behaviour sends the Location its docstring
        promises."""
        target = self.farm.add_mirror("target", ServeTree(), root=self.tree)
        cases = [
            (RedirectToMirror("target", 301), 301, target.url(RELEASE)),
            (MovedInside("/archive"), 301, "/archive/" + RELEASE),
            (RedirectLoop(), 302, f"/{RELEASE}?bounce=1"),
            (RedirectToOtherFile(), 302, "/index.html"),
        ]
        for i, (behaviour, status, location) in enumerate(cases):
            mirror = self.farm.add_mirror(f"r{i}", behaviour, root=self.tree)
            response = yield self.get(mirror.url(RELEASE), b"HEAD")
            self.assertEqual(response.code, status)
            self.assertEqual(response.headers.getRawHeaders(b"location"),
                             [location.encode()])
        gopher = self.farm.add_mirror("gopher", RedirectUnknownScheme())
        response = yield self.get(gopher.url(RELEASE), b"HEAD")
        self.assertEqual(response.headers.getRawHeaders(b"location"),
                         [f"gopher://127.0.0.1/{RELEASE}".encode()])

    def test_refusing_mirror(self):
        """A refusing mirror's port refuses connections."""
        mirror = self.farm.add_refusing_mirror("gone")
        return self.assertFailure(self.get(mirror.url(RELEASE)),
                                  ConnectionRefusedError)

    @defer.inlineCallbacks
    def test_https_mirror_verifies_with_the_farm_ca(self):
        """An HTTPS mirror with a valid certificate passes verification
        against the farm's CA."""
        mirror = self.farm.add_mirror("s", ServeTree(), root=self.tree,
                                      tls="valid")
        agent = Agent(reactor, BrowserLikePolicyForHTTPS(
            trustRoot=self.farm.ca.certificate))
        response = yield self.get(mirror.url(RELEASE), agent=agent)
        self.assertTrue((yield readBody(response)).startswith(b"Suite: noble"))

    @defer.inlineCallbacks
    def test_stop_closes_hanging_connections(self):
        """stop() closes connections left hanging and the ports stop
        listening."""
        farm = self.make_farm()
        mirror = farm.add_mirror("m", Hang())
        d = self.get(mirror.url(RELEASE))
        while not mirror.counters.requests:
            yield _soon()
        yield farm.stop()
        yield self.assertFailure(d, Exception)
        yield self.assertFailure(self.get(mirror.url(RELEASE)),
                                 ConnectionRefusedError)

    def test_loopback_only(self):
        """Every kind of mirror listens on a loopback address."""
        self.farm.add_mirror("h", ServeTree(), root=self.tree)
        self.farm.add_mirror("s", ServeTree(), root=self.tree,
                             tls="self-signed")
        self.farm.add_mirror("other", ServeTree(), root=self.tree,
                             interface="127.0.0.5")
        self.farm.add_ftp_mirror("f", self.tree)
        for mirror in self.farm.mirrors.values():
            self.assertTrue(
                mirror._listening.getHost().host.startswith("127."), mirror)

    def test_names_are_unique(self):
        """Two mirrors cannot share a name."""
        self.farm.add_mirror("m", ServeTree(), root=self.tree)
        self.assertRaises(ValueError, self.farm.add_mirror, "m", ServeTree(),
                          root=self.tree)


class ArchiveTreeTests(unittest.TestCase):
    def test_layout(self):
        """The archive tree has Release, Packages.gz and Sources.gz per
        series and pool files."""
        root = self.mktemp()
        written = write_archive_tree(root, series=("noble", "jammy"),
                                     architectures=("amd64", "arm64"))
        for series in ("noble", "jammy"):
            for arch in ("amd64", "arm64"):
                self.assertIn(
                    f"dists/{series}/main/binary-{arch}/Packages.gz", written)
            self.assertIn(f"dists/{series}/main/source/Sources.gz", written)
        self.assertIn("pool/main/h/hello/hello_2.10-3_arm64.deb", written)
        with open(os.path.join(root, "dists", "noble", "main",
                               "binary-amd64", "Packages.gz"), "rb") as f:
            packages = gzip.decompress(f.read()).decode()
        self.assertIn("Filename: pool/main/h/hello/hello_2.10-3_amd64.deb",
                      packages)
        with open(os.path.join(root, "dists", "noble", "Release")) as f:
            self.assertIn("main/source/Sources.gz", f.read())


def _soon():
    d = defer.Deferred()
    reactor.callLater(0.01, d.callback, None)
    return d
