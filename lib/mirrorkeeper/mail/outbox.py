"""The outbox: mail written in a transaction, delivered after it commits.

Whatever decides to send mail (disabling a mirror, say) queues the message
in the same transaction as the change it reports.  A change that is rolled
back sends nothing; a committed one loses nothing when the SMTP server is
down, since the message waits here until `deliver_pending` succeeds.

What holds, whenever the delivering process is killed (kill -9 included):
a message is never sent twice.  Each message is committed as "being sent"
(date_sending) just before the final "." of its DATA goes to the server,
and as sent (date_sent) as soon as the server has answered 250 to it.  A
kill before the first commit leaves the message pending: the server never
had its end, so it discarded it, and the next run sends it.  A kill after
the second leaves it sent.  A kill between the two (while the server takes
the message over, which no SMTP client can learn about afterwards) leaves
it *in doubt*: the server may or may not have it.  A message in doubt is
never sent again by itself; it waits for a person, and every
`deliver_pending` reports it (a warning naming it, and the `in_doubt` of
what it returns).  The same holds when the connection breaks, or the
server's answer to the "." never comes, in that moment.

A person resolves a message in doubt by looking for its Message-ID in the
mail server's log (or asking its recipient), then either:

- the server does not have it: `resend(store, id)`, or in SQL
  ``UPDATE mail_outbox SET date_sending = NULL WHERE id = ID;`` (the next
  delivery sends it);
- the server has it: `mark_sent(store, id)`, or in SQL
  ``UPDATE mail_outbox SET date_sent = date_sending WHERE id = ID;``.

    SELECT id, date_sending, last_error FROM mail_outbox
     WHERE date_sending IS NOT NULL AND date_sent IS NULL;

lists them.
"""

import email
import email.policy
import logging
from collections import namedtuple
from email.utils import getaddresses, make_msgid

from storm.locals import DateTime, Int, Storm, Unicode

from mirrorkeeper.timeutil import utcnow

__all__ = ["DeliveryResult", "InDoubt", "MAX_ATTEMPTS", "OutboxMessage",
           "deliver_pending", "in_doubt", "mark_sent", "pending", "queue",
           "resend"]

# A message that failed this many times stays in the outbox for a person to
# look at, instead of being retried on every run forever.
MAX_ATTEMPTS = 10

_log = logging.getLogger("mirrorkeeper.mail.outbox")


class OutboxMessage(Storm):
    __storm_table__ = "mail_outbox"

    id = Int(primary=True)
    message = Unicode(allow_none=False)
    date_created = DateTime(allow_none=False)
    # Committed just before the final "." of the DATA: see the module
    # docstring.  With date_sent NULL, the message is in doubt.
    date_sending = DateTime()
    date_sent = DateTime()
    attempts = Int(allow_none=False)
    last_error = Unicode()

    def __init__(self, message):
        # Kept with plain newlines; sent as CRLF.
        self.message = message.as_string(policy=email.policy.default)
        self.date_created = utcnow()
        self.attempts = 0

    def as_message(self):
        return email.message_from_string(self.message,
                                         policy=email.policy.default)

    @property
    def is_in_doubt(self):
        return self.date_sending is not None and self.date_sent is None


def queue(store, message):
    """Queue an email.message.EmailMessage for delivery after commit.

    A message without a Message-ID is given one here, so that every copy a
    server may ever receive of it carries the same one, and a person can
    look a message in doubt up in the mail server's log.
    """
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=_domain_of(message))
    store.add(OutboxMessage(message))


def _domain_of(message):
    for _, address in getaddresses(
            [str(value) for value in message.get_all("From", [])]):
        if "@" in address:
            return address.rsplit("@", 1)[1]
    return "localhost"


def pending(store):
    """The messages not yet delivered that are still worth trying (not
    those in doubt: see in_doubt)."""
    return store.find(OutboxMessage, OutboxMessage.date_sent == None,  # noqa
                      OutboxMessage.date_sending == None,  # noqa
                      OutboxMessage.attempts < MAX_ATTEMPTS).order_by(
                          OutboxMessage.id)


def in_doubt(store):
    """The messages the server may or may not have (see the module
    docstring); never sent again until a person says so."""
    return store.find(OutboxMessage,
                      OutboxMessage.date_sending != None,  # noqa
                      OutboxMessage.date_sent == None).order_by(  # noqa
                          OutboxMessage.id)


def resend(store, outbox_id):
    """Let the next delivery send message `outbox_id`, in doubt, again: a
    person found that the server does not have it.  Does not commit."""
    _in_doubt_message(store, outbox_id).date_sending = None


def mark_sent(store, outbox_id):
    """Record message `outbox_id`, in doubt, as sent: a person found that
    the server has it.  Does not commit."""
    outgoing = _in_doubt_message(store, outbox_id)
    outgoing.date_sent = outgoing.date_sending


def _in_doubt_message(store, outbox_id):
    outgoing = store.get(OutboxMessage, outbox_id)
    if outgoing is None or not outgoing.is_in_doubt:
        raise ValueError("outbox message %r is not in doubt" % (outbox_id,))
    return outgoing


# What deliver_pending says of a message in doubt.
InDoubt = namedtuple("InDoubt", "id recipients subject message_id "
                                "date_sending")


