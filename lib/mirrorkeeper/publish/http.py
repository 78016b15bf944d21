"""The little HTTP/1.1 the mirror list daemon speaks, written for it.

twisted.web's Site costs each request more than the daemon spends
choosing and rendering a list once its orders are drawn (its Request,
header and producer objects): on a 2-core machine a Site answering fixed
bytes served about 4,600 requests a second under wrk, and this protocol
about 13,000, where nginx served 17,600.  The daemon's clients (apt, dnf,
curl, aria2c, load balancers' health checks) need little of HTTP:

- GET and HEAD; any other method is a 405 with Allow;
- keep-alive: HTTP/1.1 keeps the connection unless asked to close it,
  HTTP/1.0 closes it unless asked to keep it; pipelined requests are
  answered in order, and a client that does not read what it asked for
  is not read from until it does (the transport's producer);
- a request body of Content-Length is skipped; a chunked one, a request
  line or headers over MAX_HEAD_BYTES, a control character in the
  request target, or a malformed request is answered with an error and
  the connection closed;
- a connection idle for IDLE_TIMEOUT seconds is closed.

    HTTPFactory(resource, reactor): resource.render(request) answers a
    Request with the body bytes, setting its code and headers.

An answer goes straight to the socket (tcp.Connection.writeSomeData)
when nothing written before it is still waiting: the transport's write()
would buffer it and send it on the reactor's next turn, registering the
socket for writing and unregistering it again (two epoll_ctl calls and
Twisted's doWrite), about 10 of the 60 microseconds of CPU a small
answer costs.  What the socket does not take then, and every answer over
TLS, goes through write() as before.

What the rest of a request costs is kept small the same way: a block of
header lines is read once and kept by its bytes (a client sends the same
ones with each request of a connection; see MAX_CACHED_BLOCKS), an
answer's header lines are written when set and its head is one join.
On this project's 2-core machine (wrk, 32 connections, `python -m bench
--only mirrorlist`, one process) that took the daemon's CPU per redirect
from about 28 to 26 microseconds, a metalink's from 38 to 32.
"""

import time
from email.utils import formatdate
from urllib.parse import unquote_to_bytes

from zope.interface import implementer

from twisted.internet import protocol
from twisted.internet.interfaces import (
    IProtocolNegotiationFactory, ISSLTransport)
from twisted.internet.tcp import Server
from twisted.logger import Logger
from twisted.web.http import RESPONSES

# A request line and its headers: twisted.web's limit too.
MAX_HEAD_BYTES = 16384
# Seconds a connection may stay idle: twisted.web's Site default.
IDLE_TIMEOUT = 60.0
# A request is one line and its headers, ended by an empty line.
_END = b"\r\n\r\n"
# What a request target may hold: anything but control characters (and
# space, which ends it).  Bytes over 127 are taken, as they were, read as
# UTF-8.
_TARGET_BYTES = bytes(range(0x21, 0x7f)) + bytes(range(0x80, 0x100))


class Request:
    """One request, as the daemon's renderer reads it: `method`, `path`
    (as sent, without the query), `args` ({name: [values]}, bytes, blank
    values kept, as twisted.web's) and its headers (getHeader()); and its
    answer, which the renderer sets (setResponseCode(), setHeader(),
    addHeader(), addHeaderLines())."""

    __slots__ = ("method", "path", "args", "code", "headers", "lines",
                 "_received", "_channel")

    def __init__(self, channel, method, path, query, received):
        self.method = method
        self.path = path
        self.args = query_args(query) if query else _NO_ARGS
        self.code = 200
        # {lower-case name: its lines, written} of the answer: written
        # when set, so that the answer only joins them.
        self.headers = {}
        # Answer header lines written as they are, after `headers`.
        self.lines = b""
        self._received = received
        self._channel = channel

    def getHeader(self, name):
        """The value of request header `name` (bytes, any case), several
        lines of it joined by commas; None when not sent."""
        return self._received.get(name.lower())

    def setHeader(self, name, value):
        name = name.lower()
        self.headers[name] = _name(name) + b": " + value + b"\r\n"

    def addHeader(self, name, value):
        """Another line of answer header `name`."""
        name = name.lower()
        self.headers[name] = self.headers.get(name, b"") + _name(name) + \
            b": " + value + b"\r\n"

    def addHeaderLines(self, lines):
        """Answer header lines already written ("Name: value\\r\\n" each,
        bytes), sent as they are after the others: for a renderer that
        keeps them written."""
        self.lines += lines

    def setResponseCode(self, code):
        self.code = code

    def getClientAddress(self):
        return self._channel.peer

    def isSecure(self):
        """Whether the request came over TLS."""
        return self._channel.secure


