"""A lean keep-alive HTTP/1.1 client for the probe's hot path.

A run sends tens of thousands of HEAD requests.  twisted.web.client.Agent
spends about 240 microseconds of CPU on each; this protocol, which does only
what a probe needs (one request at a time per connection, HEAD and small
GETs, no pipelining, no streaming), spends about 45 (see doc/design.md;
both measured on an idle machine against nginx).  With its pool, it makes
58 Python function calls a request, the reactor's included, where it made
104 when each request fired a Deferred (20,000 HEADs to 100 sites on
loopback, under cProfile).

L{HTTPClientProtocol} speaks HTTP on one connection.  L{HTTPConnectionPool}
keeps idle connections per site (scheme, host, port) and reuses them,
opening a fresh connection once when a reused one turns out to be dead.
Address policy, limits, timeouts and redirects belong to the caller
(L{mirrorkeeper.prober.client.ProbeClient}).

A request tells its I{receiver} how it ended, by a plain call: no Deferred
is made or fired per request.  Only opening a connection goes through a
Deferred, the endpoint's.  Cancelling a request
aborts the connection it runs on, or the attempt to open one.
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections import namedtuple

from twisted.internet import defer
from twisted.internet.defer import CancelledError
from twisted.internet.endpoints import wrapClientTLS
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.python.failure import Failure

from mirrorkeeper.prober.connect import AddressesEndpoint, FamilyRecord

Site = namedtuple("Site", "scheme host port")
Site.__doc__ = """Where requests go: what the connection pool and the
per-host limit are keyed by.  C{host} is the name from the URL (lower case),
not the address it resolves to."""


class HTTPProtocolError(Exception):
    """The server's answer is not HTTP we accept (malformed, or headers
    larger than the limit)."""


class BodyTooLarge(Exception):
    """The body is larger than the caller's limit."""


class ConnectionDropped(Exception):
    """The connection closed before a complete response.

    @ivar reason: the L{Failure} the transport gave.
    @ivar response_started: True if any byte of the response had arrived.
    """

    def __init__(self, reason, response_started):
        super().__init__(reason.getErrorMessage() if reason is not None
                         else "closed")
        self.reason = reason
        self.response_started = response_started


class HTTPResponse:
    """One response.

    @ivar status: the status code, an int.
    @ivar reason: the reason phrase, a str.
    @ivar version: e.g. "HTTP/1.1".
    @ivar headers: dict of lower-case header name to value (repeated
        headers joined with ", ").
    @ivar body: the body, bytes, or None for HEAD and for a GET whose
        body was not kept.
    @ivar sha256: for GET, the SHA-256 of the body (hex), computed as it
        arrived; None for HEAD.
    @ivar reused: True if the request went over a connection that had
        already carried a request.
    @ivar retried: True if a reused connection died first and the request
        was sent again on a fresh one.
    """

    __slots__ = ("status", "reason", "version", "headers", "body", "sha256",
                 "reused", "retried")

    def __init__(self, status, reason, version, headers, body=None):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
        self.body = body
        self.sha256 = None
        self.reused = False
        self.retried = False

    def __repr__(self):
        return f"<HTTPResponse {self.status} {self.reason!r}>"


# Parser states.
(_IDLE, _HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS,
 _UNTIL_CLOSE) = range(8)
_NO_BODY_STATUSES = frozenset({204, 304})


class IResponseReceiver:
    """What a request tells how it ended (documentation only: any object
    with these two methods will do).  Exactly one of them is called, once.
    """

    def response_received(self, response):
        """The response came, an L{HTTPResponse}."""

    def request_failed(self, failure):
        """The request failed: a L{Failure} of L{HTTPProtocolError},
        L{BodyTooLarge}, L{ConnectionDropped}, a connection error (e.g.
        ConnectionRefusedError) or, once cancelled, CancelledError."""


