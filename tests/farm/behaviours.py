"""What a fake HTTP mirror does with each request.

Each behaviour is a small class whose C{respond(mirror, request)} answers a
twisted.web request (or deliberately never does).  The class docstring maps
each path to its answer.  C{mirror} is the L{farm.FakeMirror} serving the
request: its C{root}, its C{farm} (to find other mirrors) and its reactor.
"""

from __future__ import annotations

from twisted.python.filepath import FilePath, InsecurePath


def request_path(request):
    """The request's path without the query, as str."""
    return request.path.decode("utf-8", "replace")


class Behaviour:
    """Base class; subclasses answer in C{respond}."""

    def respond(self, mirror, request):
        raise NotImplementedError

    def _redirect(self, request, location, status=302):
        request.setResponseCode(status)
        request.setHeader(b"Location", location.encode("utf-8"))
        request.setHeader(b"Content-Length", b"0")
        request.finish()

    @staticmethod
    def _status(request, code, body=b""):
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"text/plain")
        request.setHeader(b"Content-Length", b"%d" % len(body))
        if request.method != b"HEAD":
            request.write(body)
        request.finish()


class ServeTree(Behaviour):
    """Every path: the file at that path under the mirror's root, 200 with
    its Content-Length (HEAD: headers only; GET: the bytes).  A missing
    file, a directory, or a path escaping the root: 404.

    @param chunked: if True, GET bodies are sent with chunked encoding
        instead of a Content-Length.
    """

    def __init__(self, chunked=False):
        self.chunked = chunked

    def respond(self, mirror, request, path=None):
        path = request_path(request) if path is None else path
        segments = [s for s in path.split("/") if s]
        try:
            target = (FilePath(mirror.root).descendant(segments)
                      if segments else None)
        except InsecurePath:
            target = None
        if target is None or not target.isfile():
            return self._status(request, 404, b"not here\n")
        data = target.getContent()
        request.setResponseCode(200)
        request.setHeader(b"Content-Type", b"application/octet-stream")
        if not (self.chunked and request.method == b"GET"):
            request.setHeader(b"Content-Length", b"%d" % len(data))
        if request.method != b"HEAD":
            request.write(data)
        request.finish()


class AnswerAnything(ServeTree):
    """Every path: the file under the mirror's root when there is one,
    else 200 with a small page anyway, as a server that answers every
    request with a page of its own does: its 200s prove nothing."""

    def respond(self, mirror, request, path=None):
        path = request_path(request) if path is None else path
        segments = [s for s in path.split("/") if s]
        try:
            target = FilePath(mirror.root).descendant(segments) \
                if segments else None
        except InsecurePath:
            target = None
        if target is not None and target.isfile():
            return super().respond(mirror, request, path)
        self._status(request, 200, b"<html>Welcome!</html>\n")


class NotFound(Behaviour):
    """Every path: 404."""

    def respond(self, mirror, request):
        self._status(request, 404, b"nothing here\n")


class ServerError(Behaviour):
    """Every path: 500."""

    def respond(self, mirror, request):
        self._status(request, 500, b"broken\n")


class Hang(Behaviour):
    """Every path: the request is read and never answered; the connection
    stays open until the client gives up or the farm stops."""

    def respond(self, mirror, request):
        pass


class Slow(Behaviour):
    """Every path: answered as C{then} answers it, C{delay} seconds late.

    @param delay: seconds to wait before answering, float.
    @param then: the behaviour that answers, default L{ServeTree}.
    """

    def __init__(self, delay, then=None):
        self.delay = delay
        self.then = then if then is not None else ServeTree()

    def respond(self, mirror, request):
        call = mirror.reactor.callLater(self.delay, self.then.respond,
                                        mirror, request)

        def gone(reason):
            if call.active():
                call.cancel()

        request.notifyFinish().addErrback(gone)


class RedirectToMirror(Behaviour):
    """Every path: C{status} with an absolute Location, the same path on the
    mirror named C{name} (a valid redirect when that mirror serves the
    tree)."""

    def __init__(self, name, status=302):
        self.name = name
        self.status = status

    def respond(self, mirror, request):
        other = mirror.farm.mirrors[self.name]
        self._redirect(request, other.url(request.uri.decode("utf-8")),
                       self.status)


class RedirectToURL(Behaviour):
    """Every path: 302 to whatever C{url_for(path)} returns (e.g. a URL on a
    private address, to test the address policy)."""

    def __init__(self, url_for, status=302):
        self.url_for = url_for
        self.status = status

    def respond(self, mirror, request):
        self._redirect(request, self.url_for(request_path(request)),
                       self.status)


class MovedInside(Behaviour):
    """Paths under C{prefix}: the tree's file at the rest of the path, as
    L{ServeTree}.  Any other path: 301 with a relative Location, the same
    path under C{prefix} (a mirror that moved its archive)."""

    def __init__(self, prefix="/moved", status=301):
        self.prefix = prefix.rstrip("/")
        self.status = status

    def respond(self, mirror, request):
        path = request_path(request)
        if path.startswith(self.prefix + "/"):
            return ServeTree().respond(mirror, request,
                                       path[len(self.prefix):])
        self._redirect(request, self.prefix + path, self.status)


class RedirectLoop(Behaviour):
    """Every path P: 302 to P?bounce; P?bounce: 302 back to P."""

    def respond(self, mirror, request):
        path = request_path(request)
        if request.args.get(b"bounce"):
            self._redirect(request, path)
        else:
            self._redirect(request, path + "?bounce=1")


class RedirectForever(Behaviour):
    """Every path P?n=N: 302 to P?n=N+1, without end."""

    def respond(self, mirror, request):
        n = int(request.args.get(b"n", [b"0"])[0] or 0)
        self._redirect(request, f"{request_path(request)}?n={n + 1}")


class RedirectToOtherFile(Behaviour):
    """C{target}: 200 with a small page.  Every other path: 302 to C{target}
    (the "404 page that answers 200" trick)."""

    def __init__(self, target="/index.html"):
        self.target = target

    def respond(self, mirror, request):
        if request_path(request) == self.target:
            return self._status(request, 200,
                                b"<p>Welcome! Nothing to see.</p>\n")
        self._redirect(request, self.target)


class RedirectUnknownScheme(Behaviour):
    """Every path: 302 to the same path at gopher://<mirror host>."""

    def respond(self, mirror, request):
        self._redirect(request,
                       f"gopher://{mirror.host}{request_path(request)}")


class HugeHeaders(Behaviour):
    """Every path: 200 with an X-Filler header of C{size} bytes (a hostile
    mirror trying to grow the client's memory)."""

    def __init__(self, size=1024 * 1024):
        self.size = size

    def respond(self, mirror, request):
        request.setHeader(b"X-Filler", b"x" * self.size)
        self._status(request, 200, b"")


class DropReusedConnection(Behaviour):
    """The first request on each connection: answered as C{then} answers it,
    with the connection kept alive.  Any later request on that connection:
    the connection is closed without an answer (a server whose keep-alive
    timeout fired just as the client reused the connection)."""

    def __init__(self, then=None):
        self.then = then if then is not None else ServeTree()

    def respond(self, mirror, request):
        channel = request.channel
        if getattr(channel, "_farm_answered", False):
            channel.transport.loseConnection()
            return
        channel._farm_answered = True
        self.then.respond(mirror, request)
