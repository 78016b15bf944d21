"""A farm of fake mirrors on loopback, for tests and the demo.

One process serves many virtual mirrors, each on its own loopback address
and port (so per-host limits and connection counts are per mirror), each
with a behaviour from L{farm.behaviours}:

    farm = MirrorFarm(reactor)
    fresh = farm.add_mirror("fresh", ServeTree(), root=tree)
    farm.add_mirror("dead", Hang())
    farm.add_mirror("moved", RedirectToMirror("fresh"))
    farm.add_refusing_mirror("gone")
    farm.add_mirror("secure", ServeTree(), root=tree, tls="valid")
    farm.add_mirror("forged", ServeTree(), root=tree, tls="self-signed")
    farm.add_ftp_mirror("old-school", root=tree)
    fresh.url("dists/noble/Release")   # http://127.0.0.1:PORT/dists/...
    ...
    yield farm.stop()

Every mirror counts connections and requests, and the highest number of
requests it had in flight at once; the farm counts the same across all its
mirrors (C{farm.counters}).
"""

from __future__ import annotations

import socket

from twisted.internet import defer, ssl
from twisted.protocols.policies import WrappingFactory
from twisted.web import resource, server

from .behaviours import (  # noqa: F401  (re-exported)
    AnswerAnything,
    Behaviour,
    DropReusedConnection,
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
    ServeTree,
    ServerError,
    Slow,
)
from .certificates import TestCA
from .raw import RawHTTP

TLS_CHOICES = ("valid", "self-signed", "wrong-host")


class Counters:
    """Connections and requests seen by one mirror (or the whole farm).

    @ivar connections: connections accepted.
    @ivar requests: requests received.
    @ivar in_flight: requests received and not yet answered.
    @ivar max_in_flight: the highest C{in_flight} seen.
    @ivar requests_log: (method, target) pairs, bytes, in arrival order.
    """

    def __init__(self, parent=None):
        self._parent = parent
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests_log = []

    def connection(self):
        self.connections += 1
        if self._parent is not None:
            self._parent.connection()

    def begin(self, method, target):
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.requests_log.append((method, target))
        if self._parent is not None:
            self._parent.begin(method, target)

    def end(self):
        self.in_flight -= 1
        if self._parent is not None:
            self._parent.end()


class _TrackingFactory(WrappingFactory):
    """Counts the connections of one mirror and can close them all."""

    noisy = False

    def __init__(self, wrapped, mirror):
        super().__init__(wrapped)
        self.mirror = mirror
        self._waiters = []

    def buildProtocol(self, addr):
        self.mirror.counters.connection()
        return super().buildProtocol(addr)

    def unregisterProtocol(self, p):
        super().unregisterProtocol(p)
        if not self.protocols:
            waiters, self._waiters = self._waiters, []
            for d in waiters:
                d.callback(None)

    def close_all(self):
        """Abort every open connection; fires when all are closed."""
        if not self.protocols:
            return defer.succeed(None)
        d = defer.Deferred()
        self._waiters.append(d)
        for p in list(self.protocols):
            p.transport.abortConnection()
        return d


class _MirrorSite(server.Site):
    noisy = False

    def log(self, request):
        # The farm's counters are its access log.
        pass


class _MirrorResource(resource.Resource):
    isLeaf = True

    def __init__(self, mirror):
        super().__init__()
        self.mirror = mirror

    def render(self, request):
        counters = self.mirror.counters
        counters.begin(request.method, request.uri)
        request.notifyFinish().addBoth(lambda _: counters.end())
        self.mirror.behaviour.respond(self.mirror, request)
        return server.NOT_DONE_YET


class FakeMirror:
    """One virtual mirror of the farm.

    @ivar name: its name in the farm.
    @ivar behaviour: what it does with requests (None for refusing and FTP
        mirrors).
    @ivar root: the directory whose tree it serves, or None.
    @ivar scheme: "http", "https" or "ftp".
    @ivar host: the loopback address it listens on.
    @ivar hostname: the name in its URLs and certificate (default: host).
    @ivar port: the port it listens on.
    @ivar counters: its L{Counters}.
    """

    def __init__(self, farm, name, behaviour, root, scheme, host, hostname):
        self.farm = farm
        self.reactor = farm.reactor
        self.name = name
        self.behaviour = behaviour
        self.root = root
        self.scheme = scheme
        self.host = host
        self.hostname = hostname or host
        self.port = None
        self.counters = Counters(farm.counters)
        self._listening = None
        self._tracking = None
        self._reserved = None

    @property
    def base_url(self):
        """The mirror's root URL, ending in "/"."""
        return f"{self.scheme}://{self.hostname}:{self.port}/"

    def url(self, path):
        """The URL of C{path} (relative or absolute) on this mirror."""
        return self.base_url + path.lstrip("/")

    @property
    def open_connections(self):
        """The connections to this mirror not closed yet."""
        return len(self._tracking.protocols) if self._tracking else 0

    def _stop(self):
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None
        waits = []
        if self._listening is not None:
            waits.append(defer.maybeDeferred(self._listening.stopListening))
            self._listening = None
        if self._tracking is not None:
            waits.append(self._tracking.close_all())
        return defer.gatherResults(waits)

    def __repr__(self):
        return f"<FakeMirror {self.name} {self.base_url}>"


