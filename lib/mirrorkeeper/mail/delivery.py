"""Delivering mail over SMTP (smtplib, synchronous)."""

import smtplib
import socket
import ssl
from email.utils import getaddresses

from zope.interface import implementer

from mirrorkeeper.interfaces.mail import IMailDelivery, MailDeliveryError

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
        sender = self.sender or _sender(message)
        recipients = envelope_recipients(message)
        subject = message.get("Subject", "")
        if not sender:
            raise MailDeliveryError(
                "cannot send %r: the message has no From address" % subject)
        if not recipients:
            raise MailDeliveryError(
                "cannot send %r: the message has no To, Cc or Bcc address"
                % subject)
        where = "SMTP server %s:%d" % (self.host, self.port)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                              local_hostname=self.local_hostname) as client:
                self._prepare(client)
                refused = client.send_message(message, sender, recipients)
        except smtplib.SMTPRecipientsRefused as error:
            raise MailDeliveryError(
                "%s refused every recipient: %s" % (
                    where, _describe(error.recipients)),
                refused=error.recipients) from error
        except smtplib.SMTPSenderRefused as error:
            raise MailDeliveryError("%s refused the sender %s: %d %s" % (
                where, sender, error.smtp_code, _text(error.smtp_error))
            ) from error
        except smtplib.SMTPAuthenticationError as error:
            raise MailDeliveryError(
                "%s refused the login of %r: %d %s" % (
                    where, self.username, error.smtp_code,
                    _text(error.smtp_error))) from error
        except smtplib.SMTPNotSupportedError as error:
            raise MailDeliveryError("%s: %s" % (where, error)) from error
        except smtplib.SMTPResponseException as error:
            raise MailDeliveryError("%s answered %d %s" % (
                where, error.smtp_code, _text(error.smtp_error))) from error
        except ssl.SSLError as error:
            raise MailDeliveryError(
                "TLS with %s failed: %s" % (where, error)) from error
        except (smtplib.SMTPException, OSError) as error:
            # Refused or reset connections, timeouts, unknown host names.
            raise MailDeliveryError("cannot reach %s: %s" % (
                where, _reason(error))) from error
        if refused:
            delivered = [r for r in recipients if r not in refused]
            raise MailDeliveryError(
                "%s refused %s; delivered to %s" % (
                    where, _describe(refused), ", ".join(delivered)),
                refused=refused, delivered=delivered)

    def _prepare(self, client):
        client.ehlo_or_helo_if_needed()
        if self.starttls:
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    "STARTTLS was asked for but the server does not offer it")
            context = self.ssl_context or ssl.create_default_context()
            client.starttls(context=context)
            client.ehlo()
        if self.username is not None:
            client.login(self.username, self.password)


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
