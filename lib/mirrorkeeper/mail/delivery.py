"""Delivering mail over SMTP (smtplib, synchronous).

MAIL, RCPT and the greeting are smtplib's; the DATA phase is done here on
smtplib's primitives (putcmd, getreply, send), so that a caller can act
between the last line of a message and the final "." that hands it over
(see IMailSession.send).
"""

import copy
import email.generator
import io
import re
import smtplib
import socket
import ssl
from email.utils import getaddresses

from zope.interface import implementer

from mirrorkeeper.interfaces.mail import (
    IMailDelivery, IMailSession, MailDeliveryError, MailDeliveryInDoubt)

__all__ = ["SMTPMailDelivery", "delivery_from_config",
           "envelope_recipients"]


def envelope_recipients(message):
    """The addresses in To, Cc and Bcc, in that order, each once."""
    seen = set()
    recipients = []
    values = [str(value) for header in ("To", "Cc", "Bcc")
              for value in message.get_all(header, [])]
    for _, address in getaddresses(values):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def _sender(message):
    values = [str(value) for value in message.get_all("From", [])]
    for _, address in getaddresses(values):
        if address:
            return address
    return None


@implementer(IMailDelivery)
class SMTPMailDelivery:
    """IMailDelivery to an SMTP server (a local MTA or a smarthost).

    starttls: upgrade the connection with STARTTLS before anything else,
    verifying the server's certificate against `ssl_context` (by default,
    the system's trusted authorities). username/password: authenticate
    (smtplib picks CRAM-MD5, PLAIN or LOGIN from what the server offers);
    only over STARTTLS unless allow_plaintext_login is set. sender: the
    envelope sender (a bounce address) instead of the From address.
    """

    # A mail server answers each command within seconds; a minute covers a
    # slow smarthost without letting a dead one hold a cron job for long.
    timeout = 60
    # Once every message is handed over, nothing depends on the answer to
    # QUIT: a server slow to give it costs the run at most this long.
    quit_timeout = 5

    def __init__(self, host, port=25, timeout=None, starttls=False,
                 username=None, password=None, ssl_context=None,
                 sender=None, local_hostname=None,
                 allow_plaintext_login=False):
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        if username is not None and not (starttls or allow_plaintext_login):
            raise ValueError(
                "refusing to send a password without STARTTLS; pass "
                "starttls=True (or allow_plaintext_login=True)")
        self.host = host
        self.port = port
        if timeout is not None:
            self.timeout = timeout
        self.starttls = starttls
        self.username = username
        self.password = password
        self.ssl_context = ssl_context
        self.sender = sender
        self.local_hostname = local_hostname

    @property
    def description(self):
        return "SMTP %s:%d%s" % (self.host, self.port,
                                 " (STARTTLS)" if self.starttls else "")

    def send(self, message, before_commit_point=None):
        """See IMailDelivery."""
        with self.session() as session:
            session.send(message, before_commit_point)

    def session(self):
        """See IMailDelivery."""
        return _SMTPSession(self)

    def _connect(self):
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                              local_hostname=self.local_hostname)
        try:
            client.ehlo_or_helo_if_needed()
            if self.starttls:
                if not client.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        "STARTTLS was asked for but the server does not "
                        "offer it")
                context = self.ssl_context or ssl.create_default_context()
                client.starttls(context=context)
                client.ehlo()
            if self.username is not None:
                client.login(self.username, self.password)
        except BaseException:
            _hang_up(client, self.quit_timeout)
            raise
        return client


