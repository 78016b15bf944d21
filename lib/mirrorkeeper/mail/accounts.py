"""The messages about a person's own account: verify the address given at
sign-up, an account already has this address, reset a password.

Each is a pure function of plain values (mirrorkeeper.mail.notifications
has the same shape): `settings` is a MailSettings, `recipient` is
(display name, address), and links are absolute, made by the caller from
the site's URL.  The web (web.accounts) queues them in the transaction
that makes the token they carry.
"""

import textwrap
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

__all__ = ["already_registered_message", "password_reset_message",
           "verification_message"]

WIDTH = 72


def _paragraph(text):
    return textwrap.fill(" ".join(text.split()), WIDTH,
                         break_on_hyphens=False, break_long_words=False)


def _message(settings, recipient, subject, paragraphs):
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr(recipient)
    message["Subject"] = "%s: %s" % (settings.site_name, subject)
    domain = settings.sender.rsplit("<", 1)[-1].rstrip(">").rsplit(
        "@", 1)[-1] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    lines = []
    for paragraph in paragraphs:
        # A link stands on a line of its own, never wrapped.
        lines += ["    " + paragraph[1:] if paragraph.startswith(">")
                  else _paragraph(paragraph), ""]
    lines += ["-- ", settings.site_name]
    message.set_content("\n".join(lines) + "\n")
    return message


def _hours(delta):
    hours = delta.total_seconds() / 3600
    return "%g hour%s" % (hours, "" if hours == 1 else "s")


def verification_message(settings, recipient, name, link, lifetime):
    """Follow `link` (for `lifetime`, a timedelta) to verify the address
    of the new account `name`."""
    return _message(settings, recipient, "confirm your address", [
        "Someone, probably you, signed up for an account called %s on %s "
        "with this address.  To confirm that it is yours, and be able to "
        "log in and register mirrors, open this link:"
        % (name, settings.site_name),
        ">" + link,
        "It works once, for %s.  If you did not sign up, do nothing: the "
        "account cannot be used without this link." % (_hours(lifetime),)])


def already_registered_message(settings, recipient, name, login_link,
                               reset_link):
    """Someone signed up with an address an account (`name`) already
    has: nothing was made; how to log in or reset the password."""
    return _message(settings, recipient, "you already have an account", [
        "Someone, probably you, tried to sign up on %s with this address. "
        "It already belongs to the account called %s, so no new account "
        "was made." % (settings.site_name, name),
        "To log in:",
        ">" + login_link,
        "If you forgot the password, have a new one set here:",
        ">" + reset_link,
        "If it was not you, do nothing: nothing has changed."])


def password_reset_message(settings, recipient, name, link, lifetime):
    """Follow `link` (for `lifetime`) to set a new password of `name`."""
    return _message(settings, recipient, "set a new password", [
        "Someone, probably you, asked to set a new password for the "
        "account called %s on %s.  To choose one, open this link:"
        % (name, settings.site_name),
        ">" + link,
        "It works once, for %s, and logs the account out everywhere.  If "
        "you did not ask, do nothing: your password stays as it is."
        % (_hours(lifetime),)])
