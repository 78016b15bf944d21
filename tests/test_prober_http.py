"""The lean HTTP client protocol and its connection pool, against real
servers on loopback."""

import socket

from twisted.internet import defer, reactor
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from mirrorkeeper.prober.http import (
    BodyTooLarge,
    ConnectionDropped,
    HTTPClientProtocol,
    HTTPConnectionPool,
    HTTPProtocolError,
    Site,
)
from tests.farm import (
    DropReusedConnection, Hang, HugeHeaders, RawHTTP, ServeTree)
from tests.farm.testing import RELEASE, FarmTestMixin


class PoolTests(FarmTestMixin, unittest.TestCase):
    timeout = 10

    def setUp(self):
        self.tree = self.make_tree()
        self.farm = self.make_farm()
        self.pool = HTTPConnectionPool(reactor)
        self.addCleanup(self.pool.close)

    def request(self, mirror, path="/" + RELEASE, method=b"HEAD", max_body=0):
        """Send one request; a Deferred firing with what its receiver is
        told (its C{handle} is the request in flight)."""
        site = Site("http", mirror.host, mirror.port)
        receiver = Receiver()
        receiver.deferred.handle = self.pool.request(
            site, mirror.host, method, path.encode(), receiver, (), max_body)
        return receiver.deferred

    def raw(self, response, close=False):
        return self.farm.add_mirror(
            "raw", RawHTTP(lambda method, path: response, close))

    @defer.inlineCallbacks
    def test_head_has_no_body_and_keeps_the_connection(self):
        """HEAD answers carry only headers, and later requests reuse the
        connection."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        responses = []
        for _ in range(5):
            responses.append((yield self.request(mirror)))
        self.assertEqual([r.status for r in responses], [200] * 5)
        self.assertIsNone(responses[0].body)
        self.assertNotEqual(responses[0].headers["content-length"], "0")
        self.assertEqual([r.reused for r in responses],
                         [False, True, True, True, True])
        self.assertEqual(mirror.counters.connections, 1)
        self.assertEqual(self.pool.connections_opened, 1)

    @defer.inlineCallbacks
    def test_content_length_zero_head(self):
        """A HEAD answer with Content-Length: 0 completes and the connection
        is reused."""
        mirror = self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        first = yield self.request(mirror)
        second = yield self.request(mirror)
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertEqual(mirror.counters.connections, 1)

    @defer.inlineCallbacks
    def test_get_with_content_length(self):
        """GET returns the file's bytes."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        response = yield self.request(mirror, method=b"GET", max_body=10000)
        self.assertTrue(response.body.startswith(b"Suite: noble\n"))

    @defer.inlineCallbacks
    def test_get_chunked(self):
        """A chunked GET body is reassembled and the connection stays
        usable."""
        mirror = self.farm.add_mirror("m", ServeTree(chunked=True),
                                      root=self.tree)
        response = yield self.request(mirror, method=b"GET", max_body=10000)
        self.assertEqual(response.headers.get("transfer-encoding"), "chunked")
        self.assertTrue(response.body.startswith(b"Suite: noble\n"))
        again = yield self.request(mirror)
        self.assertTrue(again.reused)

    @defer.inlineCallbacks
    def test_body_until_close(self):
        """A body without length ends when the server closes, and that
        connection is not reused."""
        mirror = self.raw(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it",
            close=True)
        response = yield self.request(mirror, method=b"GET", max_body=100)
        self.assertEqual(response.body, b"all of it")
        yield self.request(mirror, method=b"GET", max_body=100)
        self.assertEqual(mirror.counters.connections, 2)

    @defer.inlineCallbacks
    def test_http10_without_keep_alive_is_not_reused(self):
        """An HTTP/1.0 answer without keep-alive means a new connection for
        the next request."""
        mirror = self.raw(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        yield self.request(mirror)
        second = yield self.request(mirror)
        self.assertFalse(second.reused)
        self.assertEqual(mirror.counters.connections, 2)

    @defer.inlineCallbacks
    def test_interim_response_skipped(self):
        """A 100 Continue before the real answer is passed over."""
        mirror = self.raw(b"HTTP/1.1 100 Continue\r\n\r\n"
                          b"HTTP/1.1 404 Not Found\r\n"
                          b"Content-Length: 0\r\n\r\n")
        response = yield self.request(mirror)
        self.assertEqual(response.status, 404)

    def test_huge_headers(self):
        """Headers larger than the limit fail with HTTPProtocolError."""
        mirror = self.farm.add_mirror("m", HugeHeaders(size=300 * 1024))
        return self.assertFailure(self.request(mirror), HTTPProtocolError)

    def test_endless_headers_without_end(self):
        """Headers that never end fail once past the limit, not when the
        server stops."""
        mirror = self.raw(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 20000)
        return self.assertFailure(self.request(mirror), HTTPProtocolError)

    def test_bad_status_line(self):
        """A status line that is not HTTP fails with HTTPProtocolError."""
        mirror = self.raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        return self.assertFailure(self.request(mirror), HTTPProtocolError)

    def test_body_too_large_by_length(self):
        """A Content-Length above the limit fails with BodyTooLarge before
        the body is read."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        return self.assertFailure(
            self.request(mirror, method=b"GET", max_body=10), BodyTooLarge)

    def test_body_too_large_chunked(self):
        """A chunked body growing past the limit fails with BodyTooLarge."""
        mirror = self.farm.add_mirror("m", ServeTree(chunked=True),
                                      root=self.tree)
        return self.assertFailure(
            self.request(mirror, method=b"GET", max_body=10), BodyTooLarge)

    @defer.inlineCallbacks
    def test_reused_connection_closed_is_retried_once(self):
        """When a kept-alive connection dies before any answer, the request
        is sent again on a new one."""
        mirror = self.farm.add_mirror("m", DropReusedConnection(),
                                      root=self.tree)
        first = yield self.request(mirror)
        second = yield self.request(mirror)
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertTrue(second.retried)
        self.assertEqual(mirror.counters.connections, 2)

    @defer.inlineCallbacks
    def test_fresh_connection_closed_is_not_retried(self):
        """A new connection closed without an answer fails with
        ConnectionDropped, without retrying."""
        mirror = self.raw(b"", close=True)
        yield self.assertFailure(self.request(mirror), ConnectionDropped)
        self.assertEqual(mirror.counters.connections, 1)

    @defer.inlineCallbacks
    def test_cancel_aborts_the_connection(self):
        """Cancelling a request closes its connection on both sides."""
        mirror = self.farm.add_mirror("m", Hang())
        d = self.request(mirror)
        while mirror.counters.requests == 0:
            yield _turn()
        d.handle.cancel()
        yield self.assertFailure(d, defer.CancelledError)
        while mirror.counters.in_flight:
            yield _turn()
        self.assertEqual(mirror._tracking.protocols, {})

    @defer.inlineCallbacks
    def test_cancel_while_connecting(self):
        """Cancelling a request still connecting stops the attempt; the
        receiver is told so once."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        d = self.request(mirror)
        d.handle.cancel()
        d.handle.cancel()
        yield self.assertFailure(d, ConnectingCancelledError)
        self.assertEqual(mirror.counters.requests, 0)

    @defer.inlineCallbacks
    def test_cancel_after_the_answer_leaves_the_connection(self):
        """Cancelling a request that was answered changes nothing: its
        connection carries the next request."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        first = self.request(mirror)
        yield first
        first.handle.cancel()
        second = yield self.request(mirror)
        self.assertTrue(second.reused)
        self.assertEqual(mirror.counters.connections, 1)

    @defer.inlineCallbacks
    def test_leftover_bytes_stop_reuse(self):
        """Bytes after a complete answer make the connection unusable for
        another request."""
        mirror = self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nJUNK")
        yield self.request(mirror)
        second = yield self.request(mirror)
        self.assertFalse(second.reused)

    @defer.inlineCallbacks
    def test_new_connection_tries_the_next_address(self):
        """A refused address is passed over for the next; the pool's record
        says which family answered."""
        mirror = self.farm.add_mirror("m", ServeTree(), root=self.tree)
        reserved = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.addCleanup(reserved.close)
        try:
            reserved.bind(("::1", mirror.port))
        except OSError as e:
            raise unittest.SkipTest(
                f"cannot hold port {mirror.port} on ::1: {e}")
        site = Site("http", "dual.test", mirror.port)
        receiver = Receiver()
        self.pool.request(site, ["::1", "127.0.0.1"], b"HEAD",
                          b"/" + RELEASE.encode(), receiver)
        response = yield receiver.deferred
        self.assertEqual(response.status, 200)
        families = self.pool.families.families("dual.test")
        self.assertEqual((families.ipv4, families.ipv6), (True, False))


class Receiver:
    """Turns what a request's receiver is told into a Deferred, and fails
    the test if it is told twice."""

    def __init__(self):
        self.deferred = defer.Deferred()

    def response_received(self, response):
        self.deferred.callback(response)

    def request_failed(self, failure):
        self.deferred.errback(failure)


def _turn():
    """A Deferred firing on the reactor's next turn."""
    d = defer.Deferred()
    reactor.callLater(0.01, d.callback, None)
    return d


class _HalfSocket(socket.socket):
    """A socket whose send takes only the first half of what it is given."""

    def __init__(self):
        super().__init__(socket.AF_INET, socket.SOCK_STREAM)
        self.taken = []

    def send(self, data, *flags):
        half = len(data) // 2
        self.taken.append(bytes(data[:half]))
        return half


class _HandleTransport(StringTransport):
    def __init__(self, handle):
        super().__init__()
        self.handle = handle

    def getHandle(self):
        return self.handle


class DirectSendTests(unittest.SynchronousTestCase):
    def test_partial_send_goes_on_through_the_transport(self):
        """A request the socket takes only in part is finished through the
        transport, and every later request goes through the transport."""
        sock = _HalfSocket()
        self.addCleanup(sock.close)
        transport = _HandleTransport(sock)
        protocol = HTTPClientProtocol(on_idle=lambda c: None)
        protocol.makeConnection(transport)
        receiver = Receiver()
        protocol.request(b"HEAD", b"/a", b"Host: x\r\n", receiver)
        request = b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"
        self.assertEqual(sock.taken[0] + transport.value(), request)
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(self.successResultOf(receiver.deferred).status, 200)
        transport.clear()
        protocol.request(b"HEAD", b"/b", b"Host: x\r\n", Receiver())
        self.assertEqual(len(sock.taken), 1)
        self.assertEqual(transport.value(),
                         b"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n")

    def test_without_a_socket_handle_the_transport_sends(self):
        """A transport whose handle is not a socket (TLS) is given the whole
        request."""
        transport = _HandleTransport(object())
        protocol = HTTPClientProtocol()
        protocol.makeConnection(transport)
        protocol.request(b"HEAD", b"/a", b"Host: x\r\n", Receiver())
        self.assertEqual(transport.value(),
                         b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n")