class HTTPClientProtocol(Protocol):
    """HTTP/1.1 on one connection, one request at a time.

    @param on_idle: called with this protocol when a response completed and
        the connection may carry another request.
    @param on_lost: called with this protocol when the connection closed.
    @param max_header_bytes: the most bytes of status line and headers
        accepted before the answer counts as a protocol error.
    """

    # Longest chunk-size line accepted; real ones are a few hex digits.
    max_chunk_line = 1024

    def __init__(self, on_idle=None, on_lost=None, max_header_bytes=64 * 1024):
        self._on_idle = on_idle
        self._on_lost = on_lost
        self.max_header_bytes = max_header_bytes
        self._pending = None
        self._state = _IDLE
        self._buffer = b""
        self._lost_waiters = []
        self.closed = False
        self.reusable = True
        self.requests_sent = 0
        self._socket = None
        # Where the connection goes, for its pool.
        self.site = None

    def connectionMade(self):
        # Over plain TCP a request is sent straight on the socket when it
        # fits at once: the transport would only buffer it, ask the reactor
        # to watch the socket for writing, send it on the next turn of the
        # loop and stop watching (two epoll_ctl calls per request).  Once
        # anything goes through the transport, everything after does, so
        # bytes are never reordered.  A TLS transport's handle is not a
        # socket and is always left to the transport.
        handle = getattr(self.transport, "getHandle", lambda: None)()
        if isinstance(handle, socket.socket):
            self._socket = handle

    def request(self, method, target, header_block, receiver, max_body=0,
                keep_body=True):
        """Send one request.

        @param method: b"HEAD" or b"GET".
        @param target: the request target, bytes (path and query).
        @param header_block: the header lines, each ending in CRLF, bytes.
        @param receiver: an L{IResponseReceiver}, told the
            L{HTTPResponse}, or L{HTTPProtocolError}, L{BodyTooLarge},
            L{ConnectionDropped} or (see L{cancel}) CancelledError.
        @param max_body: the most body bytes accepted (GET).
        @param keep_body: whether a GET's body is kept for the response;
            if not, each piece is hashed as it arrives and let go, so that
            a large body costs no more memory than the last read.
        """
        if self.closed or self._pending is not None:
            receiver.request_failed(Failure(ConnectionDropped(None, False)))
            return
        self._method = method
        self._max_body = max_body
        self._body = [] if keep_body else None
        self._digest = hashlib.sha256() if method != b"HEAD" else None
        self._body_size = 0
        self._status = None
        self._received_any = False
        self._buffer = b""
        self._state = _HEAD
        self._pending = receiver
        self.requests_sent += 1
        self._write(b"%s %s HTTP/1.1\r\n%s\r\n"
                    % (method, target, header_block))

    def _write(self, data):
        """Send C{data}: straight on the socket if it all goes at once,
        else (and from then on) through the transport."""
        sock = self._socket
        if sock is not None:
            if not self.transport.disconnecting:
                try:
                    sent = sock.send(data)
                except OSError:
                    # EAGAIN or a real error: the transport sees it too.
                    sent = 0
                if sent == len(data):
                    return
                data = data[sent:]
            self._socket = None
        self.transport.write(data)

    def close(self):
        """Close the connection; the Deferred fires once it is closed."""
        if self.closed:
            return defer.succeed(None)
        d = defer.Deferred()
        self._lost_waiters.append(d)
        self.reusable = False
        self.transport.loseConnection()
        return d

    def cancel(self, receiver):
        """Abort C{receiver}'s request, if it is the one in flight here, and
        the connection with it; the receiver is told CancelledError."""
        if self._pending is not receiver or receiver is None:
            return
        self._pending = None
        self.reusable = False
        self.transport.abortConnection()
        receiver.request_failed(Failure(CancelledError()))

    def dataReceived(self, data):
        if self._pending is None:
            # Bytes nobody asked for: this connection cannot be trusted.
            self.reusable = False
            self.transport.loseConnection()
            return
        self._received_any = True
        self._buffer += data
        try:
            self._process()
        except (HTTPProtocolError, BodyTooLarge) as e:
            receiver, self._pending = self._pending, None
            self.reusable = False
            self.transport.abortConnection()
            if receiver is not None:
                receiver.request_failed(Failure(e))

    def _process(self):
        # Every state needs bytes to move on; a receiver told of a response
        # may have sent the next request here already, on an empty buffer.
        while self._buffer and self._pending is not None:
            state = self._state
            if state == _HEAD:
                if not self._parse_head():
                    return
            elif state == _LENGTH:
                take = self._buffer[: self._remaining]
                self._buffer = self._buffer[len(take):]
                self._remaining -= len(take)
                self._add_body(take)
                if self._remaining:
                    return
                self._complete()
            elif state == _CHUNK_SIZE:
                line = self._line(self.max_chunk_line, "chunk size line")
                if line is None:
                    return
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise HTTPProtocolError(
                        f"bad chunk size {line[:40]!r}") from None
                if size < 0:
                    raise HTTPProtocolError("negative chunk size")
                if size == 0:
                    self._state = _TRAILERS
                    self._trailer_bytes = 0
                else:
                    self._remaining = size
                    self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = self._buffer[: self._remaining]
                self._buffer = self._buffer[len(take):]
                self._remaining -= len(take)
                self._add_body(take)
                if self._remaining:
                    return
                self._state = _CHUNK_END
            elif state == _CHUNK_END:
                line = self._line(2, "chunk end")
                if line is None:
                    return
                if line:
                    raise HTTPProtocolError("chunk not followed by CRLF")
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                line = self._line(self.max_header_bytes, "trailer")
                if line is None:
                    return
                self._trailer_bytes += len(line) + 2
                if self._trailer_bytes > self.max_header_bytes:
                    raise HTTPProtocolError("trailers too large")
                if not line:
                    self._complete()
            elif state == _UNTIL_CLOSE:
                data, self._buffer = self._buffer, b""
                self._add_body(data)
                return
            else:
                return

    def _line(self, limit, what):
        """Take one line (without its line end) from the buffer, or None."""
        end = self._buffer.find(b"\n")
        if end < 0:
            if len(self._buffer) > limit:
                raise HTTPProtocolError(f"{what} too long")
            return None
        line = self._buffer[:end]
        self._buffer = self._buffer[end + 1:]
        if line.endswith(b"\r"):
            line = line[:-1]
        return line

    def _parse_head(self):
        """Parse the status line and headers if all have arrived.

        @return: True if parsing may go on with the rest of the buffer.
        """
        buffer = self._buffer
        end, sep = buffer.find(b"\r\n\r\n"), 4
        bare = buffer.find(b"\n\n")
        if bare >= 0 and (end < 0 or bare < end):
            end, sep = bare, 2
        if end < 0:
            if len(buffer) > self.max_header_bytes:
                raise HTTPProtocolError(
                    f"response headers larger than {self.max_header_bytes}"
                    " bytes"
                )
            return False
        if end > self.max_header_bytes:
            raise HTTPProtocolError(
                f"response headers larger than {self.max_header_bytes} bytes")
        head, self._buffer = buffer[:end], buffer[end + sep:]
        status_line, newline, fields = head.partition(b"\n")
        known = _STATUS_LINES.get(status_line)
        if known is None:
            known = _status_of(status_line)
        version, status, reason = known
        headers = _header_fields(fields) if newline else {}
        if 100 <= status < 200 and status != 101:
            # An interim response (100 Continue, 103 Early Hints); the real
            # one follows.
            return True
        self._response = response = HTTPResponse(status, reason, version,
                                                 headers)
        response.reused = self.requests_sent > 1
        self._keep_alive = self._persistent(version, headers)
        if (self._method == b"HEAD" or status in _NO_BODY_STATUSES
                or status == 101):
            self._complete()
            return True
        coding = headers.get("transfer-encoding", "").lower()
        if coding:
            if coding.rsplit(",", 1)[-1].strip() != "chunked":
                self._keep_alive = False
                self._state = _UNTIL_CLOSE
            else:
                self._state = _CHUNK_SIZE
            return True
        if "content-length" in headers:
            values = {v.strip() for v in headers["content-length"].split(",")}
            if len(values) != 1 or not values.copy().pop().isdigit():
                raise HTTPProtocolError(
                    "bad Content-Length"
                    f" {headers['content-length'][:40]!r}")
            self._remaining = int(values.pop())
            if self._remaining > self._max_body:
                raise BodyTooLarge(
                    f"Content-Length {self._remaining} > {self._max_body}")
            if self._remaining == 0:
                self._complete()
            else:
                self._state = _LENGTH
            return True
        self._keep_alive = False
        self._state = _UNTIL_CLOSE
        return True

    @staticmethod
    def _persistent(version, headers):
        connection = headers.get("connection")
        if connection is None:
            return version != "HTTP/1.0"
        tokens = {t.strip().lower() for t in connection.split(",")}
        if version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    def _add_body(self, data):
        if not data:
            return
        self._body_size += len(data)
        if self._body_size > self._max_body:
            raise BodyTooLarge(f"body larger than {self._max_body} bytes")
        self._digest.update(data)
        if self._body is not None:
            self._body.append(data)

    def _finish_body(self, response):
        if self._digest is not None:
            response.sha256 = self._digest.hexdigest()
            if self._body is not None:
                response.body = b"".join(self._body)

    def _complete(self):
        response = self._response
        self._finish_body(response)
        receiver, self._pending = self._pending, None
        self._state = _IDLE
        if self._buffer or not self._keep_alive:
            # Leftover bytes mean the server and we disagree on framing.
            self.reusable = False
        if self.reusable and self._on_idle is not None:
            self._on_idle(self)
        else:
            self.reusable = False
            self.transport.loseConnection()
        receiver.response_received(response)

    def connectionLost(self, reason=ConnectionDone):
        self.closed = True
        self.reusable = False
        receiver, self._pending = self._pending, None
        if receiver is not None:
            if self._state == _UNTIL_CLOSE and reason.check(ConnectionDone):
                self._finish_body(self._response)
                receiver.response_received(self._response)
            else:
                receiver.request_failed(Failure(
                    ConnectionDropped(reason, self._received_any)))
        if self._on_lost is not None:
            self._on_lost(self)
        waiters, self._lost_waiters = self._lost_waiters, []
        for waiter in waiters:
            waiter.callback(None)


