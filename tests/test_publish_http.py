"""The mirror list daemon's HTTP/1.1 (mirrorkeeper.publish.http), fed
bytes as a client sends them: keep-alive and closing, HEAD, pipelining,
bodies skipped, and every malformed request answered and closed."""

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from mirrorkeeper.publish import http
from mirrorkeeper.publish.http import (
    IDLE_TIMEOUT, MAX_HEAD_BYTES, HTTPFactory, query_args)


class Echo:
    """Answers each request with what it read of it, and a header."""

    def __init__(self):
        self.seen = []

    def render(self, request):
        self.seen.append(request)
        if request.path == b"/fail":
            raise RuntimeError("a renderer's bug")
        request.setHeader(b"content-type", b"text/plain")
        request.addHeader(b"link", b"<a>")
        request.addHeader(b"link", b"<b>")
        if request.path == b"/missing":
            request.setResponseCode(404)
        return b"%s %s %r %s\n" % (request.method, request.path,
                                   sorted(request.args.items()),
                                   request.getHeader(b"X-Forwarded-For")
                                   or b"-")


def connect():
    """(channel, transport, renderer, clock) of one connection."""
    echo, clock = Echo(), Clock()
    channel = HTTPFactory(echo, clock).buildProtocol(None)
    transport = StringTransport(
        peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    channel.makeConnection(transport)
    return channel, transport, echo, clock


def answers(data):
    """[(status line, {header: [values]}, body)] of the bytes written."""
    result = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b": ")
            headers.setdefault(name, []).append(value)
        length = int(headers[b"Content-Length"][0])
        body = b""
        if not lines[0].endswith(b"(HEAD)"):
            body, data = data[:length], data[length:]
        result.append((lines[0], headers, body))
    return result


def test_keep_alive_pipelined_requests_answered_in_order():
    """Two requests in one packet, split anywhere, get two answers in
    order on the open connection, with their headers and query."""
    channel, transport, echo, _ = connect()
    data = (b"GET /mirrors.txt?series=noble&x=%41+b HTTP/1.1\r\n"
            b"Host: h\r\nX-Forwarded-For: 192.0.2.1\r\n"
            b"x-forwarded-for: 192.0.2.2\r\n\r\n"
            b"GET /other HTTP/1.1\r\nHost: h\r\n\r\n")
    for start in range(0, len(data), 7):
        channel.dataReceived(data[start:start + 7])
    (first, headers, body), (second, _, body2) = answers(transport.value())
    assert first == second == b"HTTP/1.1 200 OK"
    assert headers[b"Content-Type"] == [b"text/plain"]
    assert headers[b"Link"] == [b"<a>", b"<b>"]
    assert b"Date" in headers and b"Connection" not in headers
    assert body == (b"GET /mirrors.txt [(b'series', [b'noble']), "
                    b"(b'x', [b'A b'])] 192.0.2.1, 192.0.2.2\n")
    assert body2 == b"GET /other [] -\n"
    assert transport.connected and not transport.disconnecting
    assert echo.seen[0].getClientAddress().host == "127.0.0.1"
    assert not echo.seen[0].isSecure()


def test_head_gets_the_headers_and_length_without_the_body():
    channel, transport, _, _ = connect()
    channel.dataReceived(b"HEAD /x HTTP/1.1\r\n\r\n")
    head, _, body = transport.value().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"\r\nContent-Length: %d\r\n" % len(b"HEAD /x [] -\n") in \
        head + b"\r\n"
    assert body == b""