class MirrorFarm:
    """Many fake mirrors in one process, all on loopback.

    @param reactor: the reactor to listen with; default the global one.
    @param interface: the loopback address mirrors listen on unless told
        otherwise (anything in 127.0.0.0/8, or ::1).
    """

    def __init__(self, reactor=None, interface="127.0.0.1"):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.interface = interface
        self.mirrors = {}
        self.counters = Counters()
        self._ca = None

    @property
    def ca(self):
        """The farm's L{TestCA}, made on first use."""
        if self._ca is None:
            self._ca = TestCA()
        return self._ca

    def _new(self, name, behaviour, root, scheme, interface, hostname):
        if name in self.mirrors:
            raise ValueError(f"the farm already has a mirror named {name!r}")
        mirror = FakeMirror(
            self, name, behaviour, root, scheme, interface or self.interface,
            hostname
        )
        self.mirrors[name] = mirror
        return mirror

    def add_mirror(self, name, behaviour=None, root=None, tls=None,
                   hostname=None, interface=None):
        """Start an HTTP (or HTTPS) mirror.

        @param name: its name, unique in the farm.
        @param behaviour: a L{Behaviour} or L{RawHTTP}; default
            L{ServeTree}.
        @param root: the directory it serves (needed by L{ServeTree}).
        @param tls: None for plain HTTP; "valid" for a certificate from the
            farm's CA naming the mirror; "self-signed" for one no CA signed;
            "wrong-host" for one from the farm's CA naming another host.
        @param hostname: the name its URLs use and its certificate names
            (clients map it to the address with ProbeClient(hosts=...));
            default the address.
        @param interface: the loopback address to listen on.
        @return: the L{FakeMirror}, listening.
        """
        if tls is not None and tls not in TLS_CHOICES:
            raise ValueError(f"tls must be one of {TLS_CHOICES}, not {tls!r}")
        behaviour = behaviour if behaviour is not None else ServeTree()
        scheme = "https" if tls else "http"
        mirror = self._new(name, behaviour, root, scheme, interface, hostname)
        if isinstance(behaviour, RawHTTP):
            inner = behaviour.factory(mirror)
        else:
            inner = _MirrorSite(_MirrorResource(mirror))
        mirror._tracking = _TrackingFactory(inner, mirror)
        if tls is None:
            port = self.reactor.listenTCP(0, mirror._tracking,
                                          interface=mirror.host)
        else:
            names = [mirror.hostname, mirror.host]
            if tls == "valid":
                certificate = self.ca.issue(names)
            elif tls == "self-signed":
                certificate = TestCA.self_signed(names)
            else:
                certificate = self.ca.issue(["wrong-host.invalid"])
            # Offering ALPN explicitly: clients that ask for it (curl) get
            # http/1.1 instead of a handshake failure.
            options = ssl.CertificateOptions(
                privateKey=certificate.privateKey.original,
                certificate=certificate.original,
                acceptableProtocols=[b"http/1.1"],
            )
            port = self.reactor.listenSSL(0, mirror._tracking, options,
                                          interface=mirror.host)
        mirror._listening = port
        mirror.port = port.getHost().port
        return mirror

    def add_refusing_mirror(self, name, interface=None):
        """A mirror whose port refuses connections: the port is held by a
        socket that is bound but never listens, so nothing else takes it.

        @return: the L{FakeMirror}.
        """
        mirror = self._new(name, None, None, "http", interface, None)
        family = socket.AF_INET6 if ":" in mirror.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((mirror.host, 0))
        mirror._reserved = sock
        mirror.port = sock.getsockname()[1]
        return mirror

    def add_ftp_mirror(self, name, root, interface=None, size=True):
        """An anonymous, read-only FTP mirror of C{root}.

        @param size: if False, the server does not know SIZE (502), so
            clients must list directories instead.

        @return: the L{FakeMirror}, listening.
        """
        from .ftpserver import ftp_factory

        mirror = self._new(name, None, root, "ftp", interface, None)
        mirror._tracking = _TrackingFactory(ftp_factory(mirror, size), mirror)
        port = self.reactor.listenTCP(0, mirror._tracking,
                                      interface=mirror.host)
        mirror._listening = port
        mirror.port = port.getHost().port
        return mirror

    def stop(self):
        """Stop every mirror and close every connection.

        @return: a Deferred firing with None when all are closed.
        """
        d = defer.gatherResults([m._stop() for m in self.mirrors.values()])
        d.addCallback(lambda _: None)
        return d
