"""The SMTP server process behind tests/harness/smtp.py; not imported.

    python _smtpd.py SPOOL [--tls CERT_AND_KEY.pem] [--login USER:PASSWORD]
                           [--refuse ADDRESS]... [--remove-on-exit DIR]
                           [--events FILE] [--quit-delay SECONDS]
                           [--data-delay SECONDS]
                           [--refuse-data ADDRESS]...

Listens with Twisted's ESMTP on 127.0.0.1, port chosen by the kernel, and
prints "PORT <n>" on stdout once it listens. Each message it accepts is kept
in SPOOL as NNNNNN.eml (the bytes received, after its own Received: line)
and NNNNNN.json (the envelope); the .json appears last, by rename, so a
reader never sees half a message. Both are written before the server answers
250 to the end of DATA, so a client that was told "accepted" finds them.

--tls offers STARTTLS with that certificate; --login requires AUTH (PLAIN or
LOGIN) with that user and password before MAIL FROM; --refuse answers 550 to
RCPT TO for that address. --events appends one JSON line to FILE for each
command received, each message accepted and each connection lost, with the
connection's number, in the order they happen (see SMTPServer.events).
--quit-delay waits that long before answering QUIT; --data-delay waits that
long after the end of DATA before keeping the message and answering 250 (a
message whose connection was lost meanwhile is not kept, its client never
having been told "accepted"); --refuse-data answers 550 to the end of DATA
of a message to that address, and keeps nothing. The process exits when its
stdin closes, so it never outlives the test process that started it;
--remove-on-exit DIR removes DIR (its spool and certificate) as it goes.
"""

import argparse
import json
import os
import shutil
import sys

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.internet import (
    defer, endpoints, protocol, reactor, ssl, stdio, task)
from twisted.mail import smtp
from twisted.mail.imap4 import LOGINCredentials, PLAINCredentials
from zope.interface import implementer


class Spool:
    """Numbered files in a directory, one pair per message, and the log of
    events."""

    def __init__(self, path, events=None):
        self.path = path
        self.sequence = 0
        self.events = open(events, "a") if events else None

    def event(self, connection, event, **values):
        if self.events is not None:
            self.events.write(json.dumps(dict(
                values, connection=connection, event=event)) + "\n")
            self.events.flush()

    def keep(self, envelope, data):
        self.sequence += 1
        stem = os.path.join(self.path, "%06d" % self.sequence)
        with open(stem + ".eml", "wb") as f:
            f.write(data)
        envelope = dict(envelope, sequence=self.sequence,
                        data=os.path.basename(stem + ".eml"))
        with open(stem + ".json.tmp", "w") as f:
            json.dump(envelope, f)
        os.rename(stem + ".json.tmp", stem + ".json")
        self.event(envelope["connection"], "accepted",
                   sequence=self.sequence)


@implementer(smtp.IMessage)
class ReceivedMessage:
    def __init__(self, server, envelope):
        self.server = server
        self.envelope = envelope
        self.lines = []

    def lineReceived(self, line):
        self.lines.append(line)

    def eomReceived(self):
        delay = self.server.factory.data_delay
        if not delay:
            return defer.maybeDeferred(self._keep)
        return task.deferLater(reactor, delay, self._keep)

    def _keep(self):
        if self.server.lost:
            return
        refused = self.server.factory.refuse_data
        if refused & {address.lower()
                      for address in self.envelope["rcpt_to"]}:
            self.server.spool.event(self.envelope["connection"],
                                    "data refused")
            # Twisted answers 550 to a message that failed.
            raise smtp.SMTPServerError(550, "refused by --refuse-data")
        self.server.spool.keep(self.envelope, b"".join(
            line + b"\r\n" for line in self.lines))

    def connectionLost(self):
        self.lines = None


@implementer(smtp.IMessageDelivery)
class Delivery:
    """Accepts every sender, and every recipient not in `refused`.

    `user` is who authenticated, if anyone.
    """

    def __init__(self, refused, user=None):
        self.refused = refused
        self.user = user

    def receivedHeader(self, helo, origin, recipients):
        return ("Received: from %s ([%s]) by mirrorkeeper-test-smtpd"
                % (helo[0].decode("ascii", "replace"),
                   helo[1].decode("ascii", "replace"))).encode("ascii")

    def validateFrom(self, helo, origin):
        return origin

    def validateTo(self, user):
        address = str(user.dest)
        if address.lower() in self.refused:
            raise smtp.SMTPBadRcpt(
                user, code=550, resp="5.1.1 <%s>: no such mailbox" % address)
        # Never called: the protocol makes one message per transaction.
        return lambda: None