def test_closing_as_asked():
    """HTTP/1.1 with Connection: close, and HTTP/1.0 without keep-alive,
    get Connection: close and the connection closed; HTTP/1.0 asking for
    keep-alive keeps it."""
    for request, closed in (
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", True),
            (b"GET / HTTP/1.0\r\n\r\n", True),
            (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", False)):
        channel, transport, _, _ = connect()
        channel.dataReceived(request + b"GET /after HTTP/1.1\r\n\r\n")
        got = answers(transport.value())
        assert transport.disconnecting == closed
        assert len(got) == (1 if closed else 2)
        assert got[0][1].get(b"Connection") == (
            [b"close"] if closed else [b"keep-alive"])


def test_a_body_of_content_length_is_skipped():
    channel, transport, echo, _ = connect()
    channel.dataReceived(b"GET /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
                         b"01234")
    channel.dataReceived(b"56789GET /b HTTP/1.1\r\n\r\n")
    assert [request.path for request in echo.seen] == [b"/a", b"/b"]
    assert len(answers(transport.value())) == 2


def test_refusals_are_answered_and_closed():
    """A malformed request line or header, a chunked body, a bad length,
    an odd target (one with a control character, such as a line feed
    that would split a redirect's Location header) or too long a head is
    answered with its error, and the connection closed, the renderer
    never asked."""
    cases = [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
        (b"GET ftp://h/x HTTP/1.1\r\n\r\n", 400),
        (b"GET /redirect/a\nSet-Cookie:x HTTP/1.1\r\n\r\n", 400),
        (b"GET /a\tb HTTP/1.1\r\n\r\n", 400),
        (b"GET /a\x00b HTTP/1.1\r\n\r\n", 400),
        (b"GET /a\x7fb HTTP/1.1\r\n\r\n", 400),
        (b"GET /" + b"a" * MAX_HEAD_BYTES + b" HTTP/1.1\r\n\r\n", 431),
        (b"GET /" + b"a" * (MAX_HEAD_BYTES + 10), 431),
    ]
    for data, code in cases:
        channel, transport, echo, _ = connect()
        channel.dataReceived(data)
        ((status, headers, body),) = answers(transport.value())
        assert status.startswith(b"HTTP/1.1 %d " % code), data[:40]
        assert headers[b"Connection"] == [b"close"]
        assert body
        assert transport.disconnecting and not echo.seen


def test_other_methods_405_and_failures_500():
    channel, transport, _, _ = connect()
    channel.dataReceived(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                         b"GET /fail HTTP/1.1\r\n\r\nGET /missing HTTP/1.1"
                         b"\r\n\r\nGET http://h:80/abs?q HTTP/1.1\r\n\r\n")
    got = answers(transport.value())
    assert [answer[0] for answer in got] == [
        b"HTTP/1.1 405 Method Not Allowed",
        b"HTTP/1.1 500 Internal Server Error", b"HTTP/1.1 404 Not Found",
        b"HTTP/1.1 200 OK"]
    assert got[0][1][b"Allow"] == [b"GET, HEAD"]
    assert b"Link" not in got[1][1]
    assert got[3][2] == b"GET /abs [(b'q', [b''])] -\n"
    assert not transport.disconnecting


def test_a_client_that_does_not_read_is_not_read_from():
    """While the transport asks its producer to pause, pipelined requests
    wait, and are answered once it resumes."""
    channel, transport, echo, _ = connect()
    channel.pauseProducing()
    assert transport.producerState == "paused"
    channel.dataReceived(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    assert echo.seen == []
    channel.resumeProducing()
    assert [request.path for request in echo.seen] == [b"/a", b"/b"]


def test_an_idle_connection_is_closed():
    channel, transport, _, clock = connect()
    clock.advance(IDLE_TIMEOUT - 1)
    channel.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
    clock.advance(IDLE_TIMEOUT - 1)
    assert not transport.disconnecting
    clock.advance(2)
    assert transport.disconnecting


def test_header_blocks_read_last_are_kept_and_bounded(monkeypatch):
    """A block of header lines is read once while kept, for every
    connection sending it, at most MAX_CACHED_BLOCKS of them (oldest out
    first) and none over MAX_CACHED_BLOCK_BYTES; a kept block answers as
    one read anew, its values per request."""
    blocks = {}
    monkeypatch.setattr(http, "_BLOCKS", blocks)
    monkeypatch.setattr(http, "MAX_CACHED_BLOCKS", 2)
    monkeypatch.setattr(http, "MAX_CACHED_BLOCK_BYTES", 40)
    sent = [b"X-Forwarded-For: 192.0.2.%d" % n for n in (1, 2, 1, 3)]
    seen = []
    for block in sent:
        channel, transport, echo, _ = connect()
        channel.dataReceived(b"GET /a HTTP/1.1\r\n" + block + b"\r\n\r\n")
        seen.append(echo.seen[0].getHeader(b"x-forwarded-for"))
        assert answers(transport.value())[0][0] == b"HTTP/1.1 200 OK"
    assert seen == [b"192.0.2.1", b"192.0.2.2", b"192.0.2.1", b"192.0.2.3"]
    assert list(blocks) == [sent[1], sent[3]]
    long_block = b"X-Forwarded-For: " + b"1" * 40
    channel, transport, echo, _ = connect()
    channel.dataReceived(b"GET /a HTTP/1.1\r\n" + long_block + b"\r\n\r\n"
                         b"GET /b HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert list(blocks) == [sent[3], b"Connection: close"]
    assert echo.seen[0].getHeader(b"X-Forwarded-For") == b"1" * 40
    assert transport.disconnecting
    channel, transport, echo, _ = connect()
    channel.dataReceived(b"GET /a HTTP/1.1\r\nno colon\r\n\r\n")
    assert list(blocks) == [sent[3], b"Connection: close"]
    assert not echo.seen and transport.disconnecting


def test_query_args_as_urllib_reads_them():
    from urllib.parse import parse_qs
    for query in (b"a=1&b=2", b"a", b"a=&b", b"x=%41+b&x=2", b"&&a=1&",
                  b"a=1=2", b"%zz=1", b"a+b=c%2Bd", b"=1"):
        assert query_args(query) == parse_qs(query, keep_blank_values=True)
