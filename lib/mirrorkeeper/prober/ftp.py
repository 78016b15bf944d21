"""Probing FTP mirrors natively: anonymous login, SIZE, falling back to LIST.

Logged-in sessions are kept per site and reused, as HTTP connections are:
an archive mirror is probed with hundreds of SIZE commands and logging in
for each would triple the round trips.  Limits, timeouts and address policy
belong to the caller (L{mirrorkeeper.prober.client.ProbeClient});
cancelling a Deferred returned here aborts the session it runs on.
"""

from __future__ import annotations

import posixpath

import attrs
from twisted.internet import defer
from twisted.internet.protocol import Factory
from twisted.protocols.ftp import CommandFailed, FTPClient, FTPFileListProtocol

from mirrorkeeper.prober.connect import AddressesEndpoint, FamilyRecord


class FTPReplyError(Exception):
    """The server refused something the probe needs (log in, list).

    @ivar code: the three-digit reply code, an int, or None.
    @ivar lines: the reply lines.
    """

    def __init__(self, what, lines):
        self.lines = list(lines)
        last = self.lines[-1] if self.lines else ""
        self.code = int(last[:3]) if last[:3].isdigit() else None
        super().__init__(f"{what}: {last}")


class FTPSessionLost(Exception):
    """The control connection closed before the answer came.

    @ivar reused: True if the session had already answered earlier probes.
    """

    def __init__(self, reused):
        super().__init__("FTP control connection closed")
        self.reused = reused


@attrs.frozen
class FTPAnswer:
    """What the FTP server said about one path.

    @ivar found: True if the file exists.
    @ivar code: the reply code that decided it (213 for SIZE, 226 for a
        listing, 550 for a missing file ...).
    @ivar reply: the last reply line, str.
    @ivar command: "SIZE" or "LIST", whichever decided.
    @ivar reused: True if the session was reused.
    @ivar retried: True if a reused session died and a fresh one answered.
    """

    found: bool
    code: int | None
    reply: str
    command: str
    reused: bool = False
    retried: bool = False


def _reply_code(lines):
    """The code and text of the last reply line in C{lines} (FTPClient
    nests them in DeferredList results for transfers)."""
    texts = list(_strings(lines))
    last = texts[-1] if texts else ""
    return int(last[:3]) if last[:3].isdigit() else None, last


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


class FTPSession(FTPClient):
    """An FTPClient that logs in when asked, not by itself, and tells its
    pool when it closes.

    @param reactor: used for passive data connections (instead of the
        global reactor FTPClient would use).
    """

    def __init__(self, reactor, on_lost):
        super().__init__(passive=1, trustPasvAddr=False)
        self.connectFactory = reactor.connectTCP
        self._on_lost = on_lost
        self.closed = False
        self.uses = 0
        # The Site it is logged in to, once connected.
        self.site = None

    def queueLogin(self, username, password):
        # FTPClient logs in from its constructor and reports a refusal only
        # as a lost connection on later commands; login() reports it.
        pass

    def login(self, username, password):
        """Log in and switch to binary mode.

        @return: a Deferred firing with None, or failing with
            L{FTPReplyError}.
        """
        d = self.queueStringCommand("USER " + username, public=0)

        def user_done(lines):
            if lines and lines[-1].startswith("230"):
                return lines
            return self.queueStringCommand("PASS " + password, public=0)

        d.addCallback(user_done)
        d.addCallback(lambda _: self.queueStringCommand("TYPE I"))
        d.addCallback(lambda _: None)
        d.addErrback(self._refused, "login refused")
        return d

    @staticmethod
    def _refused(failure, what):
        failure.trap(CommandFailed)
        raise FTPReplyError(what, failure.value.args[0])

    def connectionLost(self, reason):
        self.closed = True
        super().connectionLost(reason)
        self._on_lost(self)

    def close(self):
        if self.closed:
            return defer.succeed(None)
        d = defer.Deferred()
        previous = self._on_lost

        def lost(session):
            previous(session)
            d.callback(None)

        self._on_lost = lost
        self.transport.loseConnection()
        return d


class _SessionFactory(Factory):
    def __init__(self, pool):
        self.pool = pool

    def buildProtocol(self, addr):
        return self.pool._build_session()


