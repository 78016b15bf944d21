"""Sending the mail mirrorkeeper writes (to mirror owners and admins)."""

from zope.interface import Attribute, Interface

from mirrorkeeper.errors import MirrorKeeperError


class MailDeliveryError(MirrorKeeperError):
    """A message could not be handed to the mail server.

    The message names the server and what went wrong: unreachable, a refused
    sender or recipient, failed TLS or authentication. `refused` maps each
    recipient the server refused to its (code, reply); when it is not empty
    and `delivered` is not, the message did go to the recipients in
    `delivered`.
    """

    def __init__(self, message, refused=None, delivered=()):
        super().__init__(message)
        self.refused = dict(refused or {})
        self.delivered = list(delivered)


class IMailDelivery(Interface):
    """Hands finished messages to a mail server.

    Composing a message is someone else's job; this only delivers it.
    Delivery is synchronous: call it after the database work is done (it
    may block for up to its timeout), never from the reactor thread.
    """

    description = Attribute(
        "Where mail goes, for logs: e.g. 'SMTP 127.0.0.1:25'.")

    def send(message):
        """Deliver `message` (an email.message.EmailMessage); returns None.

        The envelope sender is the delivery's configured sender, or else
        the address in the message's From header. The envelope recipients
        are every address in the To, Cc and Bcc headers, each once; a Bcc
        header is not transmitted. The message is sent as it is: no header
        is added or changed.

        Raises MailDeliveryError, with a one-line message naming the server
        and the cause, if the message has no From or no recipients, if the
        server cannot be reached within the timeout, or if it refuses the
        sender, the message, or any recipient. When only some recipients
        are refused, the others have received the message; the error says
        which is which.
        """
