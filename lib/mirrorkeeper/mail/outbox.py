"""The outbox: mail written in a transaction, delivered after it commits.

Whatever decides to send mail (disabling a mirror, say) queues the message
in the same transaction as the change it reports.  A change that is rolled
back sends nothing; a committed one loses nothing when the SMTP server is
down, since the message waits here until `deliver_pending` succeeds.
"""

import email
import email.policy
from email.utils import getaddresses, make_msgid

from storm.locals import DateTime, Int, Storm, Unicode

from mirrorkeeper.timeutil import utcnow

# A message that failed this many times stays in the outbox for a person to
# look at, instead of being retried on every run forever.
MAX_ATTEMPTS = 10


class OutboxMessage(Storm):
    __storm_table__ = "mail_outbox"

    id = Int(primary=True)
    message = Unicode(allow_none=False)
    date_created = DateTime(allow_none=False)
    date_sent = DateTime()
    attempts = Int(allow_none=False)
    last_error = Unicode()

    def __init__(self, message):
        # Kept with plain newlines; smtplib sends them as CRLF.
        self.message = message.as_string(policy=email.policy.default)
        self.date_created = utcnow()
        self.attempts = 0

    def as_message(self):
        return email.message_from_string(self.message,
                                         policy=email.policy.default)


def queue(store, message):
    """Queue an email.message.EmailMessage for delivery after commit.

    A message without a Message-ID is given one here, so that every copy a
    server may ever receive of it (see deliver_pending) carries the same
    one.
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
    """The messages not yet delivered that are still worth trying."""
    return store.find(OutboxMessage, OutboxMessage.date_sent == None,  # noqa
                      OutboxMessage.attempts < MAX_ATTEMPTS).order_by(
                          OutboxMessage.id)


def deliver_pending(store, delivery):
    """Send every pending message through `delivery` (an IMailDelivery),
    over one session, and return (sent, failed) counts.

    Each message is committed as sent the moment the server has accepted
    it (its 250 to the end of DATA), before the next message is sent and
    before QUIT; nothing is batched.  So a process killed at any moment
    sends again only what the server had not accepted, with one exception
    that no SMTP client can close alone: a kill after the server's 250 and
    before our commit (the time of one commit) leaves the message pending,
    and the next run sends it again.  That copy carries the same
    Message-ID (given when it was queued), so a mail system or reader can
    recognise it as the same message.

    A failure is recorded on the message (and committed) and the rest are
    still tried.  A message some of whose recipients were refused went to
    the others: it is recorded as sent, with the refusal as its last error,
    and is never sent to anyone again.
    """
    from mirrorkeeper.interfaces.mail import MailDeliveryError
    sent = failed = 0
    with delivery.session() as session:
        for outgoing in list(pending(store)):
            outgoing.attempts += 1
            try:
                session.send(outgoing.as_message())
            except MailDeliveryError as error:
                outgoing.last_error = str(error)
                if error.delivered:
                    outgoing.date_sent = utcnow()
                    sent += 1
                else:
                    failed += 1
            else:
                outgoing.date_sent = utcnow()
                outgoing.last_error = None
                sent += 1
            store.commit()
    return sent, failed
