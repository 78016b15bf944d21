"""ProbeClient: outcomes, redirects, limits, timeouts, host skipping, TLS
and the address policy, against the fake mirror farm on loopback (and a
fake clock where only timing matters)."""

import socket
import threading
import time

from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver
from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from mirrorkeeper.interfaces.prober import IProbeClient
from mirrorkeeper.prober.client import AddressFamilies, ProbeClient
from mirrorkeeper.prober.http import Site
from mirrorkeeper.enums import ProbeOutcome
from tests.farm import (
    Behaviour,
    Hang,
    HugeHeaders,
    MovedInside,
    NotFound,
    RedirectForever,
    RedirectLoop,
    RedirectToMirror,
    RedirectToOtherFile,
    RedirectToURL,
    RedirectUnknownScheme,
    ServerError,
    ServeTree,
    Slow,
)
from tests.farm.testing import PACKAGES, RELEASE, FarmTestMixin

Outcome = ProbeOutcome


class OutcomeTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()
        self.client = self.make_client()

    def test_provides_interface(self):
        """ProbeClient provides IProbeClient."""
        self.assertTrue(verifyObject(IProbeClient, self.client))

    @defer.inlineCallbacks
    def test_found(self):
        """A file the mirror has is FOUND with status 200 and a log of the
        exchange."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual((result.outcome, result.status), (Outcome.FOUND, 200))
        self.assertTrue(result.found)
        self.assertEqual(result.final_url, mirror.url(RELEASE))
        self.assertEqual(result.redirects, ())
        self.assertLogSays(result, f"HEAD {mirror.url(RELEASE)}",
                           "HTTP/1.1 200 OK", "Result: FOUND")
        self.assertLessEqual(result.started, result.finished)

    @defer.inlineCallbacks
    def test_probe_then_calls_back_with_the_result(self):
        """probe_then hands the result to its callback, with its arguments,
        as probe's Deferred would; a callback that raises is logged and the
        run goes on."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        answered = defer.Deferred()

        def broken(result):
            raise RuntimeError("a broken callback")

        self.client.probe_then(mirror.url(RELEASE), broken)
        self.client.probe_then(mirror.url(RELEASE),
                               lambda *given: answered.callback(given), 7)
        result, seven = yield answered
        self.assertEqual((result.outcome, seven), (Outcome.FOUND, 7))
        self.assertLogSays(result, f"HEAD {mirror.url(RELEASE)}",
                           "HTTP/1.1 200 OK", "Result: FOUND")
        again = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual(again.outcome, Outcome.FOUND)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    @defer.inlineCallbacks
    def test_not_found(self):
        """A missing file is NOT_FOUND with status 404."""
        mirror = self.farm.add_mirror("m", NotFound())
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual((result.outcome, result.status),
                         (Outcome.NOT_FOUND, 404))
        self.assertFalse(result.found)
        self.assertLogSays(result, "404 Not Found", "Result: NOT_FOUND")

    @defer.inlineCallbacks
    def test_server_error(self):
        """A 500 is HTTP_ERROR with the status kept."""
        mirror = self.farm.add_mirror("m", ServerError())
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual((result.outcome, result.status),
                         (Outcome.HTTP_ERROR, 500))
        self.assertLogSays(result, "500 Internal Server Error",
                           "Result: HTTP_ERROR")

    @defer.inlineCallbacks
    def test_huge_headers(self):
        """A mirror sending enormous headers is a PROTOCOL_ERROR."""
        mirror = self.farm.add_mirror("m", HugeHeaders())
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.PROTOCOL_ERROR)
        self.assertLogSays(result, "larger than 65536 bytes")

    @defer.inlineCallbacks
    def test_refused_fails_at_once(self):
        """A closed port is CONNECTION_REFUSED without waiting for the (long)
        timeout."""
        mirror = self.farm.add_refusing_mirror("gone")
        client = self.make_client(timeout=60)
        result = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.CONNECTION_REFUSED)
        self.assertIsNone(result.status)
        self.assertLogSays(result, "Connection refused")

    @defer.inlineCallbacks
    def test_dns_failure(self):
        """A name that does not resolve is DNS_ERROR."""
        result = yield self.client.probe(
            "http://no-such-mirror.invalid/ubuntu/" + RELEASE)
        self.assertEqual(result.outcome, Outcome.DNS_ERROR)
        self.assertLogSays(result, "Cannot resolve", "no-such-mirror.invalid")

    @defer.inlineCallbacks
    def test_invalid_urls(self):
        """URLs that cannot be probed are INVALID_URL, never an error."""
        for url in ["not a url", "http://", "mailto:a@b.example",
                    "http://h:99999/"]:
            result = yield self.client.probe(url)
            self.assertEqual(result.outcome, Outcome.INVALID_URL, url)

    @defer.inlineCallbacks
    def test_real_timeout(self):
        """A mirror that never answers is TIMEOUT and its connection is
        closed."""
        mirror = self.farm.add_mirror("m", Hang())
        client = self.make_client(timeout=0.3)
        result = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.TIMEOUT)
        self.assertLogSays(result, "No complete answer within 0.3 s")
        self.assertEqual(mirror.counters.requests, 1)

    @defer.inlineCallbacks
    def test_fetch(self):
        """fetch returns the body of a 200 answer."""
        mirror = self.farm.add_mirror("m", ServeTree(chunked=True),
                                      root=self.tree)
        result = yield self.client.fetch(mirror.url(RELEASE), 10000,
                                         [("Cache-Control", "no-cache")])
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual(result.method, "GET")
        self.assertTrue(result.body.startswith(b"Suite: noble"))

    @defer.inlineCallbacks
    def test_fetch_too_large(self):
        """fetch of a body above max_size is TOO_LARGE, with no body."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        result = yield self.client.fetch(mirror.url(RELEASE), 16)
        self.assertEqual(result.outcome, Outcome.TOO_LARGE)
        self.assertIsNone(result.body)

    @defer.inlineCallbacks
    def test_stats_count_outcomes(self):
        """The stats count probes, requests and outcomes."""
        good = self.farm.add_mirror("good", ServeTree(), root=self.tree)
        bad = self.farm.add_mirror("bad", NotFound())
        yield self.client.probe(good.url(RELEASE))
        yield self.client.probe(bad.url(RELEASE))
        yield self.client.probe(bad.url(PACKAGES))
        stats = self.client.stats
        self.assertEqual(
            (stats.probes, stats.requests, stats.connections_opened),
            (3, 3, 2))
        self.assertEqual(stats.failures, {Outcome.NOT_FOUND: 2})


class RedirectTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()
        self.target = self.farm.add_mirror("target", ServeTree(),
                                           root=self.tree)
        self.client = self.make_client()

    @defer.inlineCallbacks
    def test_each_redirect_status_is_followed(self):
        """301, 302, 303, 307 and 308 to the same file on another mirror are
        followed to FOUND."""
        for status in (301, 302, 303, 307, 308):
            mirror = self.farm.add_mirror(f"r{status}",
                                          RedirectToMirror("target", status))
            result = yield self.client.probe(mirror.url(RELEASE))
            self.assertEqual((result.outcome, result.status),
                             (Outcome.FOUND, 200), status)
            self.assertEqual(result.final_url, self.target.url(RELEASE))
            self.assertEqual(result.redirects, (self.target.url(RELEASE),))
            self.assertLogSays(result, f" {status} ",
                               f"Redirected to {self.target.url(RELEASE)}")

    @defer.inlineCallbacks
    def test_relative_redirect(self):
        """A relative Location is resolved against the URL asked for."""
        mirror = self.farm.add_mirror("moved", MovedInside("/archive"),
                                      root=self.tree)
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual(result.final_url, mirror.url("archive/" + RELEASE))
        self.assertEqual(mirror.counters.connections, 1)

    @defer.inlineCallbacks
    def test_loop(self):
        """A redirect back to a URL already visited is REDIRECT_LOOP."""
        mirror = self.farm.add_mirror("loop", RedirectLoop())
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.REDIRECT_LOOP)
        self.assertEqual(result.redirects,
                         (mirror.url(RELEASE) + "?bounce=1",))
        self.assertEqual(result.final_url, mirror.url(RELEASE) + "?bounce=1")
        self.assertLogSays(result, "Result: REDIRECT_LOOP", "already visited")

    @defer.inlineCallbacks
    def test_too_many(self):
        """Endless redirects stop after the limit with TOO_MANY_REDIRECTS."""
        mirror = self.farm.add_mirror("forever", RedirectForever())
        client = self.make_client(max_redirects=3)
        result = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.TOO_MANY_REDIRECTS)
        self.assertEqual(len(result.redirects), 3)
        self.assertEqual(mirror.counters.requests, 4)

    @defer.inlineCallbacks
    def test_other_file(self):
        """A redirect to a different file name is REDIRECT_TO_OTHER_FILE, not
        followed."""
        mirror = self.farm.add_mirror("liar",
                                      RedirectToOtherFile("/index.html"))
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.REDIRECT_TO_OTHER_FILE)
        self.assertEqual(result.final_url, mirror.url(RELEASE))
        self.assertLogSays(result, "'index.html'")
        self.assertEqual(mirror.counters.requests, 1)

    @defer.inlineCallbacks
    def test_unknown_scheme(self):
        """A redirect to gopher:// is REDIRECT_UNKNOWN_SCHEME."""
        mirror = self.farm.add_mirror("gopher", RedirectUnknownScheme())
        result = yield self.client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.REDIRECT_UNKNOWN_SCHEME)
        self.assertLogSays(result, "Redirected to gopher://")