# After these the server is still in the conversation and smtplib has reset
# the transaction (RSET): the next message can use the same connection.
_TRANSACTION_ERRORS = (smtplib.SMTPRecipientsRefused,
                       smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@implementer(IMailSession)
class _SMTPSession:
    """One SMTP connection, opened for the first message and kept for the
    next ones; opened again after a failure that broke it."""

    def __init__(self, delivery):
        self._delivery = delivery
        self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def send(self, message, before_commit_point=None):
        """See IMailSession."""
        delivery = self._delivery
        sender = delivery.sender or _sender(message)
        recipients = envelope_recipients(message)
        subject = message.get("Subject", "")
        if not sender:
            raise MailDeliveryError(
                "cannot send %r: the message has no From address" % subject)
        if not recipients:
            raise MailDeliveryError(
                "cannot send %r: the message has no To, Cc or Bcc address"
                % subject)
        where = "SMTP server %s:%d" % (delivery.host, delivery.port)
        try:
            if self._client is None:
                self._client = delivery._connect()
            # Returns once the server has answered the end of DATA.
            refused = self._transaction(message, sender, recipients,
                                        before_commit_point)
        except _HookFailed as failed:
            # The final "." was not sent: the server discards the message
            # when the connection goes.
            self._drop()
            raise failed.__cause__
        except _InDoubt as doubt:
            self._drop()
            raise MailDeliveryInDoubt(
                "%s was handed all of %r but did not answer its end (%s): "
                "it may or may not have taken the message" % (
                    where, subject, _reason(doubt.__cause__))) from doubt
        except Exception as error:
            if not isinstance(error, _TRANSACTION_ERRORS) or (
                    getattr(error, "smtp_code", None) == 421):
                self._drop()
            failure = _failure(error, where, sender, delivery.username)
            if failure is None:
                raise
            raise failure from error
        if refused:
            delivered = [r for r in recipients if r not in refused]
            raise MailDeliveryError(
                "%s refused %s; delivered to %s" % (
                    where, _describe(refused), ", ".join(delivered)),
                refused=refused, delivered=delivered)

    def _transaction(self, message, sender, recipients, before_commit_point):
        """MAIL, RCPT and DATA for one message; returns the refused
        recipients ({address: (code, reply)}) once the server has answered
        250 to the end of DATA.

        Raises smtplib's exceptions (the server is left ready for the next
        transaction, unless it said 421), _HookFailed if
        before_commit_point raised, and _InDoubt if anything went wrong
        between before_commit_point and the server's answer to the final
        ".".
        """
        client = self._client
        data, options = _wire_form(client, message, sender, recipients)
        code, reply = client.mail(sender, options)
        if code != 250:
            self._abandon(code)
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
            if code == 421:
                self._abandon(code)
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            self._abandon(code)
            raise smtplib.SMTPRecipientsRefused(refused)
        client.putcmd("data")
        code, reply = client.getreply()
        if code != 354:
            self._abandon(code)
            raise smtplib.SMTPDataError(code, reply)
        # Everything but the final ".": the server holds it, waiting, and
        # takes nothing over until that line comes.
        client.send(_data_lines(data))
        if before_commit_point is not None:
            try:
                before_commit_point()
            except BaseException as error:
                raise _HookFailed() from error
        # From here until a clear answer, the server may or may not have
        # the message.
        try:
            client.send(b".\r\n")
            code, reply = client.getreply()
        except (smtplib.SMTPException, OSError) as error:
            raise _InDoubt() from error
        if 400 <= code < 600:
            # It said no: it does not have the message.
            self._abandon(code)
            raise smtplib.SMTPDataError(code, reply)
        if not 200 <= code < 300:
            # Not an answer (smtplib says -1 for a line it cannot read).
            raise _InDoubt() from smtplib.SMTPResponseException(code, reply)
        return refused

    def _abandon(self, code):
        """End a transaction that failed: RSET, so that the connection can
        carry the next message, unless the server is closing it (421)."""
        if code == 421:
            self._drop()
            return
        try:
            self._client.rset()
        except (smtplib.SMTPException, OSError):
            pass

    def close(self):
        """See IMailSession."""
        client, self._client = self._client, None
        if client is not None:
            _hang_up(client, self._delivery.quit_timeout)

    def _drop(self):
        client, self._client = self._client, None
        if client is not None:
            client.close()


class _HookFailed(Exception):
    """before_commit_point raised (the exception is the __cause__)."""


class _InDoubt(Exception):
    """The final "." may have reached the server, whose answer never came
    (what went wrong is the __cause__)."""


def _wire_form(client, message, sender, recipients):
    """The message as bytes to send (without its Bcc headers), and the
    MAIL FROM options it needs."""
    outgoing = copy.copy(message)
    del outgoing["Bcc"]
    del outgoing["Resent-Bcc"]
    options = []
    policy = outgoing.policy
    if not all(address.isascii() for address in [sender, *recipients]):
        if not client.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "an address is not ASCII and the server does not offer "
                "SMTPUTF8")
        options += ["SMTPUTF8", "BODY=8BITMIME"]
        policy = policy.clone(utf8=True)
    with io.BytesIO() as buffer:
        email.generator.BytesGenerator(buffer, policy=policy).flatten(
            outgoing, linesep="\r\n")
        data = buffer.getvalue()
    if client.has_extn("size"):
        options.append("SIZE=%d" % len(data))
    return data, options


_LINE_END = re.compile(rb"\r\n|\r|\n")


def _data_lines(data):
    """`data` as the lines of a DATA section, without its final ".": each
    line ended by CRLF (whatever ended it before), and a line that starts
    with "." given another one in front (RFC 5321, 4.5.2), so that no line
    of the message reads as its end."""
    lines = _LINE_END.split(data)
    if lines[-1] == b"":
        # data ended with a line ending: no unterminated last line.
        lines.pop()
    return b"".join(
        (b"." if line[:1] == b"." else b"") + line + b"\r\n"
        for line in lines)


def _hang_up(client, timeout):
    """QUIT, waiting at most `timeout` for the answer, and close: what the
    server says no longer matters."""
    try:
        if client.sock is not None:
            client.sock.settimeout(min(timeout, client.timeout))
            client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _failure(error, where, sender, username):
    """The MailDeliveryError for what smtplib or the network raised, or
    None for anything else."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return MailDeliveryError(
            "%s refused every recipient: %s" % (
                where, _describe(error.recipients)),
            refused=error.recipients)
    if isinstance(error, smtplib.SMTPSenderRefused):
        return MailDeliveryError("%s refused the sender %s: %d %s" % (
            where, sender, error.smtp_code, _text(error.smtp_error)))
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return MailDeliveryError("%s refused the login of %r: %d %s" % (
            where, username, error.smtp_code, _text(error.smtp_error)))
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return MailDeliveryError("%s: %s" % (where, error))
    if isinstance(error, smtplib.SMTPResponseException):
        return MailDeliveryError("%s answered %d %s" % (
            where, error.smtp_code, _text(error.smtp_error)))
    if isinstance(error, ssl.SSLError):
        return MailDeliveryError("TLS with %s failed: %s" % (where, error))
    if isinstance(error, (smtplib.SMTPException, OSError)):
        # Refused or reset connections, timeouts, unknown host names.
        return MailDeliveryError("cannot reach %s: %s" % (
            where, _reason(error)))
    return None


def _text(reply):
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def _describe(refused):
    return ", ".join("%s (%d %s)" % (address, code, _text(reply))
                     for address, (code, reply) in refused.items())


def _reason(error):
    # smtplib turns a timeout waiting for a reply into "Connection
    # unexpectedly closed: timed out".
    if isinstance(error, socket.timeout) or isinstance(
            error.__context__, socket.timeout):
        return "timed out"
    return str(error) or error.__class__.__name__


def delivery_from_config(config):
    """The SMTPMailDelivery of the configuration's [mail] server."""
    return SMTPMailDelivery(config.get("mail", "smtp_host"),
                            config.getint("mail", "smtp_port"))
