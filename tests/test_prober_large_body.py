"""A mirror sending a control file as large as allowed: the prober hashes
it as it arrives and holds no more of it than a read, against a real
server on loopback that streams the body (and keeps none of it either)."""

import hashlib
import tracemalloc

from twisted.internet import defer, reactor
from twisted.internet.interfaces import IPullProducer
from twisted.internet.protocol import Factory, Protocol
from twisted.trial import unittest
from zope.interface import implementer

from mirrorkeeper.enums import ProbeOutcome
from mirrorkeeper.prober.client import ProbeClient
from mirrorkeeper.prober.plan import ReleaseCheck
from mirrorkeeper.prober.run import release_finding

# 64 KiB of every byte value, sent again and again.
BLOCK = bytes(range(256)) * 256
BLOCKS = 192  # 12 MiB: under the 16 MiB a control file may be.
LIMIT = 16 * 1024 * 1024


def _expected_sha256():
    digest = hashlib.sha256()
    for _ in range(BLOCKS):
        digest.update(BLOCK)
    return digest.hexdigest()


@implementer(IPullProducer)
class _Body:
    """Writes the body a block each time the transport asks for more."""

    def __init__(self, transport):
        self.transport = transport
        self.left = BLOCKS

    def resumeProducing(self):
        self.transport.write(BLOCK)
        self.left -= 1
        if not self.left:
            self.transport.unregisterProducer()

    def stopProducing(self):
        self.left = 0


class _LargeAnswer(Protocol):
    """Every request: 200 with a body of BLOCKS blocks, framed by
    Content-Length or chunked (as the factory says)."""

    def dataReceived(self, data):
        if b"\r\n\r\n" not in data:
            return
        if self.factory.chunked:
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            self.transport.registerProducer(_Chunks(self.transport), False)
        else:
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                % (len(BLOCK) * BLOCKS,))
            self.transport.registerProducer(_Body(self.transport), False)


class _Chunks(_Body):
    def resumeProducing(self):
        self.transport.write(b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK))
        self.left -= 1
        if not self.left:
            self.transport.write(b"0\r\n\r\n")
            self.transport.unregisterProducer()


class LargeBodyTests(unittest.TestCase):
    timeout = 60

    def serve(self, chunked):
        factory = Factory.forProtocol(_LargeAnswer)
        factory.chunked = chunked
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        client = ProbeClient(reactor, allowed_networks=("127.0.0.0/8",))
        self.addCleanup(client.close)
        url = "http://127.0.0.1:%d/ubuntu/dists/noble/InRelease" % (
            port.getHost().port,)
        return client, url

    @defer.inlineCallbacks
    def fetch_measured(self, chunked):
        client, url = self.serve(chunked)
        tracemalloc.start()
        self.addCleanup(tracemalloc.stop)
        tracemalloc.reset_peak()
        result = yield client.fetch(url, LIMIT, keep_body=False)
        _, peak = tracemalloc.get_traced_memory()
        return result, peak

    @defer.inlineCallbacks
    def check(self, chunked):
        result, peak = yield self.fetch_measured(chunked)
        self.assertEqual(result.outcome, ProbeOutcome.FOUND)
        self.assertIsNone(result.body)
        self.assertEqual(result.sha256, _expected_sha256())
        # A few reads' worth, where keeping the body would cost twice
        # its 12 MiB (its pieces, then joined).
        self.assertLess(peak, 2 * 1024 * 1024)
        finding = release_finding(ReleaseCheck(
            "noble InRelease", result.url, _expected_sha256(), LIMIT),
            result)
        self.assertEqual((finding.found, finding.sha256),
                         (True, _expected_sha256()))
        self.assertIn("the master's current one", finding.note)

    def test_content_length_body_is_hashed_not_kept(self):
        """A 12 MiB body framed by Content-Length is hashed right and
        costs the prober under 2 MiB."""
        return self.check(chunked=False)

    def test_chunked_body_is_hashed_not_kept(self):
        """A 12 MiB chunked body is hashed right and costs the prober
        under 2 MiB."""
        return self.check(chunked=True)

    @defer.inlineCallbacks
    def test_kept_body_is_the_one_hashed(self):
        """A body kept is there whole, with the same SHA-256."""
        client, url = self.serve(chunked=False)
        result = yield client.fetch(url, LIMIT)
        self.assertEqual(len(result.body), len(BLOCK) * BLOCKS)
        self.assertEqual(result.sha256, _expected_sha256())
        self.assertEqual(hashlib.sha256(result.body).hexdigest(),
                         result.sha256)