class LimitTests(FarmTestMixin, unittest.TestCase):
    timeout = 20

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()

    def probe_all(self, client, urls):
        return defer.gatherResults([client.probe(url) for url in urls])

    @defer.inlineCallbacks
    def test_keep_alive_reuse(self):
        """Forty HEADs to one mirror open at most the per-host limit of
        connections."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        client = self.make_client()
        results = yield self.probe_all(client, [mirror.url(RELEASE)] * 40)
        self.assertEqual({r.outcome for r in results}, {Outcome.FOUND})
        self.assertLessEqual(mirror.counters.connections, 2)
        self.assertEqual(client.stats.connections_opened,
                         mirror.counters.connections)
        self.assertEqual(client.stats.requests, 40)

    @defer.inlineCallbacks
    def test_per_host_limit(self):
        """No more than the per-host limit of requests is in flight to one
        mirror."""
        mirror = self.farm.add_mirror("m", Slow(0.05), root=self.tree)
        client = self.make_client(max_parallel_per_host=2)
        yield self.probe_all(client, [mirror.url(RELEASE)] * 8)
        self.assertEqual(mirror.counters.max_in_flight, 2)

    @defer.inlineCallbacks
    def test_global_limit_across_mirrors(self):
        """The global limit holds across all mirrors together."""
        mirrors = [self.farm.add_mirror(f"m{i}", Slow(0.05), root=self.tree)
                   for i in range(4)]
        client = self.make_client(max_parallel=3, max_parallel_per_host=2)
        yield self.probe_all(client, [m.url(RELEASE)
                                      for m in mirrors for _ in range(4)])
        self.assertEqual(self.farm.counters.max_in_flight, 3)
        self.assertTrue(all(m.counters.max_in_flight <= 2 for m in mirrors))

    @defer.inlineCallbacks
    def test_per_host_limit_follows_redirects(self):
        """The per-host limit applies to the host a redirect leads to."""
        target = self.farm.add_mirror("target", Slow(0.05), root=self.tree)
        redirectors = [self.farm.add_mirror(f"r{i}",
                                            RedirectToMirror("target"))
                       for i in range(3)]
        client = self.make_client(max_parallel_per_host=2)
        results = yield self.probe_all(
            client, [r.url(RELEASE) for r in redirectors for _ in range(3)])
        self.assertEqual({r.outcome for r in results}, {Outcome.FOUND})
        self.assertEqual(target.counters.max_in_flight, 2)


class _AnswerFirstThenHang(Behaviour):
    """The first request: answered as L{ServeTree} answers it; every later
    one: read and never answered (a mirror that dies during the run)."""

    def __init__(self):
        self.answered = 0

    def respond(self, mirror, request):
        if not self.answered:
            self.answered += 1
            ServeTree().respond(mirror, request)


class DeadHostTests(FarmTestMixin, unittest.TestCase):
    """Hosts that stop answering, on real loopback servers."""

    timeout = 20

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()

    @defer.inlineCallbacks
    def test_never_answering_host_skipped_after_three_timeouts(self):
        """A server that accepts connections and never answers costs two
        rounds of timeouts, not fifteen."""
        mirror = self.farm.add_mirror("dead", Hang())
        client = self.make_client(timeout=0.2)
        results = yield defer.gatherResults(
            [client.probe(mirror.url(f"{i}/" + RELEASE)) for i in range(30)])
        outcomes = [r.outcome for r in results]
        self.assertEqual((outcomes.count(Outcome.TIMEOUT),
                          outcomes.count(Outcome.HOST_SKIPPED)), (4, 26))
        self.assertEqual(mirror.counters.requests, 4)
        skipped = next(r for r in results
                       if r.outcome is Outcome.HOST_SKIPPED)
        self.assertLogSays(skipped,
                           f"Skipping {mirror.base_url.rstrip('/')}",
                           "3 requests timed out and it never answered")
        self.assertEqual(list(client.skipped_hosts().values()),
                         ["4 requests timed out and it never answered"])

    @defer.inlineCallbacks
    def test_host_that_answered_is_given_more_time(self):
        """A server that answered once and then hangs is not skipped after
        three timeouts."""
        mirror = self.farm.add_mirror("dying", _AnswerFirstThenHang(),
                                      root=self.tree)
        client = self.make_client(timeout=0.2)
        first = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(first.outcome, Outcome.FOUND)
        results = yield defer.gatherResults(
            [client.probe(mirror.url(f"{i}/" + RELEASE)) for i in range(8)])
        self.assertEqual([r.outcome for r in results], [Outcome.TIMEOUT] * 8)
        self.assertEqual(client.skipped_hosts(), {})


class ForgetTests(FarmTestMixin, unittest.TestCase):
    """forget: a run lets go of the sites it is done with, so that its
    memory and sockets follow the mirrors in flight."""

    timeout = 20

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()

    @defer.inlineCallbacks
    def closed(self, mirror):
        """Fires once the mirror has no connection open (or fails the
        test after five seconds)."""
        for _ in range(500):
            if not mirror.open_connections:
                return
            yield deferLater(reactor, 0.01, lambda: None)
        self.fail(f"{mirror} still has {mirror.open_connections} open")

    def url(self, mirror, host="named.test", path=RELEASE):
        return f"{mirror.scheme}://{host}:{mirror.port}/{path}"

    @defer.inlineCallbacks
    def test_a_forgotten_site_is_closed_and_measured_afresh(self):
        """Its idle connections (HTTP and FTP) are closed and what the run
        learnt of its host let go; asked again, it is reached on a new
        connection and measured anew."""
        web = self.farm.add_mirror("web", ServeTree(), root=self.tree)
        ftp = self.farm.add_ftp_mirror("ftp", self.tree)
        client = self.make_client(hosts={"named.test": ["127.0.0.1"]})
        for mirror in (web, ftp):
            result = yield client.probe(self.url(mirror))
            self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual((web.open_connections, ftp.open_connections),
                         (1, 1))
        self.assertIsNotNone(client.address_families("named.test"))
        client.forget([self.url(web, path=""), self.url(ftp, path="x/")])
        yield self.closed(web)
        yield self.closed(ftp)
        self.assertIsNone(client.address_families("named.test"))
        result = yield client.probe(self.url(web))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual(web.counters.connections, 2)
        self.assertEqual(client.address_families("named.test"),
                         AddressFamilies(ipv4=True, ipv6=False))

    @defer.inlineCallbacks
    def test_a_host_is_kept_while_another_of_its_sites_is(self):
        """Forgetting one site of a host name keeps what the run knows of
        the name while another of its sites is kept: a mirror still in
        flight there reports the families it was measured on."""
        one = self.farm.add_mirror("one", ServeTree(), root=self.tree)
        two = self.farm.add_mirror("two", ServeTree(), root=self.tree)
        client = self.make_client(hosts={"named.test": ["127.0.0.1"]})
        for mirror in (one, two):
            yield client.probe(self.url(mirror))
        client.forget([self.url(one)])
        yield self.closed(one)
        self.assertEqual(two.open_connections, 1)
        self.assertEqual(client.address_families("named.test"),
                         AddressFamilies(ipv4=True, ipv6=False))
        client.forget([self.url(two)])
        self.assertIsNone(client.address_families("named.test"))

    @defer.inlineCallbacks
    def test_a_site_with_requests_in_flight_is_kept(self):
        """A site requests are in flight to, or wait for, is not
        forgotten: the run goes on counting its timeouts, gives up on it
        and names it among the skipped."""
        mirror = self.farm.add_mirror("dead", Hang())
        client = self.make_client(timeout=0.2)
        probes = [client.probe(mirror.url(f"{i}/" + RELEASE))
                  for i in range(6)]
        client.forget([mirror.base_url])
        results = yield defer.gatherResults(probes)
        self.assertEqual([r.outcome for r in results].count(
            Outcome.HOST_SKIPPED), 2)
        self.assertEqual(list(client.skipped_hosts()),
                         [mirror.base_url.rstrip("/")])

    @defer.inlineCallbacks
    def test_a_skipped_site_stays_skipped(self):
        """A site the run gave up on is still named by skipped_hosts once
        forgotten, and asked again is skipped without a request."""
        mirror = self.farm.add_mirror("dead", Hang())
        client = self.make_client(timeout=0.2)
        yield defer.gatherResults(
            [client.probe(mirror.url(f"{i}/" + RELEASE)) for i in range(6)])
        skipped = client.skipped_hosts()
        self.assertEqual(len(skipped), 1)
        asked = mirror.counters.requests
        client.forget([mirror.base_url])
        self.assertEqual(client.skipped_hosts(), skipped)
        result = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.HOST_SKIPPED)
        self.assertEqual(mirror.counters.requests, asked)


class _AnswerDuringStall:
    """A server in a thread of its own, on loopback: once it has read a
    request, it stalls the reactor (as the prober's writer thread does when
    what it hands back starts a long piece of work) with a call from its
    thread that blocks for longer than C{stall} seconds, and answers 200
    during that stall, while nothing reads it."""

    def __init__(self, stall):
        self.stall = stall
        self.stalling = threading.Event()
        self.finished = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        connection, _ = self.listener.accept()
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            reactor.callFromThread(self.block)
            self.stalling.wait(10)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                               b"\r\n")
            self.finished.wait(10)

    def block(self):
        self.stalling.set()
        time.sleep(self.stall)

    def close(self):
        self.stalling.set()
        self.finished.set()
        self.listener.close()
        self.thread.join(10)


class StallTests(FarmTestMixin, unittest.TestCase):
    """The event loop busy past the timeout while an answer waits."""

    timeout = 20

    @defer.inlineCallbacks
    def test_answer_that_came_in_time_is_read_before_giving_up(self):
        """An answer that reached the prober within the timeout, while its
        event loop was stalled, is FOUND: the mirror is judged by what it
        sent, not by how busy the prober was."""
        server = _AnswerDuringStall(stall=1.0)
        self.addCleanup(server.close)
        client = self.make_client(timeout=0.3)
        result = yield client.probe("http://127.0.0.1:%d/ubuntu/%s"
                                    % (server.port, RELEASE))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertLogSays(result, "HTTP/1.1 200 OK")


class ClockTests(unittest.TestCase):
    """Timing logic on a fake clock: connections never complete."""

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.client = ProbeClient(self.reactor, timeout=30,
                                  allowed_networks=["192.0.2.0/24"])

    def test_timeout_covers_connect(self):
        """A connection that never completes is TIMEOUT after the timeout,
        not before."""
        d = self.client.probe("http://192.0.2.7/ubuntu/" + RELEASE)
        self.reactor.advance(29)
        self.assertNoResult(d)
        self.reactor.advance(1)
        result = self.successResultOf(d)
        self.assertEqual(result.outcome, Outcome.TIMEOUT)
        self.assertEqual(result.finished - result.started, 30)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_waiting_for_a_slot_is_not_timed(self):
        """The timeout starts when the request starts, not while it waits
        for a slot."""
        client = ProbeClient(self.reactor, timeout=30,
                             allowed_networks=["192.0.2.0/24"],
                             max_parallel_per_host=1)
        first = client.probe("http://192.0.2.7/a/" + RELEASE)
        second = client.probe("http://192.0.2.7/b/" + RELEASE)
        self.reactor.advance(30)
        self.assertEqual(self.successResultOf(first).outcome,
                         Outcome.TIMEOUT)
        self.assertNoResult(second)
        self.reactor.advance(30)
        self.assertEqual(self.successResultOf(second).outcome,
                         Outcome.TIMEOUT)

    def answer(self, index,
               response=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"):
        """Complete the reactor's C{index}th connection attempt and answer
        the request sent on it."""
        host, port, factory = self.reactor.tcpClients[index][:3]
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(
            StringTransport(peerAddress=_peer(host, port)))
        protocol.dataReceived(response)

    def test_host_never_answering_skipped_after_three_timeouts(self):
        """A host whose first three requests time out without any answer is
        skipped: the waiting requests end at once."""
        url = "http://192.0.2.7/ubuntu/" + RELEASE
        probes = [self.client.probe(url) for _ in range(40)]
        self.reactor.advance(30)
        self.assertEqual(sum(1 for d in probes if d.called), 2)
        self.reactor.advance(30)
        results = [self.successResultOf(d) for d in probes]
        outcomes = [r.outcome for r in results]
        # The third timeout skips the host; the fourth request was already
        # in flight beside it and times out at the same moment.
        self.assertEqual(outcomes.count(Outcome.TIMEOUT), 4)
        self.assertEqual(outcomes.count(Outcome.HOST_SKIPPED), 36)
        self.assertEqual(len(self.reactor.tcpClients), 4)
        skipped = [r for r in results if r.outcome is Outcome.HOST_SKIPPED]
        self.assertEqual({r.finished for r in skipped}, {60})
        self.assertIn("3 requests timed out and it never answered",
                      "\n".join(skipped[0].log_lines))
        self.assertEqual(
            self.client.skipped_hosts(),
            {"http://192.0.2.7:80":
             "4 requests timed out and it never answered"}
        )
        later = self.successResultOf(
            self.client.probe("http://192.0.2.7/other/" + RELEASE))
        self.assertEqual(later.outcome, Outcome.HOST_SKIPPED)
        other = self.client.probe("http://192.0.2.8/ubuntu/" + RELEASE)
        self.assertNoResult(other)
        self.reactor.advance(30)
        self.assertEqual(self.successResultOf(other).outcome,
                         Outcome.TIMEOUT)

    def test_one_at_a_time_never_answering_costs_three_timeouts(self):
        """With one request at a time, a host that never answers costs
        exactly three timeouts."""
        client = ProbeClient(self.reactor, timeout=30, max_parallel_per_host=1,
                             **_DOCUMENTATION_NETWORKS)
        probes = [client.probe("http://192.0.2.7/ubuntu/" + RELEASE)
                  for _ in range(10)]
        for _ in range(3):
            self.reactor.advance(30)
        outcomes = [self.successResultOf(d).outcome for d in probes]
        self.assertEqual(outcomes,
                         [Outcome.TIMEOUT] * 3 + [Outcome.HOST_SKIPPED] * 7)
        self.assertEqual(client.skipped_hosts(),
                         {"http://192.0.2.7:80":
                          "3 requests timed out and it never answered"})

    def test_host_that_answered_keeps_the_patient_rule(self):
        """A host that answered once is skipped only after 30 requests with
        fewer than 3 per timeout."""
        url = "http://192.0.2.7/ubuntu/" + RELEASE
        first = self.client.probe(url)
        self.answer(0)
        self.assertEqual(self.successResultOf(first).outcome, Outcome.FOUND)
        probes = [self.client.probe(url) for _ in range(40)]
        for _ in range(15):
            self.reactor.advance(30)
        outcomes = [self.successResultOf(d).outcome for d in probes]
        # Launchpad's rule: judged from the 30th request on, skipped once
        # fewer than 3 requests go by per timeout.
        self.assertEqual(outcomes.count(Outcome.TIMEOUT), 29)
        self.assertEqual(outcomes.count(Outcome.HOST_SKIPPED), 11)
        later = self.successResultOf(
            self.client.probe("http://192.0.2.7/other/" + RELEASE))
        self.assertEqual(later.outcome, Outcome.HOST_SKIPPED)
        self.assertIn("29 of its 30 requests timed out",
                      "\n".join(later.log_lines))
        self.assertEqual(list(self.client.skipped_hosts()),
                         ["http://192.0.2.7:80"])

    def test_an_error_status_is_an_answer(self):
        """A 500 counts as an answer: later timeouts do not skip the host
        after three."""
        url = "http://192.0.2.7/ubuntu/" + RELEASE
        first = self.client.probe(url)
        self.answer(0, b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(self.successResultOf(first).outcome,
                         Outcome.HTTP_ERROR)
        probes = [self.client.probe(url) for _ in range(8)]
        for _ in range(4):
            self.reactor.advance(30)
        self.assertEqual([self.successResultOf(d).outcome for d in probes],
                         [Outcome.TIMEOUT] * 8)
        self.assertEqual(self.client.skipped_hosts(), {})

    def dual_stack_client(self, **kwargs):
        hosts = {"dual.test": ["192.0.2.7", "2001:db8::7"]}
        return ProbeClient(self.reactor, timeout=30, hosts=hosts,
                           **_DOCUMENTATION_NETWORKS, **kwargs)

    def test_timeout_covers_every_address(self):
        """A host none of whose addresses connects is TIMEOUT after the
        timeout, every attempt stopped."""
        client = self.dual_stack_client()
        d = client.probe("http://dual.test/ubuntu/" + RELEASE)
        self.assertEqual([c[0] for c in self.reactor.tcpClients],
                         ["2001:db8::7"])
        self.reactor.advance(0.25)
        self.assertEqual([c[0] for c in self.reactor.tcpClients],
                         ["2001:db8::7", "192.0.2.7"])
        self.reactor.advance(29.75)
        self.assertEqual(self.successResultOf(d).outcome, Outcome.TIMEOUT)
        self.assertEqual([c.stoppedConnecting
                          for c in self.reactor.connectors], [True, True])
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=False, ipv6=False))

    def test_blackholed_ipv6_costs_the_stagger_delay(self):
        """When IPv6 never answers and IPv4 does, the probe is answered over
        IPv4 a quarter second late."""
        client = self.dual_stack_client()
        d = client.probe("http://dual.test/ubuntu/" + RELEASE)
        self.reactor.advance(0.25)
        self.answer(1)
        result = self.successResultOf(d)
        self.assertEqual((result.outcome, result.elapsed),
                         (Outcome.FOUND, 0.25))
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=True, ipv6=False))

    def test_parallel_connections_start_on_different_families(self):
        """Two requests at once to a dual-stack host open one connection
        starting with IPv6 and one starting with IPv4, so both families are
        measured."""
        client = self.dual_stack_client()
        first = client.probe("http://dual.test/a/" + RELEASE)
        second = client.probe("http://dual.test/b/" + RELEASE)
        self.assertEqual([c[0] for c in self.reactor.tcpClients],
                         ["2001:db8::7", "192.0.2.7"])
        self.answer(0)
        self.answer(1)
        self.assertEqual({self.successResultOf(d).outcome
                          for d in (first, second)}, {Outcome.FOUND})
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=True, ipv6=True))

    def test_dns_lookup_is_timed(self):
        """A name server that never answers ends in DNS_ERROR after the
        timeout."""
        self.reactor.installNameResolver(_SilentResolver())
        d = self.client.probe("http://mirror.example.org/ubuntu/" + RELEASE)
        self.reactor.advance(29)
        self.assertNoResult(d)
        self.reactor.advance(1)
        result = self.successResultOf(d)
        self.assertEqual(result.outcome, Outcome.DNS_ERROR)
        self.assertIn("no answer within 30 s", "\n".join(result.log_lines))

    def test_skip_threshold(self):
        """Three requests per timeout keep a host that answered in the run;
        fewer skip it."""
        state = self.client._host(Site("http", "192.0.2.7", 80))
        state.answered = True
        state.requests, state.timeouts = 30, 10
        self.assertIsNone(self.client._skip_reason(state))
        state.timeouts = 11
        self.assertIsNotNone(self.client._skip_reason(state))

    def test_skip_threshold_without_answer(self):
        """Two timeouts keep a host that never answered in the run; three
        skip it."""
        state = self.client._host(Site("http", "192.0.2.7", 80))
        state.requests, state.timeouts = 2, 2
        self.assertIsNone(self.client._skip_reason(state))
        state.requests, state.timeouts = 3, 3
        self.assertEqual(self.client._skip_reason(state),
                         "3 requests timed out and it never answered")


# Addresses reserved for documentation: a fake reactor "connects" to them
# and nothing goes on any network.
_DOCUMENTATION_NETWORKS = {
    "allowed_networks": ["192.0.2.0/24", "2001:db8::/32"]}


def _peer(host, port):
    if ":" in host:
        return IPv6Address("TCP", host, port)
    return IPv4Address("TCP", host, port)


@implementer(IHostnameResolver)
class _SilentResolver:
    """A name resolver whose lookups never complete (a dead DNS server)."""

    def resolveHostName(self, receiver, hostName, portNumber=0,
                        addressTypes=None, transportSemantics="TCP"):
        receiver.resolutionBegan(None)


class TLSTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()

    def tls_client(self, **kwargs):
        kwargs.setdefault("trust_root", self.farm.ca.certificate)
        return self.make_client(**kwargs)

    @defer.inlineCallbacks
    def test_valid_certificate_with_sni(self):
        """A certificate from a trusted CA naming the host (sent by SNI) is
        accepted, over one kept-alive connection."""
        mirror = self.farm.add_mirror("s", ServeTree(), root=self.tree,
                                      tls="valid",
                                      hostname="secure.mirror.test")
        client = self.tls_client(hosts={"secure.mirror.test": ["127.0.0.1"]})
        first = yield client.probe(mirror.url(RELEASE))
        second = yield client.probe(mirror.url(PACKAGES))
        self.assertEqual((first.outcome, second.outcome),
                         (Outcome.FOUND, Outcome.FOUND))
        self.assertEqual(first.final_url,
                         "https://secure.mirror.test:%d/%s"
                         % (mirror.port, RELEASE))
        self.assertEqual(mirror.counters.connections, 1)

    @defer.inlineCallbacks
    def test_valid_certificate_for_an_address(self):
        """A certificate naming the IP address asked for is accepted."""
        mirror = self.farm.add_mirror("s", ServeTree(), root=self.tree,
                                      tls="valid")
        result = yield self.tls_client().probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.FOUND)

    @defer.inlineCallbacks
    def test_untrusted_ca(self):
        """Without the farm's CA in the trust roots its certificates fail
        with TLS_ERROR."""
        mirror = self.farm.add_mirror("s", ServeTree(), root=self.tree,
                                      tls="valid")
        result = yield self.make_client().probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.TLS_ERROR)
        self.assertEqual(mirror.counters.requests, 0)

    @defer.inlineCallbacks
    def check_bad_certificate(self, tls, says):
        mirror = self.farm.add_mirror("bad", ServeTree(), root=self.tree,
                                      tls=tls, hostname="bad.mirror.test")
        client = self.tls_client(hosts={"bad.mirror.test": ["127.0.0.1"]})
        first = yield client.probe(mirror.url(RELEASE))
        second = yield client.probe(mirror.url(PACKAGES))
        self.assertEqual((first.outcome, second.outcome),
                         (Outcome.TLS_ERROR, Outcome.HOST_SKIPPED))
        self.assertLogSays(first, "TLS failure with https://bad.mirror.test",
                           says)
        self.assertLogSays(second, "Skipping https://bad.mirror.test",
                           "certificate failed verification")
        self.assertEqual(mirror.counters.connections, 1)
        self.assertEqual(mirror.counters.requests, 0)
        self.assertEqual(list(client.skipped_hosts()),
                         [f"https://bad.mirror.test:{mirror.port}"])

    def test_self_signed(self):
        """A self-signed certificate fails once with TLS_ERROR; the host is
        skipped after."""
        return self.check_bad_certificate("self-signed",
                                          "certificate verify failed")

    def test_wrong_host(self):
        """A trusted certificate for another name fails once with TLS_ERROR;
        the host is skipped after."""
        return self.check_bad_certificate("wrong-host",
                                          "does not name this host")


class AddressPolicyTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()

    @defer.inlineCallbacks
    def test_loopback_refused_by_default(self):
        """A client allowing no network beyond the global ones refuses a
        loopback URL without connecting."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        client = self.make_client(allowed_networks=())
        result = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.FORBIDDEN_ADDRESS)
        self.assertLogSays(result, "Refusing", "resolves to 127.0.0.1")
        self.assertEqual(mirror.counters.connections, 0)

    @defer.inlineCallbacks
    def test_names_and_mapped_addresses_refused(self):
        """Names resolving to private addresses, and IPv4-mapped loopback,
        are refused."""
        client = self.make_client(allowed_networks=(),
                                  hosts={"intranet.test": ["10.1.2.3"],
                                         "ll.test": ["fe80::1"]})
        for url in ["http://intranet.test/x", "http://ll.test/x",
                    "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x",
                    "http://224.0.0.1/x",
                    "http://169.254.169.254/latest/meta-data"]:
            result = yield client.probe(url)
            self.assertEqual(result.outcome, Outcome.FORBIDDEN_ADDRESS, url)

    @defer.inlineCallbacks
    def test_redirect_into_private_network_refused(self):
        """A redirect from an allowed host to a forbidden address is refused
        before connecting."""
        inside = self.farm.add_mirror("inside", ServeTree(), root=self.tree,
                                      interface="127.0.0.3")
        by_address = self.farm.add_mirror("a", RedirectToMirror("inside"),
                                          interface="127.0.0.2")
        by_name = self.farm.add_mirror(
            "b",
            RedirectToURL(
                lambda path: f"http://intranet.test:{inside.port}{path}"),
            interface="127.0.0.2"
        )
        client = self.make_client(allowed_networks=["127.0.0.2/32"],
                                  hosts={"intranet.test": ["127.0.0.3"]})
        for mirror in (by_address, by_name):
            result = yield client.probe(mirror.url(RELEASE))
            self.assertEqual(result.outcome, Outcome.FORBIDDEN_ADDRESS)
            self.assertEqual(len(result.redirects), 1)
            self.assertEqual(result.final_url, result.redirects[0])
            self.assertLogSays(result, "resolves to 127.0.0.3")
        self.assertEqual(inside.counters.connections, 0)

    @defer.inlineCallbacks
    def test_allowed_network(self):
        """An address inside an allowed network is probed."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree,
                                      interface="127.0.0.2")
        client = self.make_client(allowed_networks=["127.0.0.2/32"])
        result = yield client.probe(mirror.url(RELEASE))
        self.assertEqual(result.outcome, Outcome.FOUND)

    @defer.inlineCallbacks
    def test_any_forbidden_address_refuses_the_host(self):
        """A name resolving to an allowed and a forbidden address is
        refused."""
        client = self.make_client(
            allowed_networks=["127.0.0.2/32"],
            hosts={"mixed.test": ["127.0.0.2", "127.0.0.3"]})
        result = yield client.probe("http://mixed.test/x")
        self.assertEqual(result.outcome, Outcome.FORBIDDEN_ADDRESS)

    @defer.inlineCallbacks
    def test_every_address_judged_before_any_connection(self):
        """A name with an allowed IPv4 address and a refused IPv6 one is
        refused, neither address connected."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        client = self.make_client(allowed_networks=["127.0.0.1/32"],
                                  hosts={"dual.test": ["127.0.0.1", "::1"]})
        result = yield client.probe(
            f"http://dual.test:{mirror.port}/{RELEASE}")
        self.assertEqual(result.outcome, Outcome.FORBIDDEN_ADDRESS)
        self.assertEqual(mirror.counters.connections, 0)
        self.assertIsNone(client.address_families("dual.test"))


