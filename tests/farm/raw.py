"""A fake HTTP mirror that answers with exactly the bytes it is given.

twisted.web always answers with well-formed HTTP; to see how the client
takes malformed or unusual answers (bodies delimited by closing the
connection, HTTP/1.0, garbage status lines, endless headers) a test gives
the bytes itself.
"""

from __future__ import annotations

from twisted.internet.protocol import Factory, Protocol


class RawHTTP:
    """Every request: the bytes C{respond(method, path)} returns, written
    as they are; then, if C{close} is True, the connection is closed.

    @param respond: called with the method and the request target (str);
        returns bytes.
    @param close: whether to close the connection after each answer.
    """

    # Requests larger than this are cut off; a probe's are under 300 bytes.
    max_request_bytes = 16 * 1024

    def __init__(self, respond, close=False):
        self.respond = respond
        self.close = close

    def factory(self, mirror):
        """The protocol factory serving C{mirror}."""
        return Factory.forProtocol(lambda: _RawProtocol(self, mirror))


class _RawProtocol(Protocol):
    def __init__(self, behaviour, mirror):
        self.behaviour = behaviour
        self.mirror = mirror
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            request_line = head.split(b"\r\n", 1)[0]
            method, target = (request_line.split(b" ") + [b"", b""])[:2]
            counters = self.mirror.counters
            counters.begin(method, target)
            self.transport.write(self.behaviour.respond(method.decode(),
                                                        target.decode()))
            counters.end()
            if self.behaviour.close:
                self.transport.loseConnection()
                return
        if len(self.buffer) > self.behaviour.max_request_bytes:
            self.transport.loseConnection()