class _Exchange:
    """One request through the pool: what it takes to send it again on a
    fresh connection, and what to cancel.  The pool's connections report
    to it, and it to the caller's receiver."""

    __slots__ = ("pool", "site", "addresses", "method", "target",
                 "header_block", "max_body", "keep_body", "receiver",
                 "connection", "connecting", "peer", "stale_possible",
                 "retried")

    def __init__(self, pool, site, addresses, method, target, header_block,
                 max_body, keep_body, receiver):
        self.pool = pool
        self.site = site
        self.addresses = addresses
        self.method = method
        self.target = target
        self.header_block = header_block
        self.max_body = max_body
        self.keep_body = keep_body
        self.receiver = receiver
        self.connection = None
        self.connecting = None
        self.peer = None
        self.stale_possible = False
        self.retried = False

    def connect(self):
        """Send the request on a new connection."""
        pool = self.pool
        d = pool._endpoint(self.site, self.addresses).connect(
            _PoolFactory(pool, self.site))
        self.connecting = d
        d.addCallback(self._connected).addErrback(self._not_connected)

    def _connected(self, connection):
        self.connecting = None
        pool = self.pool
        pool.connections_opened += 1
        pool.requests_sent += 1
        # Which family answers is learnt once per connection, from its
        # first response; the requests reusing it cost nothing more.
        self.peer = connection.transport.getPeer().host
        self.connection = connection
        connection.request(self.method, self.target, self.header_block,
                           self, self.max_body, self.keep_body)

    def _not_connected(self, failure):
        self.connecting = None
        self.receiver.request_failed(failure)

    def response_received(self, response):
        if self.peer is not None:
            self.pool.families.answered(self.site.host, self.peer)
        response.retried = self.retried
        self.receiver.response_received(response)

    def request_failed(self, failure):
        # A server may close an idle connection just as we reuse it; the
        # request never reached it, so sending it again, once, is safe.
        if (self.stale_possible and failure.check(ConnectionDropped)
                and not failure.value.response_started):
            self.stale_possible = False
            self.retried = True
            self.connection = None
            self.connect()
            return
        self.receiver.request_failed(failure)

    def cancel(self):
        """Abort the connection attempt or the request on its connection.
        """
        connecting, self.connecting = self.connecting, None
        if connecting is not None:
            connecting.cancel()
        elif self.connection is not None:
            self.connection.cancel(self)