# The args of a request without a query: one dict for all of them, which
# no renderer changes.
_NO_ARGS = {}


def query_args(query):
    """{name: [values]} of a query string (bytes): pairs split at "&",
    "+" read as a space and %XX decoded, blank values kept, as
    urllib.parse.parse_qs(query, keep_blank_values=True) reads it."""
    args = {}
    # Asked of the whole query once, by find(): `in` on bytes (which
    # first tries its operand as an integer) costs more than the rest of
    # a pair's reading.
    quoted = query.find(b"%") >= 0 or query.find(b"+") >= 0
    for pair in query.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        if quoted:
            name = unquote_to_bytes(name.replace(b"+", b" "))
            value = unquote_to_bytes(value.replace(b"+", b" "))
        args.setdefault(name, []).append(value)
    return args


# {lower-case header name: as written}.
_NAMES = {}


def _name(lower):
    written = _NAMES.get(lower)
    if written is None:
        written = _NAMES[lower] = b"-".join(
            part.capitalize() for part in lower.split(b"-"))
    return written


class _Date:
    """The Date header's line, made once a second."""

    second = None
    value = b""

    @classmethod
    def line(cls):
        second = int(time.time())
        if second != cls.second:
            cls.value = b"Date: %s\r\n" % formatdate(
                second, usegmt=True).encode("ascii")
            cls.second = second
        return cls.value


def _status_line(code):
    return b"HTTP/1.1 %d %s\r\n" % (code, RESPONSES.get(code, b""))


# {code: its status line}, of the codes HTTP names.
_STATUS_LINES = {code: _status_line(code) for code in RESPONSES}
# What ends an answer's head after its Date: for an HTTP/1.0 client that
# asked to keep the connection, for one whose connection is closed.
_KEEP_ALIVE_END = b"Connection: keep-alive\r\n\r\n"
_CLOSE_END = b"Connection: close\r\n\r\n"


class _Headers:
    """What a block of request header lines says: `received` ({lower-case
    name: value}, several lines of a name joined by commas), the body's
    `length` (-1 for a bad Content-Length), whether it is `chunked` (any
    Transfer-Encoding), and whether an HTTP/1.1 (`keep_1_1`) or other
    HTTP/1 (`keep_1_0`) client's connection is kept after the answer."""

    __slots__ = ("received", "length", "chunked", "keep_1_1", "keep_1_0")

    @classmethod
    def read(cls, block):
        """The _Headers of `block` (the lines after the request line, CRLF
        between them); None if a line is not a header."""
        received = {}
        if block:
            for line in block.split(b"\r\n"):
                name, colon, value = line.partition(b":")
                name = name.lower()
                if not colon or not name or name != name.strip():
                    return None
                value = value.strip()
                if name in received:
                    value = received[name] + b", " + value
                received[name] = value
        headers = cls()
        headers.received = received
        headers.chunked = b"transfer-encoding" in received
        try:
            headers.length = max(-1, int(received.get(b"content-length",
                                                      0)))
        except ValueError:
            headers.length = -1
        connection = received.get(b"connection", b"").lower()
        headers.keep_1_1 = not connection or b"close" not in connection
        headers.keep_1_0 = bool(connection) and b"keep-alive" in connection
        return headers