@implementer(IRealm)
class Realm:
    def __init__(self, refused):
        self.refused = refused

    def requestAvatar(self, avatarId, mind, *interfaces):
        if smtp.IMessageDelivery not in interfaces:
            raise NotImplementedError(interfaces)
        user = avatarId.decode() if isinstance(avatarId, bytes) else avatarId
        return (smtp.IMessageDelivery, Delivery(self.refused, user),
                lambda: None)


class KeepingESMTP(smtp.ESMTP):
    """ESMTP that stores each transaction once, with all its recipients,
    and logs what happens on the connection.

    (Twisted's own SMTP makes one message per recipient.)
    """

    spool = None
    number = None
    lost = False
    _quit_answer = None

    def state_COMMAND(self, line):
        parts = line.split(None, 1)
        verb = parts[0].decode("ascii", "replace").upper() if parts else ""
        self.spool.event(self.number, "command", verb=verb)
        return smtp.ESMTP.state_COMMAND(self, line)

    def do_DATA(self, rest):
        if self._from is not None and self._to:
            envelope = {
                "mail_from": str(self._from),
                "rcpt_to": [str(user.dest) for user, _ in self._to],
                "authenticated_as": getattr(self.delivery, "user", None),
                "tls": bool(self.startedTLS),
                "connection": self.number,
            }
            first_user = self._to[0][0]
            self._to = [(first_user,
                         lambda: ReceivedMessage(self, envelope))]
        return smtp.ESMTP.do_DATA(self, rest)

    def do_QUIT(self, rest):
        delay = self.factory.quit_delay
        if not delay:
            return smtp.ESMTP.do_QUIT(self, rest)
        self._quit_answer = reactor.callLater(delay, self._answer_quit, rest)

    def _answer_quit(self, rest):
        self._quit_answer = None
        self.spool.event(self.number, "quit answered")
        smtp.ESMTP.do_QUIT(self, rest)

    def connectionLost(self, reason):
        self.lost = True
        if self._quit_answer is not None:
            self._quit_answer.cancel()
            self._quit_answer = None
        self.spool.event(self.number, "lost")
        return smtp.ESMTP.connectionLost(self, reason)


class Factory(protocol.ServerFactory):
    def __init__(self, spool, refused, tls, portal, quit_delay=0,
                 data_delay=0, refuse_data=()):
        self.spool = spool
        self.refused = refused
        self.tls = tls
        self.portal = portal
        self.quit_delay = quit_delay
        self.data_delay = data_delay
        self.refuse_data = set(refuse_data)
        self.connections = 0

    def buildProtocol(self, addr):
        challengers = {}
        if self.portal is not None:
            challengers = {b"PLAIN": PLAINCredentials,
                           b"LOGIN": LOGINCredentials}
        server = KeepingESMTP(challengers, self.tls)
        server.host = b"mirrorkeeper-test-smtpd"
        server.spool = self.spool
        server.factory = self
        self.connections += 1
        server.number = self.connections
        self.spool.event(server.number, "connected")
        server.noisy = False
        if self.portal is not None:
            # Senders must authenticate: anonymous login is refused.
            server.portal = self.portal
        else:
            server.delivery = Delivery(self.refused)
        return server


class StopWhenStdinCloses(protocol.Protocol):
    def connectionLost(self, reason):
        if reactor.running:
            reactor.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("spool")
    parser.add_argument("--tls")
    parser.add_argument("--login")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--remove-on-exit")
    parser.add_argument("--events")
    parser.add_argument("--quit-delay", type=float, default=0)
    parser.add_argument("--data-delay", type=float, default=0)
    parser.add_argument("--refuse-data", action="append", default=[])
    options = parser.parse_args()

    spool = Spool(options.spool, options.events)
    refused = {address.lower() for address in options.refuse}
    tls = None
    if options.tls:
        with open(options.tls, "rb") as f:
            tls = ssl.PrivateCertificate.loadPEM(f.read()).options()
    portal = None
    if options.login:
        user, password = options.login.split(":", 1)
        checker = InMemoryUsernamePasswordDatabaseDontUse(
            **{user: password.encode()})
        portal = Portal(Realm(refused), [checker])

    factory = Factory(spool, refused, tls, portal, options.quit_delay,
                      options.data_delay,
                      {address.lower() for address in options.refuse_data})
    endpoint = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")

    def listening(port):
        sys.stdout.write("PORT %d\n" % port.getHost().port)
        sys.stdout.flush()

    def failed(reason):
        sys.stderr.write("cannot listen: %s\n" % reason.getErrorMessage())
        reactor.stop()

    endpoint.listen(factory).addCallbacks(listening, failed)
    stdio.StandardIO(StopWhenStdinCloses())
    reactor.run()
    if options.remove_on_exit:
        # The test process may have been killed before it could clean up.
        shutil.rmtree(options.remove_on_exit, ignore_errors=True)


if __name__ == "__main__":
    main()
