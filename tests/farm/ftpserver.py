"""A fake FTP mirror: Twisted's FTP server, anonymous and read-only, over
the mirror's archive tree, with passive data ports on loopback only."""

from __future__ import annotations

from twisted.cred.checkers import AllowAnonymousAccess
from twisted.cred.portal import Portal
from twisted.protocols.ftp import (
    FTP, CmdNotImplementedError, FTPFactory, FTPRealm)

# The commands a probe sends that ask about a file; counted as requests.
_COUNTED = {b"SIZE", b"LIST", b"NLST", b"RETR", b"MDTM"}


class _LoopbackFTP(FTP):
    """FTP that binds passive data ports to the address the client reached
    (FTP binds all interfaces by default) and counts probe commands."""

    def connectionMade(self):
        self.listenFactory = self.factory.mirror.reactor.listenTCP
        super().connectionMade()

    def getDTPPort(self, factory, interface=""):
        return super().getDTPPort(factory,
                                  interface=self.transport.getHost().host)

    def lineReceived(self, line):
        command, _, argument = line.partition(b" ")
        if command.upper() in _COUNTED:
            counters = self.factory.mirror.counters
            counters.begin(command.upper(), argument)
            counters.end()
        return super().lineReceived(line)


class _NoSizeFTP(_LoopbackFTP):
    """An old server without the SIZE extension: 502 for SIZE."""

    def ftp_SIZE(self, path):
        raise CmdNotImplementedError("SIZE")


class _MirrorFTPFactory(FTPFactory):
    noisy = False
    protocol = _LoopbackFTP


def ftp_factory(mirror, size=True):
    """An FTPFactory serving C{mirror.root} to anonymous users.

    @param mirror: the L{farm.FakeMirror} (its root, reactor and counters).
    @param size: if False, the server answers SIZE with 502, as servers
        without RFC 3659 do.
    """
    realm = FTPRealm(anonymousRoot=mirror.root)
    factory = _MirrorFTPFactory(Portal(realm, [AllowAnonymousAccess()]))
    if not size:
        factory.protocol = _NoSizeFTP
    factory.mirror = mirror
    factory.allowAnonymous = True
    return factory