# The _Headers of the header blocks read last, by the block's bytes: a
# client sends the same headers with each request of a connection, and
# the clients of one version (or one proxy) the same ones as each other.
# Bounded, oldest out first, and only of blocks up to
# MAX_CACHED_BLOCK_BYTES: headers that vary with every request (an
# attacker's) cost one read each, as without it, and at most about
# MAX_CACHED_BLOCKS * MAX_CACHED_BLOCK_BYTES of memory.
MAX_CACHED_BLOCKS = 4096
MAX_CACHED_BLOCK_BYTES = 1024
_BLOCKS = {}


class HTTPChannel(protocol.Protocol):
    """One connection: requests read from it in order, each answered by
    the factory's render(request)."""

    log = Logger()

    def __init__(self, render, clock):
        self.render = render
        self.clock = clock
        self.secure = False
        self.peer = None
        self._buffer = b""
        # Bytes of a request body still to skip.
        self._skip = 0
        self._paused = False
        self._closing = False
        # When data last came (the clock's seconds), and the call that
        # looks whether it has been idle since: a request only notes the
        # time, where moving a timeout's call on each one costs more.
        self._active = None
        self._idle_check = None

    def connectionMade(self):
        self.secure = ISSLTransport.providedBy(self.transport)
        self.peer = self.transport.getPeer()
        self.transport.registerProducer(self, True)
        self._active = self.clock.seconds()
        self._idle_check = self.clock.callLater(IDLE_TIMEOUT, self._idle)

    def connectionLost(self, reason):
        if self._idle_check is not None and self._idle_check.active():
            self._idle_check.cancel()
        self._idle_check = None
        self._closing = True

    def _idle(self):
        """Close the connection if it has been idle IDLE_TIMEOUT seconds,
        else look again when it will have been."""
        idle = self.clock.seconds() - self._active
        if idle >= IDLE_TIMEOUT:
            self._idle_check = None
            self.timeoutConnection()
        else:
            self._idle_check = self.clock.callLater(IDLE_TIMEOUT - idle,
                                                    self._idle)

    # The transport's producer: while the client does not read its
    # answers, nothing more is read from it.

    def pauseProducing(self):
        self._paused = True
        self.transport.pauseProducing()

    def resumeProducing(self):
        self._paused = False
        self.transport.resumeProducing()
        if self._buffer and not self._closing:
            self.dataReceived(b"")

    def stopProducing(self):
        self._closing = True

    def dataReceived(self, data):
        self._active = self.clock.seconds()
        if self._skip:
            skipped = min(self._skip, len(data))
            self._skip -= skipped
            data = data[skipped:]
        buffer = self._buffer + data if self._buffer else data
        start = 0
        while not (self._paused or self._closing):
            end = buffer.find(_END, start)
            if end < 0:
                break
            head = buffer[start:end]
            start = end + len(_END)
            length = self._request(head)
            if length:
                available = len(buffer) - start
                if available < length:
                    self._skip = length - available
                    start = len(buffer)
                else:
                    start += length
        rest = buffer[start:]
        if len(rest) > MAX_HEAD_BYTES and not self._closing:
            self._refuse(431, b"request line and headers over %d bytes\n"
                         % MAX_HEAD_BYTES)
            rest = b""
        self._buffer = rest

    def _request(self, head):
        """Answer the request of `head` (its line and headers); the length
        of the body that follows it, to skip."""
        if len(head) > MAX_HEAD_BYTES:
            return self._refuse(431, b"request line and headers over %d "
                                b"bytes\n" % MAX_HEAD_BYTES)
        end = head.find(b"\r\n")
        if end < 0:
            line, block = head, b""
        else:
            line, block = head[:end], head[end + 2:]
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return self._refuse(400, b"not an HTTP/1 request line\n")
        method, target, version = parts
        headers = _BLOCKS.get(block)
        if headers is None:
            headers = _Headers.read(block)
            if headers is None:
                return self._refuse(400, b"malformed header line\n")
            if len(block) <= MAX_CACHED_BLOCK_BYTES:
                if len(_BLOCKS) >= MAX_CACHED_BLOCKS:
                    del _BLOCKS[next(iter(_BLOCKS))]
                _BLOCKS[block] = headers
        if headers.chunked:
            return self._refuse(501, b"request bodies other than of a "
                                b"Content-Length are not taken\n")
        length = headers.length
        if length < 0:
            return self._refuse(400, b"bad Content-Length\n")
        if target.translate(None, _TARGET_BYTES):
            # A control character (a bare line feed would end the
            # Location header a redirect writes the path into).
            return self._refuse(400, b"control character in the request "
                                b"target\n")
        if target[:1] != b"/":
            # The absolute form a proxy may send: http://host/path.
            scheme, found, rest = target.partition(b"://")
            if not found or scheme.lower() not in (b"http", b"https"):
                return self._refuse(400, b"bad request target\n")
            target = b"/" + rest.partition(b"/")[2]
        path, _, query = target.partition(b"?")
        if version == b"HTTP/1.1":
            keep, old_client = headers.keep_1_1, False
        else:
            keep, old_client = headers.keep_1_0, version == b"HTTP/1.0"
        request = Request(self, method, path, query, headers.received)
        if method == b"GET" or method == b"HEAD":
            try:
                body = self.render(request)
            except Exception:
                self.log.failure("Answering {method} {target}",
                                 method=method, target=target)
                request = Request(self, method, path, query,
                                  headers.received)
                request.code = 500
                request.setHeader(b"content-type",
                                  b"text/plain; charset=utf-8")
                body = b"the daemon failed to answer; it logged why\n"
        else:
            request.code = 405
            request.setHeader(b"allow", b"GET, HEAD")
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            body = b"only GET and HEAD are answered here\n"
        self._answer(request, body, method == b"HEAD", keep, old_client)
        return length

    def _answer(self, request, body, head_only, keep, old_client):
        status = _STATUS_LINES.get(request.code)
        if status is None:
            status = _status_line(request.code)
        if keep:
            end = _KEEP_ALIVE_END if old_client else b"\r\n"
        else:
            end = _CLOSE_END
        self._send(b"".join((
            status, *request.headers.values(), request.lines,
            b"Content-Length: %d\r\n" % len(body), _Date.line(), end,
            b"" if head_only else body)))
        if not keep:
            self._closing = True
            self.transport.loseConnection()

    def _send(self, data):
        """Write `data`: straight to the socket when nothing written
        before is waiting (see the module docstring)."""
        transport = self.transport
        if type(transport) is Server and transport.connected and not (
                transport.dataBuffer or transport._tempDataBuffer
                or transport.disconnecting):
            sent = transport.writeSomeData(data)
            if type(sent) is not int:
                # The connection is lost: Twisted finds out on its own.
                return
            data = data[sent:]
        if data:
            transport.write(data)

    def _refuse(self, code, text):
        """Answer `code` with `text` and close the connection."""
        request = Request(self, b"", b"", b"", {})
        request.code = code
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        self._answer(request, text, False, False, False)
        return 0

    def timeoutConnection(self):
        self._closing = True
        self.transport.loseConnection()


@implementer(IProtocolNegotiationFactory)
class HTTPFactory(protocol.Factory):
    """Connections answered by `resource.render(request)` (see the module
    docstring); `clock` times out idle ones.  Over TLS it offers
    http/1.1 by ALPN, since it speaks no HTTP/2."""

    def __init__(self, resource, clock):
        self.resource = resource
        self.clock = clock

    def acceptableProtocols(self):
        return [b"http/1.1"]

    def buildProtocol(self, address):
        channel = HTTPChannel(self.resource.render, self.clock)
        channel.factory = self
        return channel