# The status lines read so far, to what _status_of made of them: a server
# sends the same few ("HTTP/1.1 200 OK") again and again.  Bounded, so that
# a server sending a new one each time costs no memory.
_STATUS_LINES = {}
_MAX_STATUS_LINES = 64


def _status_of(line):
    """(version, status code, reason) of a status C{line} (bytes, without
    its "\\n").

    @raise HTTPProtocolError: if it is not an HTTP/1.x status line.
    """
    status_line = line.rstrip(b"\r")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise HTTPProtocolError(f"bad status line {status_line[:80]!r}")
    version = parts[0].decode("ascii", "replace")
    if not (len(parts[1]) == 3 and parts[1].isdigit()):
        raise HTTPProtocolError(f"bad status code {parts[1][:20]!r}")
    status = int(parts[1])
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    known = (version, status, reason)
    if len(_STATUS_LINES) < _MAX_STATUS_LINES:
        _STATUS_LINES[line] = known
    return known


def _header_fields(block):
    """The header fields of C{block}, the header lines (bytes, without
    the status line): a dict of lower-case name to value.

    @raise HTTPProtocolError: for a line that is not a header field.
    """
    # Most answers are a few lines of "Name: value", each name once: read
    # all of them with a few regular expressions instead of a few calls a
    # line.  Anything else (folded lines, repeated names, errors) is read
    # by the general rules, which give the same fields for these.
    text = block.decode("latin-1")
    if _SIMPLE_FIELDS.fullmatch(text):
        names = _FIELD_NAMES.findall(text.lower())
        headers = dict(zip(names, _FIELD_VALUES.findall(text)))
        if len(headers) == len(names):
            return headers
    return _folded_fields(block.split(b"\n"))


