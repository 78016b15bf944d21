"""Delivering mail over SMTP (smtplib, synchronous)."""

import smtplib
import socket
import ssl
from email.utils import getaddresses

from zope.interface import implementer

from mirrorkeeper.interfaces.mail import (
    IMailDelivery, IMailSession, MailDeliveryError)

__all__ = ["SMTPMailDelivery", "envelope_recipients"]


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

    def send(self, message):
        """See IMailDelivery."""
        with self.session() as session:
            session.send(message)

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

    def send(self, message):
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
            refused = self._client.send_message(message, sender, recipients)
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

    def close(self):
        """See IMailSession."""
        client, self._client = self._client, None
        if client is not None:
            _hang_up(client, self._delivery.quit_timeout)

    def _drop(self):
        client, self._client = self._client, None
        if client is not None:
            client.close()


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
    if isinstance(error, socket.timeout):
        return "timed out"
    return str(error) or error.__class__.__name__
