"""FTP probing (SIZE, falling back to LIST) against Twisted's FTP server on
loopback, through the session pool and through ProbeClient."""

from twisted.internet import defer, reactor
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.prober.ftp import FTPSessionPool
from mirrorkeeper.prober.http import Site
from mirrorkeeper.enums import ProbeOutcome as Outcome
from tests.farm import RedirectToMirror
from tests.farm.testing import PACKAGES, RELEASE, FarmTestMixin


class SessionPoolTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()
        self.pool = FTPSessionPool(reactor)
        self.addCleanup(self.pool.close)

    def check(self, mirror, path):
        return self.pool.check(Site("ftp", mirror.host, mirror.port),
                               mirror.host, path)

    @defer.inlineCallbacks
    def test_size_answers_and_session_reuse(self):
        """SIZE says 213 for a file and 550 for a missing one, over one
        logged-in session."""
        mirror = self.farm.add_ftp_mirror("f", self.tree)
        present = yield self.check(mirror, "/" + RELEASE)
        missing = yield self.check(mirror, "/dists/noble/Nope")
        self.assertEqual((present.found, present.code, present.command),
                         (True, 213, "SIZE"))
        self.assertEqual((missing.found, missing.code), (False, 550))
        self.assertTrue(missing.reused)
        self.assertEqual(mirror.counters.connections, 1)
        self.assertEqual(self.pool.connections_opened, 1)

    @defer.inlineCallbacks
    def test_list_fallback(self):
        """Without SIZE, the directory is listed and the name looked for."""
        mirror = self.farm.add_ftp_mirror("f", self.tree, size=False)
        present = yield self.check(mirror, "/" + PACKAGES)
        missing = yield self.check(
            mirror, "/dists/noble/main/binary-amd64/Packages.xz")
        self.assertEqual((present.found, present.command), (True, "LIST"))
        self.assertEqual((missing.found, missing.command), (False, "LIST"))

    @defer.inlineCallbacks
    def test_dropped_idle_session_is_replaced(self):
        """When the server closes an idle session, the next check gets a
        fresh one."""
        mirror = self.farm.add_ftp_mirror("f", self.tree)
        yield self.check(mirror, "/" + RELEASE)
        yield mirror._tracking.close_all()
        answer = yield self.check(mirror, "/" + RELEASE)
        self.assertTrue(answer.found)
        self.assertEqual(mirror.counters.connections, 2)


class ClientFTPTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()
        self.client = self.make_client()

    @defer.inlineCallbacks
    def test_found_and_not_found(self):
        """ftp:// URLs are FOUND (213) or NOT_FOUND (550) with a log of the
        commands."""
        mirror = self.farm.add_ftp_mirror("f", self.tree)
        found = yield self.client.probe(mirror.url(RELEASE))
        missing = yield self.client.probe(mirror.url("dists/noble/Nope"))
        self.assertEqual((found.outcome, found.status, found.method),
                         (Outcome.FOUND, 213, "SIZE"))
        self.assertEqual((missing.outcome, missing.status),
                         (Outcome.NOT_FOUND, 550))
        self.assertLogSays(found, f"SIZE /{RELEASE} on {mirror.url(RELEASE)}",
                           "SIZE: 213")
        self.assertLogSays(missing, "550", "Result: NOT_FOUND")
        self.assertEqual(self.client.stats.connections_opened, 1)

    @defer.inlineCallbacks
    def test_refused(self):
        """A closed FTP port is CONNECTION_REFUSED."""
        mirror = self.farm.add_refusing_mirror("gone")
        result = yield self.client.probe(f"ftp://{mirror.host}:{mirror.port}/{RELEASE}")
        self.assertEqual(result.outcome, Outcome.CONNECTION_REFUSED)

    @defer.inlineCallbacks
    def test_http_redirect_to_ftp(self):
        """An HTTP redirect to the same file on an FTP mirror is followed."""
        self.farm.add_ftp_mirror("f", self.tree)
        mirror = self.farm.add_mirror("r", RedirectToMirror("f"))
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual((result.outcome, result.status), (Outcome.FOUND, 213))
        self.assertTrue(result.final_url.startswith("ftp://"))

    @defer.inlineCallbacks
    def test_fetch_over_ftp_is_refused(self):
        """fetch does not speak FTP and says so."""
        mirror = self.farm.add_ftp_mirror("f", self.tree)
        result = yield self.client.fetch(mirror.url(RELEASE), 1000)
        self.assertEqual(result.outcome, Outcome.INVALID_URL)
        self.assertEqual(mirror.counters.connections, 0)


class FTPClockTests(unittest.TestCase):
    """FTP timing on a fake clock: connections never complete."""

    def test_timeout_cancels_the_connection_attempt(self):
        """An FTP server that never accepts is TIMEOUT after the timeout, and
        the attempt is stopped."""
        clock = MemoryReactorClock()
        client = ProbeClient(clock, timeout=10,
                             allowed_networks=["192.0.2.0/24"])
        d = client.probe("ftp://192.0.2.9/debian/" + RELEASE)
        clock.advance(10)
        result = self.successResultOf(d)
        self.assertEqual(result.outcome, Outcome.TIMEOUT)
        self.assertTrue(clock.connectors[0].stoppedConnecting)