def _folded_fields(lines):
    """The header fields of C{lines} (bytes, each without its "\\n"), by
    the general rules: see L{_header_fields}."""
    headers = {}
    name = None
    for raw in lines:
        raw = raw.rstrip(b"\r")
        if raw[:1] in (b" ", b"\t") and name is not None:
            headers[name] += " " + raw.strip().decode("latin-1")
            continue
        key, colon, value = raw.partition(b":")
        if not colon or not key or key != key.strip():
            raise HTTPProtocolError(f"bad header line {raw[:80]!r}")
        name = key.decode("latin-1").lower()
        value = value.strip().decode("latin-1")
        headers[name] = (f"{headers[name]}, {value}" if name in headers
                         else value)
    return headers


# What _header_fields reads at once: lines of a name (no white space at
# either end, as bytes.strip() sees it, and no colon), a colon and a value
# (without the white space around it), as the general rules read them.
# Each line is an atomic group and the value ends at its last non-space:
# a hostile line costs time in proportion to its length, never more.
_EDGE = "[^ \t\n\r\x0b\x0c:]"
_NAME = f"{_EDGE}(?:[^:\n]*{_EDGE})?"
_SPACE = "[ \t\r\x0b\x0c]*"
_VALUE = "(?:[^\n]*[^ \t\r\x0b\x0c\n])?"
_SIMPLE_FIELDS = re.compile(
    f"(?>{_NAME}:{_SPACE}+{_VALUE}{_SPACE}\n)*"
    f"(?>{_NAME}:{_SPACE}+{_VALUE}{_SPACE})")
_FIELD_NAMES = re.compile(
    f"(?>({_NAME}):{_SPACE}+{_VALUE}{_SPACE})(?:\n|\\Z)")
_FIELD_VALUES = re.compile(
    f"(?>{_NAME}:{_SPACE}+({_VALUE}){_SPACE})(?:\n|\\Z)")


class _PoolFactory(Factory):
    def __init__(self, pool, site):
        self.pool = pool
        self.site = site

    def buildProtocol(self, addr):
        return self.pool._build_protocol(self.site)