class FTPSessionPool:
    """Logged-in FTP sessions per site, reused across probes.

    @param reactor: provides IReactorTCP.
    @param connect_timeout: seconds the TCP endpoint waits; callers
        usually cancel sooner.
    @param username: the login name; anonymous, as mirrors expect.
    @param password: the anonymous password; by convention an address
        that says who is asking.
    @param families: the L{FamilyRecord} new sessions are ordered by and
        report to (shared with the HTTP pool); default one of its own.
    """

    # The per-host limit is 2; more idle sessions than that are never used.
    max_idle_per_site = 2

    def __init__(
        self,
        reactor,
        connect_timeout=30,
        username="anonymous",
        password="mirrorkeeper@",
        families=None,
    ):
        self._reactor = reactor
        self.families = families if families is not None else FamilyRecord()
        self._connect_timeout = connect_timeout
        self._username = username
        self._password = password
        self._idle = {}
        self._open = set()
        self.connections_opened = 0
        self.requests_sent = 0

    def check(self, site, addresses, path):
        """Ask whether C{path} exists on the FTP server at C{site}.

        @param site: a L{mirrorkeeper.prober.http.Site} with scheme "ftp".
        @param addresses: the IP addresses to connect to when a new session
            is needed: a sequence of str (tried as L{AddressesEndpoint}
            does), or one str.
        @param path: the absolute path on the server, str (not quoted).
        @return: a Deferred firing with an L{FTPAnswer}, or failing with the
            connection error, L{FTPReplyError} or L{FTPSessionLost}.
            Cancelling it aborts the session.
        """
        state = {"session": None}

        def cancel(d):
            session = state["session"]
            if session is not None and not session.closed:
                session.transport.abortConnection()
            connecting = state.get("connecting")
            if connecting is not None and not connecting.called:
                connecting.cancel()

        outer = defer.Deferred(cancel)
        inner = self._check(site, addresses, path, state)

        def done(result):
            if not outer.called:
                outer.callback(result)

        def failed(failure):
            if not outer.called:
                outer.errback(failure)

        inner.addCallbacks(done, failed)
        return outer

    @defer.inlineCallbacks
    def _check(self, site, addresses, path, state):
        stale = False
        idle = self._idle.get(site)
        while idle:
            session = idle.pop()
            if not idle:
                del self._idle[site]
            if session.closed:
                continue
            state["session"] = session
            try:
                return (yield self._ask(session, path, reused=True))
            except FTPSessionLost:
                # The server dropped an idle session; ask again on a fresh one.
                stale = True
                break
        session = yield self._connect(site, addresses, state)
        answer = yield self._ask(session, path, reused=False)
        return attrs.evolve(answer, retried=True) if stale else answer

    @defer.inlineCallbacks
    def _connect(self, site, addresses, state):
        if isinstance(addresses, str):
            addresses = (addresses,)
        endpoint = AddressesEndpoint(
            self._reactor, site.host, addresses, site.port,
            self._connect_timeout, self.families
        )
        connecting = state["connecting"] = endpoint.connect(
            _SessionFactory(self))
        state["session"] = None
        session = yield connecting
        state["connecting"] = None
        session.site = site
        state["session"] = session
        self.connections_opened += 1
        peer = session.transport.getPeer().host
        try:
            yield session.login(self._username, self._password)
        except FTPReplyError:
            # Refused, but answered: the family works.
            self.families.answered(site.host, peer)
            session.transport.loseConnection()
            raise
        except Exception:
            raise FTPSessionLost(reused=False) from None
        self.families.answered(site.host, peer)
        return session

    @defer.inlineCallbacks
    def _ask(self, session, path, reused):
        self.requests_sent += 1
        session.uses += 1
        try:
            lines = yield session.queueStringCommand("SIZE " + path)
        except CommandFailed as e:
            code, last = _reply_code(e.args[0])
            if code in (500, 501, 502, 504):
                # SIZE is an extension (RFC 3659); without it, list the
                # directory and look for the name.
                answer = yield self._list(session, path)
                self._release(session)
                return attrs.evolve(answer, reused=reused)
            self._release(session)
            found_code = code if code is not None else 0
            return FTPAnswer(False, found_code, last, "SIZE", reused=reused)
        except Exception:
            raise FTPSessionLost(reused=reused) from None
        code, last = _reply_code(lines)
        self._release(session)
        return FTPAnswer(code == 213, code, last, "SIZE", reused=reused)

    @defer.inlineCallbacks
    def _list(self, session, path):
        directory, name = posixpath.split(path)
        listing = FTPFileListProtocol()
        try:
            lines = yield session.list(directory or "/", listing)
        except CommandFailed as e:
            code, last = _reply_code(e.args[0])
            return FTPAnswer(False, code, last, "LIST")
        except Exception:
            raise FTPSessionLost(reused=False) from None
        code, last = _reply_code(lines)
        found = any(entry.get("filename") == name for entry in listing.files)
        return FTPAnswer(found, code, last, "LIST")

    def _release(self, session):
        if session.closed:
            return
        idle = self._idle.setdefault(session.site, [])
        if len(idle) >= self.max_idle_per_site:
            session.transport.loseConnection()
        else:
            idle.append(session)

    def _build_session(self):
        session = FTPSession(self._reactor, self._forget)
        self._open.add(session)
        return session

    def _forget(self, session):
        self._open.discard(session)
        idle = self._idle.get(session.site)
        if idle and session in idle:
            idle.remove(session)
            if not idle:
                del self._idle[session.site]

    def forget(self, site):
        """Close the idle sessions to C{site}: the run is done with it."""
        for session in self._idle.pop(site, ()):
            session.transport.loseConnection()

    def close(self):
        """Close every session; the Deferred fires when all are closed."""
        self._idle.clear()
        return defer.DeferredList([s.close() for s in list(self._open)])