def _reserve(test, host, port):
    """Hold C{port} on C{host} with a socket bound but never listening, so
    that connections to it are refused for the rest of C{test}."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                         socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise unittest.SkipTest(f"cannot hold port {port} on {host}: {e}")
    test.addCleanup(sock.close)


class DualStackTests(FarmTestMixin, unittest.TestCase):
    """Hosts with several addresses, on loopback: 127.0.0.1 and ::1."""

    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()

    def url(self, mirror, host="dual.test", path=RELEASE):
        return f"{mirror.scheme}://{host}:{mirror.port}/{path}"

    @defer.inlineCallbacks
    def test_refused_ipv6_falls_back_to_ipv4(self):
        """Where ::1 refuses and 127.0.0.1 serves, the probe succeeds and
        only IPv4 is recorded as answering."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        _reserve(self, "::1", mirror.port)
        client = self.make_client(hosts={"dual.test": ["127.0.0.1", "::1"],
                                         "v4.test": ["127.0.0.1"]})
        result = yield client.probe(self.url(mirror))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual(client.stats.connections_opened, 1)
        yield client.probe(self.url(mirror, "v4.test"))
        ipv4_only = AddressFamilies(ipv4=True, ipv6=False)
        self.assertEqual(client.address_families("dual.test"), ipv4_only)
        self.assertEqual(client.address_families("DUAL.test"), ipv4_only)
        self.assertEqual(client.address_families("v4.test"), ipv4_only)
        self.assertIsNone(client.address_families("never.test"))

    @defer.inlineCallbacks
    def test_refused_ipv4_falls_back_to_ipv6(self):
        """Where 127.0.0.2 refuses and ::1 serves, only IPv6 is recorded as
        answering."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree,
                                      interface="::1")
        _reserve(self, "127.0.0.2", mirror.port)
        client = self.make_client(hosts={"dual.test": ["127.0.0.2", "::1"]})
        results = yield defer.gatherResults(
            [client.probe(self.url(mirror, path=f"{i}/{RELEASE}"))
             for i in range(4)])
        self.assertEqual([r.outcome for r in results],
                         [Outcome.NOT_FOUND] * 4)
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=False, ipv6=True))

    @defer.inlineCallbacks
    def test_both_families_measured(self):
        """A host serving on both families is recorded as answering on both:
        the second connection starts with the family the first did not
        try."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree,
                                      interface="::1")
        try:
            port = reactor.listenTCP(mirror.port, mirror._tracking,
                                     interface="127.0.0.1")
        except CannotListenError as e:
            raise unittest.SkipTest(
                f"port {mirror.port} is taken on 127.0.0.1: {e}")
        self.addCleanup(port.stopListening)
        client = self.make_client(hosts={"dual.test": ["127.0.0.1", "::1"]})
        results = yield defer.gatherResults(
            [client.probe(self.url(mirror)) for _ in range(6)])
        self.assertEqual({r.outcome for r in results}, {Outcome.FOUND})
        self.assertEqual(mirror.counters.connections, 2)
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=True, ipv6=True))

    @defer.inlineCallbacks
    def test_every_address_refused(self):
        """When every address refuses, the probe is CONNECTION_REFUSED and
        no family answered."""
        mirror = self.farm.add_refusing_mirror("gone")
        _reserve(self, "::1", mirror.port)
        client = self.make_client(hosts={"dual.test": ["127.0.0.1", "::1"]})
        result = yield client.probe(self.url(mirror))
        self.assertEqual(result.outcome, Outcome.CONNECTION_REFUSED)
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=False, ipv6=False))

    @defer.inlineCallbacks
    def test_an_error_status_is_an_answer(self):
        """A family over which only 404s came back did answer."""
        mirror = self.farm.add_mirror("m", NotFound())
        _reserve(self, "::1", mirror.port)
        client = self.make_client(hosts={"dual.test": ["127.0.0.1", "::1"]})
        result = yield client.probe(self.url(mirror))
        self.assertEqual(result.outcome, Outcome.NOT_FOUND)
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=True, ipv6=False))

    @defer.inlineCallbacks
    def test_tls_over_the_fallback_address(self):
        """Over https the certificate is checked against the name whichever
        address connected."""
        mirror = self.farm.add_mirror("s", ServeTree(), root=self.tree,
                                      tls="valid", hostname="dual.test")
        _reserve(self, "::1", mirror.port)
        client = self.make_client(trust_root=self.farm.ca.certificate,
                                  hosts={"dual.test": ["::1", "127.0.0.1"]})
        result = yield client.probe(self.url(mirror))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=True, ipv6=False))

    @defer.inlineCallbacks
    def test_ftp_falls_back(self):
        """An FTP mirror refusing on ::1 is reached on 127.0.0.1."""
        mirror = self.farm.add_ftp_mirror("f", self.tree)
        _reserve(self, "::1", mirror.port)
        client = self.make_client(hosts={"dual.test": ["127.0.0.1", "::1"]})
        result = yield client.probe(self.url(mirror))
        self.assertEqual(result.outcome, Outcome.FOUND)
        self.assertEqual(client.address_families("dual.test"),
                         AddressFamilies(ipv4=True, ipv6=False))


