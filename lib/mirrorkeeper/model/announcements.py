"""Telling mirrors a release is coming: a mirror admin's message to the
owner of every approved mirror of a distribution.

MirrorManager's requirements: "sites notified by email that a new
Release is available" on the master, so that they start syncing at once
rather than at their next regular sync.  `announce` queues one message
per recipient through the outbox (mirrorkeeper.mail.outbox), each
recipient once however many mirrors they own, in the caller's
transaction, and records what was sent: by whom, when, the subject and
the text, to how many.  The recipients are the owners of the approved
mirrors (mirrorkeeper.model.tiers.approved).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import attrs
from storm.locals import Desc, DateTime, Int, Reference, Storm, Unicode

from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.mail.outbox import queue
from mirrorkeeper.model.distributionmirror import DistributionMirror
from mirrorkeeper.model.person import Person
from mirrorkeeper.model.tiers import approved
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import valid_text

__all__ = ["MirrorAnnouncement", "announce", "announcements",
           "announcement_message", "MAX_SUBJECT", "MAX_BODY"]

MAX_SUBJECT = 200
MAX_BODY = 20000


class MirrorAnnouncement(Storm):
    __storm_table__ = "mirror_announcement"

    id = Int(primary=True)
    distribution_id = Int(name="distribution", allow_none=False)
    distribution = Reference(distribution_id, "Distribution.id")
    sender_id = Int(name="sender")
    sender = Reference(sender_id, Person.id)
    date_sent = DateTime(allow_none=False)
    subject = Unicode(allow_none=False)
    body = Unicode(allow_none=False)
    recipients = Int(allow_none=False)


@attrs.frozen
class AnnouncementView:
    """A past announcement as the pages show it."""

    date_sent: object
    sender: str
    subject: str
    body: str
    recipients: int


def announcement_message(sender, recipient, reply_to, distribution_name,
                         subject, body, mirrors, admin_name,
                         site_name="mirrorkeeper"):
    """The message to `recipient` ((display name, address)), owner of
    `mirrors` (names), from the mirror admin `admin_name` whose address
    `reply_to` ((display name, address), or None) answers go to."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(recipient)
    if reply_to is not None:
        message["Reply-To"] = formataddr(reply_to)
    message["Subject"] = "%s: %s" % (distribution_name, subject)
    message["Message-ID"] = make_msgid(
        domain=sender.rsplit("@", 1)[-1].rstrip(">") or "localhost")
    message["X-Mirrorkeeper-Announcement"] = distribution_name
    lines = [body.rstrip(), "",
             "-- ",
             "Sent by %s, a mirror admin of %s, to the owner of every "
             "approved mirror of %s; you receive it as the owner of %s."
             % (admin_name, distribution_name, distribution_name,
                ", ".join(mirrors)),
             site_name]
    message.set_content("\n".join(lines) + "\n")
    return message


def announce(store, distribution, sender, subject, body, settings):
    """Queue `subject` and `body` from `sender` (a Person, a mirror admin
    the caller has checked) to the owners of `distribution`'s approved
    mirrors, one message per recipient, and record it; uncommitted.
    `settings`: a mirrorkeeper.mail.notifications.MailSettings.  Return
    the MirrorAnnouncement.

    @raise InvalidValueError: on "subject" or "body", empty or too long.
    """
    subject = valid_text(subject, "subject", MAX_SUBJECT) or ""
    body = valid_text(body, "body", MAX_BODY, multiline=True) or ""
    if not subject:
        raise InvalidValueError("give the announcement a subject", "subject")
    if not body:
        raise InvalidValueError("say something in the announcement", "body")
    mirrors_of = {}
    for mirror in store.find(
            DistributionMirror, *approved(
                DistributionMirror.distribution_id == distribution.id)
            ).order_by(DistributionMirror.name):
        for recipient in mirror.owner.recipients():
            mirrors_of.setdefault(recipient, []).append(mirror.name)
    reply_to = sender.recipients()
    for recipient, names in mirrors_of.items():
        queue(store, announcement_message(
            settings.sender, recipient, reply_to[0] if reply_to else None,
            distribution.display_name, subject, body, names,
            sender.display_name, settings.site_name))
    record = MirrorAnnouncement()
    record.distribution_id = distribution.id
    record.sender_id = sender.id
    record.date_sent = utcnow()
    record.subject = subject
    record.body = body
    record.recipients = len(mirrors_of)
    store.add(record)
    store.flush()
    return record


def announcements(store, distribution):
    """The AnnouncementViews of `distribution`, newest first."""
    rows = store.find(
        MirrorAnnouncement,
        MirrorAnnouncement.distribution_id == distribution.id).order_by(
        Desc(MirrorAnnouncement.date_sent), Desc(MirrorAnnouncement.id))
    return [AnnouncementView(
        row.date_sent, row.sender.display_name if row.sender else "someone",
        row.subject, row.body, row.recipients) for row in rows]
