"""The outbox: mail written in a transaction, delivered after it commits.

Whatever decides to send mail (disabling a mirror, say) queues the message
in the same transaction as the change it reports.  A change that is rolled
back sends nothing; a committed one loses nothing when the SMTP server is
down, since the message waits here until `deliver_pending` succeeds.
"""

import email
import email.policy

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
    """Queue an email.message.EmailMessage for delivery after commit."""
    store.add(OutboxMessage(message))


def pending(store):
    """The messages not yet delivered that are still worth trying."""
    return store.find(OutboxMessage, OutboxMessage.date_sent == None,  # noqa
                      OutboxMessage.attempts < MAX_ATTEMPTS).order_by(
                          OutboxMessage.id)


def deliver_pending(store, delivery):
    """Send every pending message through `delivery` (an IMailDelivery),
    committing after each one so none is ever sent twice; return
    (sent, failed) counts.  A failure is recorded on the message and the
    rest are still tried."""
    from mirrorkeeper.interfaces.mail import MailDeliveryError
    sent = failed = 0
    for outgoing in list(pending(store)):
        outgoing.attempts += 1
        try:
            delivery.send(outgoing.as_message())
        except MailDeliveryError as error:
            outgoing.last_error = str(error)
            failed += 1
        else:
            outgoing.date_sent = utcnow()
            outgoing.last_error = None
            sent += 1
        store.commit()
    return sent, failed