class ParseTests(unittest.SynchronousTestCase):
    """The URL parser's short way (plain URLs, site cached) against the long
    way."""

    def test_short_way_agrees_with_long_way(self):
        """Every URL parses to the same site, target and path with the site
        cache as without it."""
        from mirrorkeeper.prober.client import _parse

        sites = {}
        urls = [
            "http://mirror.example.org/ubuntu/dists/noble/Release",
            "http://Mirror.Example.ORG:8080/ubuntu/pool/main/a/apt/"
            "apt_2.7_amd64.deb",
            "https://127.0.0.1:8443/a+b/c~d/e(f)/g;h=i,j:k@l!$&'*",
            "ftp://ftp.example.org/debian/ls-lR.gz",
            "HTTP://mirror.example.org/ubuntu/dists/noble/Release",
            "http://mirror.example.org/ubuntu/with space/Release",
            "http://mirror.example.org/ubuntu/%7Euser/Release?x=1#frag",
            "http://[::1]:8080/ubuntu/Release",
            "http://user@mirror.example.org/ubuntu/Release",
            " http://mirror.example.org/ubuntu/Release\n",
            "http://mirror.example.org",
            "http://mirror.example.org/ubuntu/dists/noble/Release",
        ]
        for url in urls:
            self.assertEqual(_parse(url, sites), _parse(url), url)
        self.assertIn("http://mirror.example.org", sites)

    def test_bad_port_is_invalid_either_way(self):
        """A URL with a port out of range is refused with the site cache as
        without it."""
        from mirrorkeeper.prober.client import _InvalidURL, _parse

        url = "http://mirror.example.org:99999/a"
        self.assertRaises(_InvalidURL, _parse, url, {})
        self.assertRaises(_InvalidURL, _parse, url)