class DeliveryResult(tuple):
    """(sent, failed), as deliver_pending has always returned, and
    `in_doubt`: an InDoubt for each message of the outbox in doubt after
    the run (made so by it or by an earlier one)."""

    def __new__(cls, sent, failed, in_doubt=()):
        result = super().__new__(cls, (sent, failed))
        result.in_doubt = list(in_doubt)
        return result

    @property
    def sent(self):
        return self[0]

    @property
    def failed(self):
        return self[1]


def deliver_pending(store, delivery, log=None):
    """Send every pending message through `delivery` (an IMailDelivery),
    over one session, and return a DeliveryResult: (sent, failed) counts,
    with the messages in doubt as its `in_doubt`.

    For each message, once the server has been given everything but the
    final "." of DATA, the attempt and date_sending are committed; then
    the "." is sent, and as soon as the server has answered 250, date_sent
    is committed, before the next message and before QUIT.  So a process
    killed at any moment never sends a message twice (see the module
    docstring): a message whose kill fell between those two commits is in
    doubt, neither sent again nor counted here as sent or failed.  So is
    one whose connection broke, or whose answer timed out, after its "."
    was sent.  Each message in doubt, from this run or an earlier one, is
    logged as a warning to `log` (by default the logger
    mirrorkeeper.mail.outbox) that says how a person resolves it.

    A failure is recorded on the message (and committed) and the rest are
    still tried; a refusal of the final "." (4xx, 5xx) is such a failure,
    the server having said it does not have the message.  A message some
    of whose recipients were refused went to the others: it is recorded
    as sent, with the refusal as its last error, and is never sent to
    anyone again.
    """
    from mirrorkeeper.interfaces.mail import (
        MailDeliveryError, MailDeliveryInDoubt)
    log = _log if log is None else log
    sent = failed = 0
    with delivery.session() as session:
        for outgoing in list(pending(store)):
            # Read again after the last commit: another process (the web
            # daemon and the prober both deliver) may have sent it since.
            if outgoing.date_sending is not None or \
                    outgoing.date_sent is not None:
                continue
            outgoing.attempts += 1

            def commit_point(outgoing=outgoing):
                _claim(store, outgoing)
                store.commit()

            try:
                session.send(outgoing.as_message(),
                             before_commit_point=commit_point)
            except _SentElsewhere:
                # Its final "." was not sent: the server drops it.
                store.rollback()
                continue
            except MailDeliveryInDoubt as error:
                outgoing.last_error = str(error)
            except MailDeliveryError as error:
                outgoing.last_error = str(error)
                if error.delivered:
                    outgoing.date_sent = utcnow()
                    sent += 1
                else:
                    # The server said no, or never got the final ".".
                    outgoing.date_sending = None
                    failed += 1
            else:
                outgoing.date_sent = utcnow()
                outgoing.last_error = None
                sent += 1
            store.commit()
    doubtful = [_describe(outgoing) for outgoing in in_doubt(store)]
    for message in doubtful:
        log.warning(
            "Outbox message %d (to %s, %r, Message-ID %s) may or may not "
            "have been delivered: its delivery stopped at %s, after the "
            "mail server was handed its end and before it said it had "
            "taken it. It is not sent again by itself. Look for its "
            "Message-ID in the mail server's log; if it is not there, "
            "send it again with the SQL: UPDATE mail_outbox SET "
            "date_sending = NULL WHERE id = %d; if it is, record it as "
            "sent with: UPDATE mail_outbox SET date_sent = date_sending "
            "WHERE id = %d;",
            message.id, ", ".join(message.recipients) or "nobody",
            message.subject, message.message_id,
            message.date_sending.strftime("%Y-%m-%d %H:%M:%S UTC"),
            message.id, message.id)
    return DeliveryResult(sent, failed, doubtful)


class _SentElsewhere(Exception):
    """Another process marked the message as being sent first."""


# What a database says when a transaction lost a race for a row to
# another one: PostgreSQL's serialization failure and deadlock, and
# SQLite's lock (a write from a read snapshot another writer changed).
_LOST_RACE = {"40001", "40P01"}


def _claim(store, outgoing):
    """Mark `outgoing` as being sent, in the current transaction, only if
    no other process did since it was read; else raise _SentElsewhere.
    One conditional UPDATE, so that of two processes delivering the same
    message at once exactly one sends it."""
    try:
        claimed = store.execute(
            "UPDATE mail_outbox SET date_sending = ? WHERE id = ? AND "
            "date_sending IS NULL AND date_sent IS NULL",
            (utcnow(), outgoing.id)).rowcount
    except Exception as error:
        code = getattr(error, "pgcode", None) or getattr(
            error.__cause__, "pgcode", None)
        if code in _LOST_RACE or "database is locked" in str(error):
            raise _SentElsewhere() from error
        raise
    if claimed != 1:
        raise _SentElsewhere()
    # The row changed under Storm: read it again when next asked.
    store.invalidate(outgoing)


def _describe(outgoing):
    from mirrorkeeper.mail.delivery import envelope_recipients
    message = outgoing.as_message()
    message_id = message["Message-ID"]
    return InDoubt(outgoing.id, envelope_recipients(message),
                   str(message.get("Subject", "")),
                   message_id.strip() if message_id is not None else None,
                   outgoing.date_sending)
