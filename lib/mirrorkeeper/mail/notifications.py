"""The messages mirrorkeeper sends about mirrors.

Composing a message is a pure function of plain values; queueing it is the
only step that touches the database (see mirrorkeeper.mail.outbox).
"""

import textwrap
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from mirrorkeeper.config import load_config
from mirrorkeeper.mail.outbox import queue

# How much of a probe log a notification quotes; the whole log stays with
# the mirror's probe records.
LOG_LINES_QUOTED = 20


def mirror_disabled_message(sender, recipient, reason, distribution_name,
                            mirror_name, mirror_title, mirror_url, log,
                            site_name="mirrorkeeper"):
    """The message telling `recipient` ((display name, address)) that a
    mirror was disabled; `reason` says why they receive it."""
    quoted = log.splitlines()[:LOG_LINES_QUOTED]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(recipient)
    message["Subject"] = "%s: the %s mirror %s has been disabled" % (
        site_name, distribution_name, mirror_name)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message["X-Mirrorkeeper-Mirror"] = mirror_name
    lines = [
        "Dear %s," % (recipient[0],),
        "",
        textwrap.fill(
            "The %s mirror %s (%s) has been disabled: the last probe found "
            "it missing the content it is expected to carry."
            % (distribution_name, mirror_title, mirror_url), 72,
            break_on_hyphens=False, break_long_words=False),
        "",
        textwrap.fill(
            "Once the mirror carries that content again, the next probe "
            "enables it again.  The first lines of the probe's log follow; "
            "the full log is kept with the mirror's probe records.", 72),
        "",
    ]
    lines += ["    " + line for line in quoted] or ["    (the log is empty)"]
    lines += ["", "You receive this message %s." % (reason,), "",
              "-- ", site_name]
    message.set_content("\n".join(lines) + "\n")
    return message


def _domain_of(sender):
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


def queue_mirror_disabled(store, mirror, log, config=None):
    """Queue the mirror-disabled message for the mirror's owner and for each
    of its distribution's mirror admins: one message per recipient, each
    recipient once."""
    config = config or load_config()
    sender = config.get("mail", "from_address")
    site_name = config.get("mail", "site_name")
    distribution = mirror.distribution
    recipients = [(recipient, "as the owner of the mirror %s" % mirror.name)
                  for recipient in mirror.owner.recipients()]
    for recipient in distribution.mirror_admin.recipients():
        if recipient not in [known for known, _ in recipients]:
            recipients.append((
                recipient, "as a mirror admin of %s"
                % (distribution.display_name,)))
    for recipient, reason in recipients:
        queue(store, mirror_disabled_message(
            sender, recipient, reason, distribution.display_name,
            mirror.name, mirror.title, mirror.base_url, log, site_name))
    return [recipient for recipient, _ in recipients]