class HTTPConnectionPool:
    """Idle HTTP connections per site, reused for the next request.

    @param reactor: provides IReactorTCP and IReactorTime.
    @param tls_options_for: called with a host name, returns the
        IOpenSSLClientConnectionCreator for an https site (certificate
        verification and SNI for that name).
    @param user_agent: the User-Agent header value, str.
    @param connect_timeout: seconds the TCP endpoint waits for a connection;
        callers usually cancel sooner.
    @param max_header_bytes: passed to every L{HTTPClientProtocol}.
    @param families: the L{FamilyRecord} new connections are ordered by
        and report to (shared with the FTP pool); default one of its own.
    """

    # One idle connection per allowed concurrent request is all the
    # per-host limit can use; a few more cost sockets and bring nothing.
    max_idle_per_site = 4

    def __init__(
        self,
        reactor,
        tls_options_for=None,
        user_agent="mirrorkeeper-prober",
        connect_timeout=30,
        max_header_bytes=64 * 1024,
        families=None,
    ):
        self._reactor = reactor
        self.families = families if families is not None else FamilyRecord()
        self._tls_options_for = tls_options_for
        self._user_agent = user_agent.encode("ascii")
        self._connect_timeout = connect_timeout
        self._max_header_bytes = max_header_bytes
        self._idle = {}
        self._header_blocks = {}
        self._open = set()
        self.connections_opened = 0
        self.requests_sent = 0

    def request(self, site, addresses, method, target, receiver,
                extra_headers=(), max_body=0, keep_body=True):
        """Send one request to C{site}, over an idle connection if one is
        there.

        @param site: the L{Site} the request is for (Host header, TLS name).
        @param addresses: the IP addresses to connect to when a new
            connection is needed: a sequence of str (tried as
            L{AddressesEndpoint} does), or one str.
        @param method: b"HEAD" or b"GET".
        @param target: the request target, bytes.
        @param receiver: an L{IResponseReceiver}, told the L{HTTPResponse}
            or the failure (as L{HTTPClientProtocol.request} says, or the
            connection error, e.g. ConnectionRefusedError).
        @param extra_headers: (name, value) pairs of bytes to add.
        @param max_body: the most body bytes accepted.
        @param keep_body: whether the body is kept (else only its SHA-256:
            see L{HTTPClientProtocol.request}).
        @return: the request in flight: its C{cancel()} aborts the
            connection attempt or the connection, and the receiver is told
            ConnectingCancelledError or CancelledError (if it was not told
            already).
        """
        blocks = self._header_blocks.get(site)
        if blocks is None:
            blocks = self._header_blocks[site] = {}
        header_block = blocks.get(extra_headers)
        if header_block is None:
            header_block = blocks[extra_headers] = self._header_block(
                site, extra_headers)
        exchange = _Exchange(self, site, addresses, method, target,
                             header_block, max_body, keep_body, receiver)
        idle = self._idle.get(site)
        while idle:
            connection = idle.pop()
            if not idle:
                del self._idle[site]
            if connection.closed:
                continue
            self.requests_sent += 1
            # A server may close an idle connection just as we reuse it:
            # see _Exchange.request_failed.  The response says reused: the
            # connection carried a request before.
            exchange.stale_possible = True
            exchange.connection = connection
            connection.request(method, target, header_block, exchange,
                               max_body, keep_body)
            return exchange
        exchange.connect()
        return exchange

    def _endpoint(self, site, addresses):
        if isinstance(addresses, str):
            addresses = (addresses,)
        endpoint = AddressesEndpoint(
            self._reactor, site.host, addresses, site.port,
            self._connect_timeout, self.families
        )
        if site.scheme == "https":
            endpoint = wrapClientTLS(self._tls_options_for(site.host),
                                     endpoint)
        return endpoint

    def _header_block(self, site, extra_headers):
        host = f"[{site.host}]" if ":" in site.host else site.host
        default_port = 443 if site.scheme == "https" else 80
        if site.port != default_port:
            host = f"{host}:{site.port}"
        lines = [
            b"Host: " + host.encode("idna" if not host.isascii() else "ascii"),
            b"User-Agent: " + self._user_agent,
            b"Accept: */*",
            b"Connection: keep-alive",
        ]
        lines.extend(name + b": " + value for name, value in extra_headers)
        return b"\r\n".join(lines) + b"\r\n"

    def _build_protocol(self, site):
        connection = HTTPClientProtocol(
            on_idle=self._put_idle,
            on_lost=self._forget,
            max_header_bytes=self._max_header_bytes,
        )
        connection.site = site
        self._open.add(connection)
        return connection

    def _put_idle(self, connection):
        idle = self._idle.setdefault(connection.site, [])
        if len(idle) >= self.max_idle_per_site:
            connection.close()
        else:
            idle.append(connection)

    def _forget(self, connection):
        self._open.discard(connection)
        idle = self._idle.get(connection.site)
        if idle and connection in idle:
            idle.remove(connection)
            if not idle:
                del self._idle[connection.site]

    def forget(self, site):
        """Close the idle connections to C{site} and let go of its header
        blocks: the run is done with it.  (A request in flight to it
        keeps its connection, and puts it back as idle when done.)"""
        self._header_blocks.pop(site, None)
        for connection in self._idle.pop(site, ()):
            connection.close()

    def close(self):
        """Close every connection; the Deferred fires when all are closed."""
        self._idle.clear()
        return defer.DeferredList([c.close() for c in list(self._open)])
