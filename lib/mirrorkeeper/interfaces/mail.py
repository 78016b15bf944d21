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


class MailDeliveryInDoubt(MailDeliveryError):
    """The server was handed the whole message, its final "." included,
    and then said nothing (the connection broke or the answer timed out).

    It may or may not have taken the message over: sending it again could
    send it twice.  Only raised after before_commit_point (see
    IMailSession.send) has returned.
    """


class IMailDelivery(Interface):
    """Hands finished messages to a mail server.

    Composing a message is someone else's job; this only delivers it.
    Delivery is synchronous: call it after the database work is done (it
    may block for up to its timeout), never from the reactor thread.
    """

    description = Attribute(
        "Where mail goes, for logs: e.g. 'SMTP 127.0.0.1:25'.")

    def send(message, before_commit_point=None):
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

        before_commit_point is as for IMailSession.send.

        One message, one connection: to send several, use session().
        """

    def session():
        """An IMailSession: one conversation with the server, for sending
        messages one at a time; use it as a context manager (or call its
        close())."""


class IMailSession(Interface):
    """One conversation with a mail server, sending message after message.

    The connection is opened for the first message and kept for the next
    ones (and opened again after a failure that broke it).  Each send()
    lets its caller record, just before the final "." of DATA, that the
    message is being sent (before_commit_point), and returns as soon as
    the server has accepted it, so that the caller can record it as sent
    before anything else is said: before the next message, and before
    QUIT.  A crash between the two leaves a record of the one message the
    server may or may not have.
    """

    def send(message, before_commit_point=None):
        """Deliver `message` as IMailDelivery.send does; returns None once
        the server has answered 250 to the end of its DATA, which is the
        moment it takes the message over.  Raises MailDeliveryError as
        IMailDelivery.send does; when its `delivered` is not empty, the
        server did take the message over, for those recipients.

        before_commit_point, if given, is called with no argument once the
        server has answered 354 to DATA and has been sent every line of
        the message but the final ".": the last moment at which the
        server certainly does not have it.  The "." is sent when it
        returns; if it raises, the "." is never sent, the connection is
        dropped (so the server discards what it was given) and its
        exception propagates.  Between its return and the server's answer
        to the ".", the message is in doubt: a caller that records there
        that it is being sent (and commits) knows, after a crash, which
        message the server may or may not have.

        A clear answer to the "." other than 250 (4xx, 5xx) raises
        MailDeliveryError: the server does not have the message.  No
        answer at all (the connection broke, the timeout passed) raises
        MailDeliveryInDoubt."""

    def close():
        """End the conversation (QUIT, waiting a few seconds at most for
        the answer, which no longer matters); safe to call twice."""
